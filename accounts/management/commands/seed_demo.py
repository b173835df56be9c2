"""Demo data for the embedded portal: a verified customer and a staff superuser.

Idempotent: running it again keeps the accounts and resets their passwords to the
printed ones. Refuses to run outside DEBUG unless --force is given, so it cannot
plant known passwords in production by accident.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User

DEMO_CUSTOMER = ("demo@example.com", "demo-customer-2026")
DEMO_STAFF = ("staff@example.com", "demo-staff-2026")


class Command(BaseCommand):
    help = "Create the demo customer and staff accounts and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo plants known passwords; run it only in a local portal (or pass --force).")
        customer = self._account(*DEMO_CUSTOMER, staff=False)
        staff = self._account(*DEMO_STAFF, staff=True)
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        self.stdout.write(f"  customer  {customer.email}  /  {DEMO_CUSTOMER[1]}")
        self.stdout.write(f"  staff     {staff.email}  /  {DEMO_STAFF[1]}  (admin at /admin/)")

    def _account(self, email: str, password: str, *, staff: bool) -> User:
        user = User.objects.filter(email__iexact=email).first() or User(email=email)
        user.is_staff = staff
        user.is_superuser = staff
        user.is_active = True
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user
