"""After a backup is restored: erase again every account the erasure ledger names.

Reads the ledger file (ERASURE_LEDGER_PATH, or --ledger) and the ledger table, and
erases each account that is back, if its id and the hash of one of its addresses
match. Safe to run twice. Prints counts and account ids only."""

from django.core.management.base import BaseCommand

from erasure.ledger import LedgerLine, ledger_file_read
from erasure.models import ErasureLedgerEntry
from erasure.services import ledger_apply


class Command(BaseCommand):
    help = "Re-apply the erasure ledger after restoring a backup."

    def add_arguments(self, parser):
        parser.add_argument("--ledger", help="the ledger file (default: ERASURE_LEDGER_PATH)")

    def handle(self, *args, ledger=None, **options):
        from pathlib import Path

        lines = list(ledger_file_read(Path(ledger) if ledger else None))
        lines += [
            LedgerLine(account_id=e.account_id, email_hash=e.email_hash, erased_at=e.erased_at)
            for e in ErasureLedgerEntry.objects.all()
        ]
        report = ledger_apply(lines=lines)
        self.stdout.write(
            f"ledger entries: {len(lines)}; erased again: {len(report.erased)}; "
            f"already absent: {report.absent}; id matches but no address does (left alone): {len(report.mismatched)}"
        )
        for account_id in report.mismatched:
            self.stderr.write(f"account {account_id}: id in the ledger, but no address matches; check it by hand")
