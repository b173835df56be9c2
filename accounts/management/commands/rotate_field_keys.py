"""Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this, then drop the old keys.
Values are decrypted with whichever key fits and saved again, which encrypts them
with the first key. Works in batches, each in its own transaction; safe to rerun.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from cloudportal.crypto import EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if names:
                count = self._rotate(model, names)
                total += count
                self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows."))

    def _rotate(self, model, names: list[str]) -> int:
        count, last_pk = 0, 0
        while True:
            with transaction.atomic():
                batch = list(model.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:BATCH])
                for obj in batch:
                    obj.save(update_fields=names)
            if not batch:
                return count
            count += len(batch)
            last_pk = batch[-1].pk
