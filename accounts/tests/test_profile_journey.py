"""The customer's own data in Chromium: profile, masking, activity, preferences, French."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Profile, User
from accounts.services import profile_update

from .factories import DEFAULT_PASSWORD, VerifiedUserFactory
from .test_journeys import button, reauthenticate, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IBAN = "FR14 2004 1010 0505 0001 3M02 606"


def test_edit_profile_see_it_masked_and_in_activity_then_prefer_french(page, portal):
    customer = VerifiedUserFactory()
    profile_update(user=customer, actor=customer, data={"id_document_type": "passport", "id_number": "18AB12345"})
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    expect(page.locator('[data-field="id_number"]')).to_have_text("•••• 2345")
    # The form shows the ID number in clear: the password first.
    page.get_by_role("link", name="Edit your profile").click()
    expect(page.locator("main")).not_to_contain_text("18AB12345")
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/me/edit/")
    expect(page.get_by_label("ID document number")).to_have_value("18AB12345")

    # Bad input: a clear message for each field, and nothing saved.
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Phone").fill("12")
    page.get_by_label("Bank account (IBAN)").fill("FR00 0000")
    button(page, "Save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    expect(page.get_by_text("This is not a valid phone number.", exact=False)).to_be_visible()
    expect(page.get_by_text("This is not a valid IBAN.", exact=False)).to_be_visible()
    assert not Profile.objects.filter(user=customer, full_name="Ada Lovelace").exists()

    # Good input saves; the profile page shows the IBAN masked.
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("Phone").fill("06 12 34 56 78")
    page.get_by_label("Bank account (IBAN)").fill(IBAN)
    button(page, "Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile has been saved.")
    expect(page.locator('[data-field="iban"]')).to_have_text("•••• 2606")
    expect(page.locator("main")).not_to_contain_text("3M02")
    expect(page.locator('[data-field="phone"]')).to_have_text("+33612345678")

    # The change is in the activity history, by the customer.
    page.get_by_role("link", name="Activity").click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Changed")
    expect(row).to_contain_text("bank account (IBAN)")
    expect(row).to_contain_text("You")

    # Turn deletion notices off.
    page.get_by_role("link", name="Preferences").click()
    page.get_by_label("Email me when some of my data is deleted").uncheck()
    button(page, "Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Your preferences have been saved.")
    customer.refresh_from_db()
    assert customer.email_deletion_notices is False

    # Switch the portal to French: the pages follow, and so does the stored preference.
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Préférences")
    assert User.objects.get(pk=customer.pk).language == "fr"
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Profil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre profil")

    # In French too, a while later: the password again before the values in clear.
    from erasure.tests.test_takeout_journeys import expire_reauthentication

    expire_reauthentication(page)
    page.get_by_role("link", name="Modifier votre profil").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    expect(page.locator("main")).not_to_contain_text("18AB12345")
    page.get_by_label("Mot de passe", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Confirmer").click()
    expect(page.get_by_label("Numéro de la pièce d’identité")).to_have_value("18AB12345")
