"""`runserver`, as WhiteNoise's (static files served by WhiteNoise), plus the embedded
schedule: with EMBEDDED_SCHEDULE on (the default without a broker, as under `make
run`), the beat schedule runs in a thread of the process that serves.

That process is found by where the command runs, not by guessing from the command
line: `on_bind` is called once the server's socket is bound, in the process that
serves requests (the autoreloader's child, or the only process with --noreload),
never in the autoreloader's parent, which only watches its child. Tests (a live
server thread) and other commands never run this command.

The schedule stops with the process, letting a job in progress finish: through
`atexit` when the autoreloader's child exits (a restart after a code change, SIGTERM,
Control-C), and when `inner_run` returns with --noreload. On Control-C the
autoreloader's parent kills its child a quarter of a second later (Django's own
behaviour, as for requests in progress): a job cut short there is rolled back with
its transaction, and runs again at the next start (a run counts once it is over).
"""

import atexit
import signal
import sys

from django.conf import settings
from whitenoise.runserver_nostatic.management.commands.runserver import Command as StaticFilesRunserver

from cloudportal.jobs import EmbeddedSchedule, jobs


class Command(StaticFilesRunserver):
    help = StaticFilesRunserver.help + " With EMBEDDED_SCHEDULE, also runs the beat schedule in this process."
    schedule: EmbeddedSchedule | None = None

    def run(self, **options):
        if not options["use_reloader"]:
            # What the autoreloader does for its child: SIGTERM ends the server cleanly.
            signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
        super().run(**options)

    def on_bind(self, server_port):
        super().on_bind(server_port)
        if settings.EMBEDDED_SCHEDULE and self.schedule is None:
            self.schedule = EmbeddedSchedule(state_path=settings.EMBEDDED_SCHEDULE_STATE)
            self.schedule.start()
            atexit.register(self.schedule.stop)
            self.stdout.write(
                f"The beat schedule runs in this process: {len(jobs())} jobs (python manage.py run_job --list)."
            )

    def inner_run(self, *args, **options):
        try:
            super().inner_run(*args, **options)
        finally:
            if self.schedule is not None:
                self.schedule.stop()
