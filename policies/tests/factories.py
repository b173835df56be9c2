from datetime import timedelta

import factory
from django.utils import timezone

from policies.models import StatementVersion


class DraftVersionFactory(factory.django.DjangoModelFactory):
    """A draft, in English and French: minor, taking effect in a day."""

    class Meta:
        model = StatementVersion

    version = factory.Sequence(lambda n: f"0.{n}")
    title = "Privacy statement"
    title_fr = "Déclaration de confidentialité"
    body = factory.Sequence(lambda n: f"## Who we are\n\nWe run networks.\n\n## Version\n\nText number {n}.")
    body_fr = factory.Sequence(
        lambda n: f"## Qui nous sommes\n\nNous exploitons des réseaux.\n\n## Version\n\nTexte numéro {n}."
    )
    changelog = "Clearer wording."
    changelog_fr = "Une rédaction plus claire."
    material = False
    effective_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class PublishedVersionFactory(DraftVersionFactory):
    """Published and already in force (stored as-is: the effective-date rule applies
    to publishing, which happened in the past)."""

    effective_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
