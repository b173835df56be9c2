"""Statement versions: frozen once published, effective-date rules, publishing, pages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.groups import PRIVACY_OFFICER, SUPPORT
from accounts.tests.factories import StaffUserFactory, UserFactory, VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from policies.models import StatementVersion
from policies.services import statement_notices_queue, statement_publish

from .diffs import marked
from .factories import DraftVersionFactory, PublishedVersionFactory

pytestmark = pytest.mark.django_db


def officer():
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    return staff


def test_a_published_version_cannot_be_changed_or_deleted_through_the_orm():
    version = PublishedVersionFactory(body="Original words")
    version.body = "Rewritten words"
    with pytest.raises(ValidationError):
        version.save()
    with pytest.raises(ValidationError):
        version.full_clean()
    with pytest.raises(ValidationError):
        StatementVersion.objects.get(pk=version.pk).delete()
    assert StatementVersion.objects.get(pk=version.pk).body == "Original words"


def test_the_database_refuses_to_change_a_published_version_whatever_writes():
    version = PublishedVersionFactory(body="Original words")
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementVersion.objects.filter(pk=version.pk).update(body="Rewritten by a bulk update")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE policies_statementversion SET published_at = NULL WHERE id = %s", [version.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_statementversion WHERE id = %s", [version.pk])
    assert StatementVersion.objects.get(pk=version.pk).body == "Original words"
    # A draft stays editable.
    draft = DraftVersionFactory(body="Draft")
    StatementVersion.objects.filter(pk=draft.pk).update(body="Draft, edited")
    assert StatementVersion.objects.get(pk=draft.pk).body == "Draft, edited"


def test_the_admin_shows_a_published_version_read_only_and_refuses_changes(client):
    version = PublishedVersionFactory(body="Original words")
    client.force_login(officer())
    url = reverse("admin:policies_statementversion_change", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Original words" in page.content.decode()
    assert 'name="body"' not in page.content.decode()
    response = client.post(url, {"version": version.version, "title": "x", "body": "Rewritten", "effective_at": ""})
    assert response.status_code == 403
    delete = client.post(reverse("admin:policies_statementversion_delete", args=[version.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert StatementVersion.objects.get(pk=version.pk).body == "Original words"


@pytest.mark.parametrize(
    ("material", "days", "ok"),
    [(False, -1, False), (False, 0.01, True), (True, 29, False), (True, 30.01, True)],
)
def test_effective_date_never_in_the_past_and_material_changes_announced_in_time(material, days, ok, settings):
    settings.POLICY_NOTICE_DAYS = 30
    draft = DraftVersionFactory(material=material, effective_at=timezone.now() + timedelta(days=days))
    if ok:
        statement_publish(version=draft)
        assert StatementVersion.objects.get(pk=draft.pk).is_published
    else:
        with pytest.raises(ValidationError) as error:
            statement_publish(version=draft)
        assert "effective_at" in error.value.message_dict
        assert not StatementVersion.objects.get(pk=draft.pk).is_published


def test_publishing_queues_one_notice_per_active_customer_and_a_rerun_adds_none(django_capture_on_commit_callbacks):
    customers = VerifiedUserFactory.create_batch(3)
    UserFactory()  # address not verified: not written to
    VerifiedUserFactory(is_active=False)
    StaffUserFactory()
    draft = DraftVersionFactory(material=True, effective_at=timezone.now() + timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=False):
        statement_publish(version=draft)
    assert statement_notices_queue(version_id=draft.pk) == 3
    assert statement_notices_queue(version_id=draft.pk) == 0

    rows = OutboundEmail.objects.filter(template="emails/statement_changed")
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(c.pk for c in customers)
    assert {r.dedup_key for r in rows} == {f"statement:{draft.pk}:{c.pk}" for c in customers}
    with pytest.raises(ValidationError):
        statement_publish(version=draft)  # published once only


def test_only_privacy_officers_may_publish(client):
    draft = DraftVersionFactory()
    agent = StaffUserFactory()
    agent.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(agent)
    assert client.post(reverse("admin:policies_statementversion_publish", args=[draft.pk])).status_code == 403
    client.force_login(officer())
    response = client.post(reverse("admin:policies_statementversion_publish", args=[draft.pk]))
    assert response.status_code == 302
    assert StatementVersion.objects.get(pk=draft.pk).is_published


def test_admin_preview_shows_the_draft_and_its_diff_against_the_version_in_force(client):
    PublishedVersionFactory(
        version="1.0",
        body="## Logs\n\nWe keep logs for 12 months.\n\n## Contact\n\nWrite to us.",
        body_fr="## Journaux\n\nNous gardons les journaux 12 mois.\n\n## Contact\n\nÉcrivez-nous.",
    )
    draft = DraftVersionFactory(
        body="## Logs\n\nWe keep logs for 6 months.\n\n## Contact\n\nWrite to us.",
        body_fr="## Journaux\n\nNous gardons les journaux 6 mois.\n\n## Contact\n\nÉcrivez-nous.",
    )
    client.force_login(officer())
    body = client.get(reverse("admin:policies_statementversion_preview", args=[draft.pk])).content.decode()
    assert "We keep logs for 6 months." in body
    assert "Nous gardons les journaux 6 mois." in body
    assert '<div class="diff-block diff-changed">' in body
    # The diff in English, then in French.
    assert marked(body, "del") == ["12", "12"] and marked(body, "ins") == ["6", "6"]
    assert "Changes against the version in force (1.0)" in body and "<h3>French</h3>" in body
    assert "Publish this version" in body


def test_versions_diff_and_archive_pages(client):
    old = PublishedVersionFactory(version="1.0", body="## Logs\n\nKept 12 months.\n\n<script>alert(1)</script>")
    new = PublishedVersionFactory(
        version="2.0",
        body="## Logs\n\nKept 6 months.\n\n<script>alert(1)</script>",
        effective_at=timezone.now() + timedelta(days=40),
        changelog="Logs kept half as long.",
    )
    versions = client.get(reverse("privacy_versions")).content.decode()
    assert "Logs kept half as long." in versions and reverse("privacy_diff", args=["1.0", "2.0"]) in versions
    diff = client.get(reverse("privacy_diff", args=[old.version, new.version])).content.decode()
    changed = diff.split('class="diff-block diff-changed"')[1].split("</div>")[0]
    assert "Kept" in changed and marked(changed, "del") == ["12"] and marked(changed, "ins") == ["6"]
    assert "<script>" not in diff
    # The upcoming version is announced on the statement page; drafts stay hidden.
    DraftVersionFactory(version="3.0")
    assert "Version 2.0 takes effect on" in client.get(reverse("privacy")).content.decode()
    assert client.get(reverse("privacy_version", args=["3.0"])).status_code == 404
    assert client.get(reverse("privacy_diff", args=["1.0", "3.0"])).status_code == 404


def test_processors_and_cookies_pages(client, settings):
    from policies.models import Processor

    Processor.objects.create(
        name="Hosting Co", service="Runs servers", service_fr="Exploite les serveurs", data="All", location="EU"
    )
    assert "Runs servers" in client.get(reverse("privacy_processors")).content.decode()
    cookies = client.get(reverse("privacy_cookies")).content.decode()
    assert settings.SESSION_COOKIE_NAME in cookies and settings.CSRF_COOKIE_NAME in cookies
