"""Browser journey: Support suspends a customer in the admin; the customer signs in,
is shown what they can still do, and takes their export; other pages lead back."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.groups import SUPPORT
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory
from accounts.tests.test_journeys import button, reauthenticate, sign_in, sign_out
from cloudportal.tests.test_accessibility import _serious
from erasure.tests.test_takeout_journeys import expire_reauthentication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_suspended_customer_can_only_export_delete_and_sign_out(page, portal):
    support = StaffUserFactory(email="support.agent@example.com")
    support.groups.add(Group.objects.get(name=SUPPORT))
    customer = VerifiedUserFactory(email="suspended.customer@example.org", language="en")

    sign_in(page, portal.url, support.email, DEFAULT_PASSWORD)
    page.goto(f"{portal.url}/admin/accounts/user/?q=suspended.customer")
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    page.get_by_role("combobox", name="Action").select_option("suspend")
    button(page, "Go").click()
    expect(page.get_by_text("Customers suspended: 1.")).to_be_visible()
    page.goto(f"{portal.url}/")
    sign_out(page, portal.url)
    assert User.objects.get(pk=customer.pk).suspended_at is not None

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is suspended")
    problems = _serious(page)
    page.goto(f"{portal.url}/devices/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is suspended")

    expire_reauthentication(page)
    page.goto(f"{portal.url}/me/suspended/")
    page.get_by_role("link", name="Export your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export your data")
    problems += _serious(page)
    button(page, "Ask for an export").click()
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", name=re.compile(r"^Your export is (being prepared|ready)$"))).to_be_visible()
    sign_out(page, portal.url)
    assert problems == []
