"""Demo data for the embedded portal: a verified customer with devices and a year of
network sessions, a staff superuser and a published privacy statement.

Idempotent: running it again keeps the accounts and resets their passwords to the
printed ones. Refuses to run outside DEBUG unless --force is given, so it cannot
plant known passwords in production by accident.
"""

import csv
import io
import random
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accesslogs.ingest import FIELDS, rewinding, sessions_ingest
from accesslogs.models import Collector
from accesslogs.services import collector_create
from accounts.models import Profile, User
from accounts.services import profile_update
from devices.models import Device
from devices.services import device_add
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


DEMO_DEVICES = [("A4:83:E7:12:34:56", "Laptop"), ("3C:22:FB:AB:CD:EF", "Phone"), ("DA:A1:19:00:00:2A", "Tablet")]
DEMO_SITES = [
    ("Gare de Lyon, hall 1", "Place Louis-Armand, 75012 Paris"),
    ("Café du Marché", "12 rue Cler, 75007 Paris"),
    ("Lyon Part-Dieu", "5 place Charles Béraudier, 69003 Lyon"),
    ("Home fibre", "1 rue de l'Exemple, 75001 Paris"),
]
DEMO_COLLECTOR = "demo-collector"


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
        sessions = self._devices_and_sessions(customer)
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        self.stdout.write(f"  customer  {customer.email}  /  {DEMO_CUSTOMER[1]}")
        self.stdout.write(f"  staff     {staff.email}  /  {DEMO_STAFF[1]}  (admin at /admin/)")
        self.stdout.write(f"  {sessions} new demo sessions recorded")

    def _devices_and_sessions(self, customer: User) -> int:
        """Three devices and about a year of their sessions, through the real ingest."""
        for mac, label in DEMO_DEVICES:
            if not Device.objects.filter(mac=mac).exists():
                device_add(user=customer, mac=mac, label=label)
        collector = Collector.objects.filter(name=DEMO_COLLECTOR).first()
        if collector is None:
            collector, _token = collector_create(name=DEMO_COLLECTOR)
        rng = random.Random(2026)
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for days_ago in range(360, 0, -1):
            for mac, _label in DEMO_DEVICES:
                for n in range(rng.randint(0, 3)):
                    started = now - timedelta(days=days_ago, hours=rng.randint(0, 20))
                    ended = started + timedelta(minutes=rng.randint(5, 240))
                    site, address = rng.choice(DEMO_SITES)
                    writer.writerow([
                        f"demo-{mac}-{started:%Y%m%d}-{n}", mac, f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                        site, address, started.isoformat(), ended.isoformat(), rng.randint(10**5, 10**9),
                        rng.randint(10**4, 10**8),
                    ])  # fmt: skip
        source = rewinding(io.BytesIO(out.getvalue().encode()))
        return sessions_ingest(collector=collector, source=source, fmt="csv").accepted

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
