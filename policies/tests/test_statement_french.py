"""The statement in English and French: publishing needs both; a customer who reads
the portal in French is emailed, shown the diff and accepts in French; versions
published before the French texts existed are shown in English, saying so."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.groups import PRIVACY_OFFICER
from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory
from policies.models import StatementAcceptance, StatementVersion
from policies.services import statement_accept, statement_publish

from .diffs import marked
from .factories import DraftVersionFactory, PublishedVersionFactory

pytestmark = pytest.mark.django_db

OLD = {
    "body": "## Logs\n\nWe keep each session for 12 months.",
    "body_fr": "## Journaux\n\nNous conservons chaque session 12 mois.",
}
NEW = {
    "body": "## Logs\n\nWe keep each session for 6 months.",
    "body_fr": "## Journaux\n\nNous conservons chaque session 6 mois.",
    "changelog": "Logs are kept for 6 months.",
    "changelog_fr": "Les journaux sont conservés 6 mois.",
    "title_fr": "Notre déclaration de confidentialité",
}


def officer():
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    return staff


@pytest.mark.parametrize("missing", ["title_fr", "body_fr", "changelog_fr", "body"])
def test_publishing_needs_every_text_in_both_languages(missing):
    draft = DraftVersionFactory(**{missing: ""})
    with pytest.raises(ValidationError) as error:
        statement_publish(version=draft)
    label = str(StatementVersion._meta.get_field(missing).verbose_name)
    assert "Write the statement in English and in French before publishing" in str(error.value)
    assert label in str(error.value)
    assert not StatementVersion.objects.get(pk=draft.pk).is_published


def test_the_admin_refuses_to_publish_a_draft_without_french_with_a_clear_message(client):
    PublishedVersionFactory()
    draft = DraftVersionFactory(body_fr="", changelog_fr="")
    client.force_login(officer())
    preview = client.get(reverse("admin:policies_statementversion_preview", args=[draft.pk])).content.decode()
    assert "Not ready to publish" in preview and "statement in French (Markdown)" in preview
    # The French text still to write is not shown as the version in force's, all removed.
    assert "Not written yet." in preview and "diff-removed" not in preview
    response = client.post(reverse("admin:policies_statementversion_publish", args=[draft.pk]), follow=True)
    page = response.content.decode()
    assert "Write the statement in English and in French before publishing" in page
    assert "statement in French (Markdown); what changed in French" in page
    assert not StatementVersion.objects.get(pk=draft.pk).is_published


def test_a_french_customer_is_emailed_in_french_and_an_english_one_in_english(
    smtp_server, django_capture_on_commit_callbacks
):
    PublishedVersionFactory(version="1.0", **OLD)
    english = VerifiedUserFactory(language="en")
    french = VerifiedUserFactory(language="fr")
    draft = DraftVersionFactory(version="2.0", material=True, effective_at=timezone.now() + timedelta(days=31), **NEW)

    with django_capture_on_commit_callbacks(execute=True):
        statement_publish(version=draft)

    [to_french] = smtp_server.wait_for(1, to=french.email)
    [to_english] = smtp_server.wait_for(1, to=english.email)
    assert "Notre déclaration de confidentialité change le" in to_french["Subject"]
    for part in smtp_server.parts(to_french):
        assert "Les journaux sont conservés 6 mois." in part and "Logs are kept" not in part
        assert "/privacy/diff/1.0/2.0/" in part
    for part in smtp_server.parts(to_english):
        assert "Logs are kept for 6 months." in part and "Les journaux" not in part


def test_a_french_customer_reads_the_diff_and_accepts_on_the_french_page(client):
    old = PublishedVersionFactory(version="1.0", material=True, effective_at=timezone.now() - timedelta(days=60), **OLD)
    new = PublishedVersionFactory(version="2.0", material=True, **NEW)
    customer = VerifiedUserFactory(language="fr")
    statement_accept(user=customer, version=old, ip_address=None, user_agent="test")
    client.force_login(customer)

    diff = client.get(reverse("privacy_diff", args=["1.0", "2.0"])).content.decode()
    assert '<html lang="fr">' in diff and "Modifications de la version 1.0 à la version 2.0" in diff
    assert "Nous conservons chaque session" in diff and "We keep" not in diff
    assert marked(diff, "del") == ["12"] and marked(diff, "ins") == ["6"]
    assert "Les journaux sont conservés 6 mois." in diff

    accept = client.get(reverse("privacy_accept")).content.decode()
    assert "Notre déclaration de confidentialité a changé" in accept
    assert "Les journaux sont conservés 6 mois." in accept and "Nous conservons chaque session" in accept
    assert "We keep" not in accept and "J’accepte la version 2.0" in accept
    assert client.post(reverse("privacy_accept"), {"version": new.pk, "next": "/"}).status_code == 302
    assert StatementAcceptance.objects.get(user=customer, version=new).language == "fr"

    statement = client.get(reverse("privacy")).content.decode()
    assert "Notre déclaration de confidentialité" in statement and "Nous conservons chaque session 6 mois." in statement


def test_a_version_published_before_the_french_texts_is_shown_in_english_with_a_note(client):
    old = PublishedVersionFactory(version="1.0", body=OLD["body"], title_fr="", body_fr="", changelog_fr="")
    PublishedVersionFactory(version="2.0", effective_at=timezone.now() + timedelta(days=30), **NEW)
    customer = VerifiedUserFactory(language="fr")
    client.force_login(customer)

    page = client.get(reverse("privacy")).content.decode()
    assert "publiée avant que la déclaration ne soit rédigée en français" in page
    assert '<div class="prose" lang="en">' in page and "We keep each session for 12 months." in page
    # Compared with a version that has no French, the diff is in English, saying so.
    diff = client.get(reverse("privacy_diff", args=["1.0", "2.0"])).content.decode()
    assert "la comparaison est donc en anglais" in diff and '<div class="diff" lang="en">' in diff
    assert marked(diff, "del") == ["12"] and marked(diff, "ins") == ["6"]
    # Accepting it records that the text accepted was the English one.
    statement_accept(user=customer, version=old, ip_address=None, user_agent="test", language="fr")
    assert StatementAcceptance.objects.get(user=customer, version=old).language == "en"
    # An English reader gets no note.
    client.force_login(VerifiedUserFactory(language="en"))
    assert "published before the statement was written in French" not in client.get(reverse("privacy")).content.decode()


def test_a_new_draft_from_the_version_in_force_copies_its_exact_source(client):
    source = PublishedVersionFactory(
        version="1.0",
        body="## Logs\n\n- kept 12 months\n- then erased\n\nTrailing line.\n",
        body_fr="## Journaux\n\n- conservés 12 mois\n- puis effacés\n",
    )
    client.force_login(officer())
    listing = client.get(reverse("admin:policies_statementversion_changelist")).content.decode()
    url = reverse("admin:policies_statementversion_add") + f"?from={source.pk}"
    assert url in listing and "New draft from the version in force (1.0)" in listing

    form = client.get(url).content.decode()
    assert "- kept 12 months" in form and "- conservés 12 mois" in form
    effective = timezone.localtime(timezone.now() + timedelta(days=2))
    # What the browser sends back: the copied texts with its own line endings.
    response = client.post(
        url,
        {
            "version": "1.1",
            "title": source.title,
            "title_fr": source.title_fr,
            "body": source.body.replace("\n", "\r\n"),
            "body_fr": source.body_fr.replace("\n", "\r\n"),
            "changelog": "",
            "changelog_fr": "",
            "effective_at_0": effective.strftime("%Y-%m-%d"),
            "effective_at_1": effective.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = StatementVersion.objects.get(version="1.1")
    assert (draft.body, draft.body_fr, draft.title_fr) == (source.body, source.body_fr, source.title_fr)
    assert not draft.is_published and draft.changelog == ""
    preview = client.get(reverse("admin:policies_statementversion_preview", args=[draft.pk])).content.decode()
    assert preview.count("The text of the two versions is the same.") == 2
