"""A data request in Chromium: the customer files it, Support answers it in the admin,
the customer reads the answer in the portal and in their mailbox."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.groups import SUPPORT
from accounts.models import DataRequest

from .factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory
from .test_journeys import button, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_request_filed_answered_in_the_admin_and_read_by_the_customer(page, portal, smtp_server):
    customer = VerifiedUserFactory()
    agent = StaffUserFactory()
    agent.groups.add(Group.objects.get(name=SUPPORT))

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What we hold").click()
    expect(page.locator("#category-data_requests")).to_contain_text("0 requests")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    page.get_by_label("How is my data used?").check()
    page.get_by_label("Which data is it about?").select_option("activity")
    page.get_by_label("Your request").fill("Who looked at my record this year?")
    button(page, "Send the request").click()
    expect(page.get_by_role("status")).to_contain_text("Your request has been sent.")
    card = page.locator(".request").first
    expect(card).to_contain_text("Received")
    expect(card).to_contain_text("About: Activity history.")
    reference = DataRequest.objects.get(user=customer).reference
    expect(card).to_contain_text(f"Reference {reference}.")
    # The acknowledgement, with the reference; Support is alerted at once.
    (ack,) = smtp_server.wait_for(1, to=customer.email)
    assert reference in ack["Subject"] and "Activity history" in smtp_server.parts(ack)[0]
    (alert,) = smtp_server.wait_for(1, to=agent.email)
    alert_link = re.search(r"https?://\S+/admin/accounts/datarequest/\d+/change/", smtp_server.parts(alert)[0])
    sign_out(page, portal.url)

    # Support follows the alert's link, signs in through allauth and works the request.
    page.goto(alert_link.group(0))
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Sign in").click()
    expect(page.locator("body")).to_contain_text("Who looked at my record this year?")
    expect(page.locator(".field-about")).to_contain_text("Activity history")
    expect(page.locator(".field-reference")).to_contain_text(reference)
    page.locator("#id_assigned_to").select_option(str(agent.pk))
    page.locator("#id_status").select_option("answered")
    page.locator("#id_answer").fill("Only our support team, twice, to answer your calls.")
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    (message,) = [m for m in smtp_server.wait_for(2, to=customer.email) if "answered" in m["Subject"]]
    text, html = smtp_server.parts(message)
    assert "Only our support team" in text and "Only our support team" in html

    page.goto(f"{portal.url}/")
    button(page, "Sign out").click()
    if "/accounts/logout/" in page.url:
        page.locator('form[action$="/accounts/logout/"] button[type="submit"]').first.click()

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.locator(".card-pending")).to_contain_text("A request was answered")
    page.locator(".card-pending a").click()
    request_card = page.locator(".request").first
    expect(request_card).to_contain_text("Answered")
    expect(request_card).to_contain_text("Only our support team, twice, to answer your calls.")
    # Support's view of the request is in the customer's history.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(page.locator("tbody")).to_contain_text("Viewed")
    expect(page.locator("tbody")).to_contain_text("Answered")


def test_a_french_customer_files_a_request_and_gets_the_acknowledgement(page, portal, smtp_server):
    customer = VerifiedUserFactory(language="fr")
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Demandes").click()
    page.get_by_label("M’opposer à une utilisation de mes données").check()
    page.get_by_label("Quelles données sont concernées").select_option(label="Journaux d’accès")
    page.get_by_label("Votre demande").fill("Je m’oppose à l’usage de mes sessions pour des statistiques.")
    button(page, "Envoyer la demande").click()
    card = page.locator(".request").first
    reference = DataRequest.objects.get(user=customer).reference
    expect(card).to_contain_text(f"Référence {reference}.")
    expect(card).to_contain_text("Concerne\u00a0: Journaux d’accès.")
    (ack,) = smtp_server.wait_for(1, to=customer.email)
    text, html = smtp_server.parts(ack)
    assert ack["Subject"].endswith(f"Nous avons bien reçu votre demande {reference}")
    assert "M’opposer à une utilisation de mes données" in text and "Journaux d’accès" in html
