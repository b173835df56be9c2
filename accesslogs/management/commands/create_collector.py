from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accesslogs.services import collector_create


class Command(BaseCommand):
    help = "Create a collector allowed to report sessions, and print its token (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the equipment or relay, unique.")

    def handle(self, *args, name: str, **options):
        try:
            collector, token = collector_create(name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(f"Collector {collector.name!r} created. Its token, which will not be shown again:")
        self.stdout.write(token)
