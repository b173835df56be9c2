"""Demo data for the embedded portal: a verified customer, a staff superuser and a
published privacy statement.

Idempotent: running it again keeps the accounts and resets their passwords to the
printed ones. Refuses to run outside DEBUG unless --force is given, so it cannot
plant known passwords in production by accident.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services import profile_update
from policies.models import StatementVersion

DEMO_CUSTOMER = ("demo@example.com", "demo-customer-2026")
DEMO_STAFF = ("staff@example.com", "demo-staff-2026")

DEMO_PROFILE = {
    "full_name": "Camille Demo",
    "street": "1 rue de l'Exemple",
    "postal_code": "75001",
    "city": "Paris",
    "country": "FR",
    "phone": "+33612345678",
    "iban": "FR1420041010050500013M02606",
}

DEMO_STATEMENT = """\
## Who we are

{operator} provides cloud services and Wi-Fi access. This statement explains what
personal data we hold about you, why, and what you can do about it.

## Your data is yours

You can see everything we hold about you in the privacy portal, correct it, take a
copy of it and delete it, at any time. We email you when data about you is deleted
and when this statement changes, with the date the change takes effect.

## Network access logs

When your devices use our network we record each session: the device's MAC address,
the IP address, the site, the start and end times and the data transferred. We keep
these logs for at most 12 months, to answer lawful requests from the authorities, and
then erase them. We disclose them only when the law requires it.

## Contact

Use the requests page of the portal to ask our privacy team anything about your data.
"""


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
        self._statement()
        if not Profile.objects.filter(user=customer).exists():
            profile_update(user=customer, actor=customer, data=DEMO_PROFILE)
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        self.stdout.write(f"  customer  {customer.email}  /  {DEMO_CUSTOMER[1]}")
        self.stdout.write(f"  staff     {staff.email}  /  {DEMO_STAFF[1]}  (admin at /admin/)")

    def _statement(self) -> None:
        if StatementVersion.objects.filter(version="1.0").exists():
            return
        now = timezone.now()
        StatementVersion.objects.create(
            version="1.0",
            title=f"{settings.OPERATOR_NAME} privacy statement",
            body=DEMO_STATEMENT.format(operator=settings.OPERATOR_NAME),
            changelog="First published version.",
            material=True,
            effective_at=now,
            published_at=now,
        )

    def _account(self, email: str, password: str, *, staff: bool) -> User:
        user = User.objects.filter(email__iexact=email).first() or User(email=email)
        user.is_staff = staff
        user.is_superuser = staff
        user.is_active = True
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user
