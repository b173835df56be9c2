"""axe-core finds no serious or critical problem on the portal's pages (SPEC §3)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from accounts.data_requests import data_request_file
from accounts.services import profile_update
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import reauthenticate, sign_in
from compliance.tests.factories import DisclosureFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISITOR_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/privacy/",
    "/privacy/transparency/",
    "/privacy/versions/",
    "/privacy/processors/",
    "/privacy/cookies/",
    "/nowhere/",
]
CUSTOMER_PAGES = [
    "/",
    "/me/",
    "/me/edit/",
    "/me/preferences/",
    "/me/data/",
    "/me/activity/",
    "/me/requests/",
    "/me/disclosures/",
    "/me/acceptances/",
    "/me/export/",
    "/me/delete/",
    "/devices/",
    "/logs/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
]


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_visitor_pages_have_no_serious_findings(page, portal):
    problems = []
    for path in VISITOR_PAGES:
        page.goto(f"{portal.url}{path}")
        problems += _serious(page)
    assert problems == []


def test_customer_pages_have_no_serious_findings(page, portal):
    customer = VerifiedUserFactory()
    profile_update(user=customer, actor=customer, data={"full_name": "Ada", "iban": "FR1420041010050500013M02606"})
    data_request_file(user=customer, kind="information", message="How?")
    DisclosureFactory(customer=customer)  # /me/disclosures/ and the transparency table with an entry
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    problems = []
    # /me/edit/ (ID number and IBAN in clear) asks for the password again first.
    page.goto(f"{portal.url}/me/edit/")
    problems += _serious(page)
    reauthenticate(page, DEFAULT_PASSWORD)
    for path in CUSTOMER_PAGES:
        page.goto(f"{portal.url}{path}")
        problems += _serious(page)
    # A form showing errors.
    page.goto(f"{portal.url}/me/edit/")
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Save").click()
    problems += _serious(page)
    assert problems == []
