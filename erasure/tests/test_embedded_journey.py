"""Account deletion under the embedded default, as `make run` serves it: `manage.py
runserver` on the local settings (SQLite, tasks in-process, no broker, no beat,
emails printed to the console). With a grace period of a few seconds, the customer
asks for deletion in Chromium; the account is erased and the receipt printed by the
schedule running inside the server, with no command typed."""

import re
import time

import pytest
from playwright.sync_api import expect

from accounts.tests.test_journeys import button, reauthenticate, sign_in
from cloudportal.tests.test_embedded_schedule import STARTED

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

EMAIL = "leaving.embedded@example.org"
PASSWORD = "a-long-passphrase-1"
#: Three seconds of grace (a fraction of an hour), and the erasure job every second
#: instead of every five minutes, so that the test sees it within seconds.
SETTINGS = """
ERASURE_GRACE_HOURS = 3 / 3600
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "run-due-account-erasures": {**CELERY_BEAT_SCHEDULE["run-due-account-erasures"], "schedule": 1.0},
}
"""
CUSTOMER = f"""
from allauth.account.models import EmailAddress
from accounts.models import User
user = User.objects.create_user(email="{EMAIL}", password="{PASSWORD}")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
"""


def test_the_embedded_portal_erases_the_account_after_its_grace_period_and_sends_the_receipt(page, embedded_portal):
    portal = embedded_portal(settings=SETTINGS)
    portal.wait_for_log(STARTED)
    portal.manage("shell", "-c", CUSTOMER)

    sign_in(page, portal.url, EMAIL, PASSWORD)
    expect(page).to_have_url(f"{portal.url}/")
    page.goto(f"{portal.url}/me/data/")
    page.get_by_role("link", name="Delete your account").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"Delete your account\?|Confirm access"))
    if "Confirm" in heading.inner_text():  # the password again, unless the sign-in is recent
        reauthenticate(page, PASSWORD)
    expect(heading).to_have_text("Delete your account?")
    expect(page.locator(".lead")).to_contain_text("We erase it 3 seconds later")
    page.get_by_label("I understand: delete my account and my data.").check()
    button(page, "Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is being deleted")
    expect(page.get_by_role("main")).to_contain_text("We erase it in 3 seconds.")
    asked = time.monotonic()

    # The confirmation at once, then, with nothing typed, the receipt once the grace
    # period is over: both printed by the console backend, as `make run` shows them.
    portal.wait_for_log(r"Subject: \[CloudPortal Networks\] We are deleting your account", timeout=10)
    portal.wait_for_log(r"Subject: \[CloudPortal Networks\] Your account has been erased", timeout=30)
    assert time.monotonic() - asked >= 2.5  # not before the grace period ended
    receipt = portal.log()[portal.log().index("Your account has been erased") :]
    assert f"To: {EMAIL}" in receipt
    assert re.search(r"embedded schedule: run-due-account-erasures ran in", portal.log())
    assert portal.sql("SELECT count(*) FROM accounts_user WHERE email = ?", (EMAIL,)) == [(0,)]
    assert portal.sql("SELECT count(*) FROM erasure_erasureledgerentry") == [(1,)]

    sign_in(page, portal.url, EMAIL, PASSWORD)
    expect(page.get_by_role("alert").first).to_contain_text("not correct")
