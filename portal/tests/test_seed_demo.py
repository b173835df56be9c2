import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from compliance.models import Disclosure, LegalHold
from devices.models import Device
from policies.selectors import statement_in_force
from portal.management.commands.seed_demo import DEMO_CUSTOMER, DEMO_DEVICES, DEMO_STAFF

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_to_run_outside_debug():
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_is_idempotent_and_its_logins_work(client):
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    call_command("seed_demo", "--force", stdout=out)
    assert DEMO_CUSTOMER[1] in out.getvalue() and DEMO_STAFF[1] in out.getvalue()
    assert statement_in_force() is not None

    response = client.post(reverse("account_login"), {"login": DEMO_CUSTOMER[0], "password": DEMO_CUSTOMER[1]})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Dashboard" in client.get("/").content.decode()
    # One legal hold and one disclosure, whatever the number of runs; the customer sees both.
    assert LegalHold.objects.count() == 1 and Disclosure.objects.count() == 1
    assert "Tribunal judiciaire de Paris (demo)" in client.get(reverse("disclosures")).content.decode()
    tablet = Device.objects.get(mac=DEMO_DEVICES[2][0])
    today = timezone.localdate()
    window = {"device": tablet.pk, "date_from": today - timedelta(days=129), "date_to": today - timedelta(days=117)}
    assert "Held (legal hold)" in client.get(reverse("logs:list"), window).content.decode()

    client.logout()
    client.post(reverse("account_login"), {"login": DEMO_STAFF[0], "password": DEMO_STAFF[1]})
    assert client.get(reverse("admin:index")).status_code == 200


RIGHTS = {
    "en": ["**Access**", "**Rectification**", "**Erasure**", "**Restriction**", "**Objection**", "**Portability**",
           "**Withdrawing consent**", "**Complaint**", "(CNIL)", "Data protection officer", "dpo@example.com",
           "SAS, 12 rue de l'Exemple, 75002 Paris, France", "**controller**"],
    "fr": ["**Accès**", "**Rectification**", "**Effacement**", "**Limitation**", "**Opposition**", "**Portabilité**",
           "**Retrait du consentement**", "**Réclamation**", "(CNIL)", "Délégué à la protection des données",
           "dpo@example.com", "SAS, 12 rue de l'Exemple, 75002 Paris, France", "**responsable du traitement**"],
}  # fmt: skip


def test_the_demo_statement_names_the_controller_its_contacts_and_every_right_in_both_languages(client):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    statement = statement_in_force()
    assert statement.version == "1.0" and statement.has_french()
    for language, body in (("en", statement.body), ("fr", statement.body_fr)):
        missing = [text for text in RIGHTS[language] if text not in body]
        assert missing == [], language
    # French typography: a no-break space before the colon.
    assert "**Accès**\u00a0:" in statement.body_fr
    client.post(reverse("account_login"), {"login": DEMO_CUSTOMER[0], "password": DEMO_CUSTOMER[1]})
    client.post(reverse("set_language"), {"language": "fr"})
    page = " ".join(client.get(reverse("privacy")).content.decode().split())
    assert "Commission nationale de l’informatique et des libertés (CNIL)" in page


def test_a_demo_seeded_before_the_french_statement_gets_it_as_a_minor_version(client):
    from policies.models import StatementVersion

    now = timezone.now()
    StatementVersion.objects.create(
        version="1.0", title="Old", body="Old words", changelog="First", material=True, effective_at=now,
        published_at=now,
    )  # fmt: skip
    call_command("seed_demo", "--force", stdout=io.StringIO())
    call_command("seed_demo", "--force", stdout=io.StringIO())
    statement = statement_in_force()
    assert statement.version == "1.1" and statement.has_french() and not statement.material
    assert StatementVersion.objects.count() == 2


def test_the_demo_devices_were_added_before_their_sessions_and_the_charts_show_them(
    client, django_capture_on_commit_callbacks
):
    from accesslogs.models import NetworkSession

    with django_capture_on_commit_callbacks(execute=True):  # the usage rollup runs once ingest commits
        call_command("seed_demo", "--force", stdout=io.StringIO())
    first = NetworkSession.objects.order_by("started_at").first().started_at
    for device in Device.objects.filter(mac__in=[mac for mac, _label in DEMO_DEVICES]):
        assert device.created_at < first, device.label
    client.post(reverse("account_login"), {"login": DEMO_CUSTOMER[0], "password": DEMO_CUSTOMER[1]})
    for url in ("/", reverse("devices:list")):
        content = client.get(url).content.decode()
        for key in ("daily-data", "daily-time", "monthly-data", "monthly-time"):
            assert f'id="chart-{key}"' in content
        # Three devices, each drawn: a legend entry and bars of its colour.
        for number, (_mac, label) in enumerate(DEMO_DEVICES):
            assert f'class="chart-series-{number}"' in content and label in content
