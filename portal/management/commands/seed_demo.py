"""Demo data for the embedded portal: a verified customer with devices and a year of
network sessions, a staff superuser and a published privacy statement, in English and
French (portal/demo_statement.py).

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
from compliance.models import Disclosure, LegalHold
from compliance.services import disclosure_record, legal_hold_place
from devices.models import Device
from devices.services import device_add
from policies.models import Processor, StatementVersion
from policies.services import statement_accept
from portal.demo_statement import demo_texts

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

DEMO_PROCESSORS = [
    {
        "name": "Example Hosting SAS",
        "service": "Runs the servers and databases of the portal and the network.",
        "service_fr": "Exploite les serveurs et les bases de données du portail et du réseau.",
        "data": "Every category of data we hold",
        "data_fr": "Toutes les catégories de données que nous détenons",
        "location": "France (EU)",
        "order": 10,
    },
    {
        "name": "Example Mail Relay GmbH",
        "service": "Delivers the emails we send you.",
        "service_fr": "Achemine les e-mails que nous vous envoyons.",
        "data": "Your email address and the messages we send",
        "data_fr": "Votre adresse e-mail et les messages que nous envoyons",
        "location": "Germany (EU)",
        "order": 20,
    },
]

DEMO_DEVICES = [("A4:83:E7:12:34:56", "Laptop"), ("3C:22:FB:AB:CD:EF", "Phone"), ("DA:A1:19:00:00:2A", "Tablet")]
DEMO_SITES = [
    ("Gare de Lyon, hall 1", "Place Louis-Armand, 75012 Paris"),
    ("Café du Marché", "12 rue Cler, 75007 Paris"),
    ("Lyon Part-Dieu", "5 place Charles Béraudier, 69003 Lyon"),
    ("Home fibre", "1 rue de l'Exemple, 75001 Paris"),
]
DEMO_COLLECTOR = "demo-collector"
#: How many days of sessions the demo customer has, up to today (for the usage charts).
DEMO_DAYS = 360
#: The reference of the demo's legal hold and of the disclosure made under it.
DEMO_HOLD_REFERENCE = "DEMO-2026-0042"


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
        statement = self._statement()
        if statement is not None:
            statement_accept(user=customer, version=statement, ip_address=None, user_agent="seed_demo")
        if not Profile.objects.filter(user=customer).exists():
            profile_update(user=customer, actor=customer, data=DEMO_PROFILE)
        sessions = self._devices_and_sessions(customer)
        self._hold_and_disclosure(customer, staff)
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        self.stdout.write(f"  customer  {customer.email}  /  {DEMO_CUSTOMER[1]}")
        self.stdout.write(f"  staff     {staff.email}  /  {DEMO_STAFF[1]}  (admin at /admin/)")
        self.stdout.write(f"  {sessions} new demo sessions recorded")

    def _devices_and_sessions(self, customer: User) -> int:
        """Three devices and about a year of their sessions, through the real ingest."""
        added = timezone.now() - timedelta(days=DEMO_DAYS + 1)
        for mac, label in DEMO_DEVICES:
            if not Device.objects.filter(mac=mac).exists():
                device = device_add(user=customer, mac=mac, label=label)
                # Added before the year of sessions below, not "today" beside them.
                Device.objects.filter(pk=device.pk).update(created_at=added)
        collector = Collector.objects.filter(name=DEMO_COLLECTOR).first()
        if collector is None:
            collector, _token = collector_create(name=DEMO_COLLECTOR)
        rng = random.Random(2026)
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for days_ago in range(DEMO_DAYS, 0, -1):
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

    def _hold_and_disclosure(self, customer: User, staff: User) -> None:
        """A legal hold the customer may be told of, on the tablet's sessions of two
        weeks four months ago (shown as held on /logs/), and the disclosure made under
        it, which the customer sees on /me/disclosures/."""
        if LegalHold.objects.filter(reference=DEMO_HOLD_REFERENCE).exists():
            return
        now = timezone.now()
        hold = legal_hold_place(
            staff=staff,
            scope=LegalHold.Scope.MAC,
            mac=DEMO_DEVICES[2][0],
            starts_at=now - timedelta(days=130),
            ends_at=now - timedelta(days=116),
            authority="Tribunal judiciaire de Paris (demo)",
            reference=DEMO_HOLD_REFERENCE,
            customer_may_be_told=True,
            review_on=(now + timedelta(days=90)).date(),
            expires_at=now + timedelta(days=365),
        )
        if not Disclosure.objects.filter(reference=DEMO_HOLD_REFERENCE).exists():
            disclosure_record(
                staff=staff,
                customer=customer,
                hold=hold,
                data_disclosed="Sessions of the device DA:A1:19:00:00:2A over two weeks (times, sites, IP addresses).",
                recipient="Tribunal judiciaire de Paris (demo)",
                authority_kind=Disclosure.AuthorityKind.COURT,
                legal_basis="Court order under the code of criminal procedure (demo)",
                reference=DEMO_HOLD_REFERENCE,
                disclosed_on=(now - timedelta(days=100)).date(),
                visible_from=(now - timedelta(days=10)).date(),
            )

    def _statement(self) -> StatementVersion | None:
        """The demo statement, in English and French, published and in force, and the
        processors it names. A demo database seeded before the statement was written
        in French gets it as version 1.1 (a minor change: nobody is asked again)."""
        for values in DEMO_PROCESSORS:
            Processor.objects.update_or_create(name=values["name"], defaults=values)
        first = StatementVersion.objects.filter(version="1.0").first()
        if first is not None and (first.has_french() or not first.is_published):
            return first if first.is_published else None
        if first is not None and (update := StatementVersion.objects.filter(version="1.1").first()):
            return update if update.is_published else None
        now = timezone.now()
        texts = demo_texts(operator=settings.OPERATOR_NAME)
        if first is None:
            changelog = ("First published version.", "Première version publiée.")
        else:
            changelog = (
                "Names the controller and its data protection officer, gives the legal basis of each use, lists "
                "every right and how to exercise it, and is written in French too.",
                "Nomme le responsable du traitement et son délégué à la protection des données, donne la base "
                "légale de chaque usage, présente chaque droit et comment l’exercer, et existe aussi en français.",
            )
        return StatementVersion.objects.create(
            version="1.0" if first is None else "1.1",
            **texts,
            changelog=changelog[0],
            changelog_fr=changelog[1],
            material=first is None,
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
