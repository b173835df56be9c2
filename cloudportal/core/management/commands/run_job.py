"""`python manage.py run_job NAME`: run one job of the beat schedule now, in this
process, and say what it did (the task's `job_done`); `--list` names them. For operators: a job that must
run at once (a sweep after a restore, the erasures after an outage), or any job
where no beat runs."""

from django.core.management.base import BaseCommand, CommandError

from cloudportal.jobs import job_run, jobs


class Command(BaseCommand):
    help = "Run a job of the beat schedule (CELERY_BEAT_SCHEDULE) now; --list names them."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the beat entry's name, e.g. retention-sweep")
        parser.add_argument("--list", action="store_true", help="list the jobs, their schedule and task")

    def handle(self, *args, name=None, list=False, **options):  # noqa: A002 - the option's name
        known = jobs()
        if list:
            width = max(len(n) for n in known)
            for job in known.values():
                self.stdout.write(f"{job.name:<{width}}  {job.every:<24}  {job.task}")
            return
        if not name:
            raise CommandError("Name a job (run_job --list names them).")
        if name not in known:
            raise CommandError(f"No job named {name!r}; the jobs are: {', '.join(known)}.")
        job = known[name]
        self.stdout.write(f"{name}: running {job.task} …")
        try:
            run = job_run(name=name)
        except Exception as exc:
            raise CommandError(f"{name} failed: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{name}: done in {run.seconds:.2f} s: {run.done}."))
