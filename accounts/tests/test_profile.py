"""Profile, preferences and the activity history, through the customer's pages."""

import io

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import ActivityEvent, Profile
from accounts.services import profile_update
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail

pytestmark = pytest.mark.django_db

IBAN = "FR1420041010050500013M02606"
ID_NUMBER = "18AB12345"


@pytest.fixture
def customer(client):
    """Signed in and just re-authenticated, as /me/edit/ asks."""
    from accounts.tests.factories import DEFAULT_PASSWORD

    user = VerifiedUserFactory()
    client.force_login(user)
    assert client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD}).status_code == 302
    return user


def _raw(column: str, user) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_profile WHERE user_id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_invalid_phone_and_iban_are_refused_and_nothing_is_saved(client, customer):
    response = client.post(
        reverse("me:profile_edit"),
        {"full_name": "Ada Lovelace", "phone": "12", "iban": "FR00 1234"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a valid phone number" in body
    assert "not a valid IBAN" in body
    assert not Profile.objects.filter(user=customer, full_name="Ada Lovelace").exists()
    assert not ActivityEvent.objects.filter(user=customer).exists()


def test_valid_profile_is_saved_normalised_and_masked_on_the_profile_page(client, customer):
    response = client.post(
        reverse("me:profile_edit"),
        {
            "full_name": "Ada Lovelace",
            "country": "FR",
            "phone": "06 12 34 56 78",
            "iban": "fr14 2004 1010 0505 0001 3m02 606",
            "id_document_type": "passport",
            "id_number": ID_NUMBER,
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=customer)
    assert profile.phone == "+33612345678"
    assert profile.iban == IBAN
    page = client.get(reverse("me:profile")).content.decode()
    assert "•••• 2606" in page and IBAN not in page
    assert "•••• 2345" in page and ID_NUMBER not in page
    assert ">France<" in page
    # The editing form is the one place the values appear in clear.
    assert IBAN in client.get(reverse("me:profile_edit")).content.decode()
    event = ActivityEvent.objects.get(user=customer)
    assert event.action == "changed" and event.actor_kind == "customer"
    assert set(event.fields) >= {"full_name", "phone", "iban", "id_number"}


def test_profile_rows_are_what_me_and_what_we_hold_both_show():
    from accounts.selectors import profile_rows
    from cloudportal.privacy import category

    user = VerifiedUserFactory()
    assert [row.value for row in profile_rows(user=user)] == [""] * len(Profile.EDITABLE_FIELDS)  # nothing saved
    assert not Profile.objects.filter(user=user).exists()
    profile_update(
        user=user,
        actor=user,
        data={"full_name": "Ada", "country": "FR", "id_document_type": "passport", "iban": IBAN, "id_number": ""},
    )
    rows = profile_rows(user=user)
    assert [row.name for row in rows] == list(Profile.EDITABLE_FIELDS)
    shown = {row.name: row.value for row in rows if row.value}
    assert shown == {"full_name": "Ada", "country": "France", "id_document_type": "Passport", "iban": "•••• 2606"}
    profile = category("profile")
    assert profile.counts(user)[0].value == 4
    assert profile.sample(user) == ["full name: Ada", "country: France", "ID document type: Passport"]


def test_sensitive_fields_are_not_stored_in_clear():
    user = VerifiedUserFactory()
    profile_update(user=user, actor=user, data={"iban": IBAN, "id_number": ID_NUMBER, "id_document_type": "passport"})
    raw_iban, raw_id = _raw("iban", user), _raw("id_number", user)
    assert IBAN not in raw_iban and "2606" not in raw_iban
    assert ID_NUMBER not in raw_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM accounts_profile WHERE iban LIKE %s OR id_number LIKE %s", ["%2606%", "%12345%"]
        )
        assert cursor.fetchone()[0] == 0


def test_key_rotation_keeps_every_value_readable(settings):
    from django.core.management import call_command

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    users = [VerifiedUserFactory() for _ in range(3)]
    for n, user in enumerate(users):
        profile_update(
            user=user, actor=user, data={"iban": IBAN, "id_number": f"ID{n}0000", "id_document_type": "passport"}
        )
    before = {user.pk: _raw("iban", user) for user in users}

    new_key = "Y2xvdWRwb3J0YWwtdGVzdC1rZXktcm90YXRlZC0wMSE="
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_field_keys", stdout=io.StringIO())

    # Only the new key is needed from now on.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    for n, user in enumerate(users):
        profile = Profile.objects.get(user=user)
        assert profile.iban == IBAN
        assert profile.id_number == f"ID{n}0000"
        assert _raw("iban", user) != before[user.pk]


def test_clearing_a_field_is_a_recorded_and_announced_deletion(client, customer):
    profile_update(user=customer, actor=customer, data={"full_name": "Ada", "company": "Analytical Engines"})
    response = client.post(reverse("me:profile_edit"), {"full_name": "Ada", "company": ""})
    assert response.status_code == 302
    deletion = ActivityEvent.objects.get(user=customer, action="deleted")
    assert deletion.fields == ["company"]
    notice = OutboundEmail.objects.get(user=customer, template="emails/deletion_notice")
    assert notice.to == customer.email


def test_no_deletion_notice_when_the_customer_turned_them_off(client, customer):
    response = client.post(reverse("me:preferences"), {"language": "en", "email_service_improvement": ""})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email_deletion_notices is False
    profile_update(user=customer, actor=customer, data={"company": "Analytical Engines"})
    profile_update(user=customer, actor=customer, data={"company": ""})
    assert ActivityEvent.objects.filter(user=customer, action="deleted").exists()
    assert not OutboundEmail.objects.filter(user=customer, template="emails/deletion_notice").exists()


def test_a_category_with_a_notice_of_its_own_goes_through_the_same_helper():
    from accounts.services import deletion_notice_send

    told, silent = VerifiedUserFactory(), VerifiedUserFactory(email_deletion_notices=False)
    for user in (told, silent):
        deletion_notice_send(
            user=user,
            category="access_logs",
            template="emails/sessions_erased",
            context={"count": 3, "months": 12, "url": "https://portal.example/logs/"},
        )
    notice = OutboundEmail.objects.get(user=told)
    assert notice.template == "emails/sessions_erased" and notice.subject.endswith("3 of your sessions were erased")
    assert "3 sessions older than 12 months were erased" in notice.body_text
    assert not OutboundEmail.objects.filter(user=silent).exists()


def test_preferences_language_switches_pages_and_emails(client, customer):
    response = client.post(reverse("me:preferences"), {"language": "fr", "email_deletion_notices": "on"})
    assert response.status_code == 302
    page = client.get(reverse("me:preferences"))
    assert page.content.decode().count('lang="fr"') >= 1
    customer.refresh_from_db()
    profile_update(user=customer, actor=customer, data={"company": "X"})
    profile_update(user=customer, actor=customer, data={"company": ""})
    notice = OutboundEmail.objects.get(user=customer, template="emails/deletion_notice")
    assert "supprimées" in notice.subject


def test_bad_preferences_are_a_400(client, customer):
    response = client.post(reverse("me:preferences"), {"language": "xx"})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.language == "en"


def test_activity_lists_newest_first_and_paginates(client, customer):
    for n in range(30):
        profile_update(user=customer, actor=customer, data={"company": f"Company {n}"})
    first = client.get(reverse("me:activity"))
    assert first.status_code == 200
    assert first.content.decode().count('class="activity-changed"') == 25
    second = client.get(reverse("me:activity"), {"page": 2})
    assert second.content.decode().count('class="activity-changed"') == 5
    assert client.get(reverse("me:activity"), {"page": 3}).status_code == 404
    assert client.get(reverse("me:activity"), {"page": "x"}).status_code == 404


def test_activity_page_queries_do_not_grow_with_events(client, customer):
    from django.test.utils import CaptureQueriesContext

    from cloudportal.fragments import customer_changed

    def queries_for_page() -> int:
        customer_changed(customer.pk)  # the page is built, not read from the page cache
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("me:activity")).status_code == 200
        return len(captured)

    profile_update(user=customer, actor=customer, data={"company": "Company 0"})
    queries_for_page()  # the first request of a session also records the sign-in session
    few = queries_for_page()
    for n in range(1, 30):
        profile_update(user=customer, actor=customer, data={"company": f"Company {n}"})
    assert queries_for_page() == few


def test_another_customers_activity_never_shows(client, customer):
    other = VerifiedUserFactory()
    profile_update(user=other, actor=other, data={"company": "Secret Corp"})
    assert "Secret" not in client.get(reverse("me:activity")).content.decode()


def test_what_we_hold_lists_every_category_with_own_counts(client, customer):
    from cloudportal import privacy

    profile_update(user=customer, actor=customer, data={"full_name": "Ada", "iban": IBAN})
    other = VerifiedUserFactory()
    profile_update(user=other, actor=other, data={"full_name": "Bob", "company": "B", "city": "Paris"})
    page = client.get(reverse("me:data")).content.decode()
    for category in privacy.categories():
        assert f'id="category-{category.key}"' in page
        assert str(category.legal_basis) in page or "&#x27;" in page
    # Profile: 2 fields filled for this customer (not the other's 3).
    assert '<strong data-count="profile">2</strong>' in page
    assert '<strong data-count="activity">1</strong>' in page
    assert "•••• 2606" in page and IBAN not in page and "Bob" not in page


def test_customer_pages_need_sign_in(client):
    for name in ("me:profile", "me:profile_edit", "me:preferences", "me:data", "me:activity", "me:requests"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_account_changes_made_through_allauth_are_in_the_activity(client, customer):
    from accounts.tests.factories import DEFAULT_PASSWORD

    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    event = ActivityEvent.objects.get(user=customer, category="account")
    assert event.action == "changed" and event.fields == ["password"]
    assert "password" in client.get(reverse("me:activity")).content.decode()


def test_a_new_customer_keeps_the_language_they_browsed_in(client, settings):
    from accounts.models import User

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.post(
        reverse("account_signup"),
        {
            "email": "nouveau@example.com",
            "password1": "une-phrase-assez-longue",
            "password2": "une-phrase-assez-longue",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="nouveau@example.com").language == "fr"


def test_the_id_number_and_iban_in_clear_ask_for_the_password_again(client):
    """/me/edit/ is the one page that shows them in clear: like the export and the
    account deletion, it asks for the password again (allauth re-authentication),
    and a change sent without it is not saved."""
    from accounts.tests.factories import DEFAULT_PASSWORD

    user = VerifiedUserFactory()
    profile_update(user=user, actor=user, data={"id_document_type": "passport", "id_number": ID_NUMBER, "iban": IBAN})
    client.force_login(user)  # signed in, but not recently re-authenticated
    response = client.get(reverse("me:profile_edit"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(reverse("me:profile_edit"), {"full_name": "Someone Else", "iban": ""})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert Profile.objects.get(user=user).iban == IBAN and not Profile.objects.get(user=user).full_name

    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("me:profile_edit"))
    assert page.status_code == 200
    assert IBAN in page.content.decode() and ID_NUMBER in page.content.decode()
