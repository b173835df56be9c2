from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accesslogs.ingest import IngestError, rewinding, sessions_ingest
from accesslogs.models import Collector

SUFFIXES = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}


class Command(BaseCommand):
    help = (
        "Store sessions from CSV or NDJSON files, with the same rules as the ingest API. "
        "Each file is one batch: stored entirely, or not at all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--collector", required=True, help="Name of the collector the sessions come from.")
        parser.add_argument("--format", choices=["csv", "ndjson"], help="Default: from each file's extension.")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, collector: str, format: str | None, files: list[Path], **options):
        found = Collector.objects.filter(name=collector).first()
        if found is None:
            raise CommandError(f"No collector is named {collector!r}.")
        if found.revoked_at is not None:
            raise CommandError(f"Collector {collector!r} has been revoked.")
        refused = 0
        for path in files:
            fmt = format or SUFFIXES.get(path.suffix.lower())
            if fmt is None:
                raise CommandError(f"{path}: say --format csv or ndjson.")
            try:
                with path.open("rb") as stream:
                    result = sessions_ingest(collector=found, source=rewinding(stream), fmt=fmt)
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from None
            except IngestError as exc:
                refused += 1
                self.stderr.write(f"{path}: refused, nothing stored.")
                for error in exc.errors:
                    self.stderr.write(f"  line {error['line']}, {error['field'] or 'row'}: {error['message']}")
                continue
            self.stdout.write(f"{path}: {result.accepted} accepted, {result.duplicates} duplicates")
        if refused:
            raise CommandError(f"{refused} of {len(files)} files refused.")
