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
