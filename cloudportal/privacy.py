"""The privacy registry: the one place where categories of personal data are declared.

Each app declares its categories in `<app>/privacy.py` by calling `register(...)`;
the modules are imported at start-up (see `cloudportal.core.apps`). Everything that
speaks about personal data as a whole ("What we hold", the export, erasure, the
coverage test) reads the registry; nothing lists categories by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, npgettext
from django.utils.translation import gettext_lazy as _

from .counts import Count, counts_read
from .counts import Scalar as Scalar  # categories import it from the registry
from .csv_cells import csv_text_sql

Text = str | Promise

# --- Texts many categories share ----------------------------------------------
# One constant each, so that the same thing is said in the same words everywhere
# ("What we hold", the export's README). Their msgids are the catalogue's.

#: processors
HOSTING = _("our hosting provider (data centres in the EU)")
EMAIL_PROVIDER = _("our email delivery provider")
#: storage
EU_DATABASE = _("Our PostgreSQL database, in EU data centres")
#: retention
LIFE_OF_ACCOUNT = _("For as long as you have an account; deleted when you delete it.")
#: legal basis
CONTRACT = _("Performance of our contract with you")
LEGAL_OBLIGATION = _("Legal obligation")


# --- Counted nouns ------------------------------------------------------------
# "1 device", "2 devices", "0 appareil": a count's noun agrees with its number in
# every language (npgettext, context "count"). A category declares each noun it counts
# with `noun(singular, plural)`, which returns the plural: the msgid its Count and its
# ErasureResult keys carry (stored in receipts as they are), and `counted` finds the
# singular again. The French forms are in the catalogue with msgctxt "count".

_SINGULARS: dict[str, str] = {}


def noun(singular: str, plural: str) -> str:
    """Declare the singular of a counted plural noun; returns the plural, untranslated."""
    if _SINGULARS.get(plural, singular) != singular:
        raise ValueError(f"the noun {plural!r} has two singulars")
    _SINGULARS[plural] = singular
    return plural


def counted_noun(label: Text, count: int) -> str:
    """The noun `label` (a plural declared with `noun`) agreeing with `count`, in the
    active language; any other label translated as it is."""
    singular = _SINGULARS.get(label) if isinstance(label, str) else None
    if singular is None:
        return gettext(str(label))
    return npgettext("count", singular, label, count)


def counted(label: Text, count: int) -> str:
    """'1 device', '2 devices' (`counted_noun` after the number)."""
    return f"{count} {counted_noun(label, count)}"


@dataclass(frozen=True)
class HeldPart:
    """Records a legal hold keeps past their retention (`label` marked with
    gettext_noop, as the keys of `ErasureResult.deleted`); `until` is when the hold
    expires, None while it lasts until lifted."""

    label: str
    count: int
    until: Any = None


@dataclass(frozen=True)
class ErasureResult:
    """What `erase(user)` did: counts deleted, and what is kept, why and until when.
    `held` lists what legal holds keep longer, only those the customer may be told of."""

    deleted: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    kept_reason: Text = ""
    kept_until: Any = None
    held: tuple[HeldPart, ...] = ()


def erase_rows(label: str, rows: models.QuerySet) -> ErasureResult:
    """The common `erase`: delete the customer's rows (and what cascades from them)
    and report how many under `label`, marked with gettext_noop (it is translated
    where the receipt is written)."""
    count, _by_model = rows.delete()
    return ErasureResult(deleted={label: count})


@dataclass(frozen=True)
class BulkExport:
    """A category's records as SQL, for categories too large for a list.

    The export streams them with PostgreSQL COPY, so memory stays bounded whatever
    the number of rows, and has the database write each record twice: as a CSV row
    (`rows_sql`) and as a JSON array (`json_sql`, types kept: numbers as numbers,
    timestamps and dates in ISO 8601). `select` is each column's name and SQL
    expression, in order; `source` the rest of the query (FROM, WHERE, ORDER BY,
    which must give one order). The columns named in `text` hold free text: in the
    CSV rows, a cell a spreadsheet would run as a formula gets the leading
    apostrophe (`csv_cells`), as the export's Python path does; data.json keeps the
    value as it is. Each of `parts` is the parameters of one query,
    filling the %s placeholders of the expressions, then those of `source`; the
    parts' rows follow one another. (Several parts when one simple query per key
    lets the database read an index in order where a query for every key would
    sort.)"""

    select: tuple[tuple[str, str], ...]
    source: str
    parts: tuple[tuple, ...]
    text: frozenset[str] = frozenset()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _expression in self.select)

    def rows_sql(self) -> str:
        columns = ", ".join(
            f'{csv_text_sql(expression) if name in self.text else expression} AS "{name}"'
            for name, expression in self.select
        )
        return f"SELECT {columns} {self.source}"

    def json_sql(self) -> str:
        values = ", ".join(expression for _name, expression in self.select)
        return f"SELECT json_build_array({values}) {self.source}"


@dataclass(frozen=True)
class Category:
    key: str
    label: Text
    description: Text
    fields: tuple[Text, ...]
    purpose: Text
    legal_basis: Text
    retention: Text
    storage: Text
    processors: tuple[Text, ...]
    correction: Text
    #: "app_label.ModelName" of every model holding this category's records.
    models: tuple[str, ...]
    #: The names of its records' fields, in order: the keys of every dict `export`
    #: gives and the columns of `export_bulk`. The export's CSV header and data.json's
    #: columns come from here, so a category without records still has them.
    columns: tuple[str, ...]
    counts: Callable[[Any], list[Count]]
    sample: Callable[[Any], list[str]]
    #: The customer's records, one dict each (its keys: `columns`, in order). May be a
    #: generator: the export writes them as they come.
    export: Callable[[Any], Iterable[dict]]
    erase: Callable[[Any], ErasureResult]
    #: On PostgreSQL, the same records as one query that the export streams with COPY.
    export_bulk: Callable[[Any], BulkExport] | None = None
    #: URL name of the page where the customer corrects it themselves, if any.
    correct_url: str | None = None
    #: The retention sweep's hook: erase what is past this category's retention at
    #: the given moment, and return what it did as {what: count}. None when the
    #: category lives as long as the account (account erasure removes it).
    expire: Callable[[Any], dict[str, int]] | None = None
    #: When something of this category that the customer may not know of yet began
    #: (a legal hold that forbids notice): what staff did since then, and this
    #: category's own entries, stay out of the customer's activity history. None
    #: when nothing is concealed.
    conceals_activity: Callable[[Any], Any] | None = None
    #: Which of the given legal holds keep some of the customer's records of this
    #: category, as a set of their ids: how a hold on no account or device of the
    #: customer's (an IP address, a MAC address they no longer have, a time range)
    #: still concerns them. None for a category no hold keeps.
    holds_keeping: Callable[[Any, list], set] | None = None
    #: What legal holds the customer may be told of keep of their records (how
    #: many, until when), for the deletion page and the erasure receipt. None when
    #: nothing of this category is ever held.
    held: Callable[[Any], tuple[HeldPart, ...]] | None = None
    order: int = 100


_registry: dict[str, Category] = {}


def lazy_text(make: Callable[[], str]) -> Promise:
    """A text made when it is shown, in the language active then: for a registry text
    that depends on a setting (`lazy_text(lambda: ngettext(...) % {...})`), where
    `gettext_lazy(...) % values` would be translated once, at import."""
    return lazy(make, str)()


def register(category: Category) -> Category:
    if category.key in _registry and _registry[category.key] is not category:
        raise ValueError(f"privacy category {category.key!r} is registered twice")
    for label in category.models:
        apps.get_model(label)  # fails loudly on a typo
    _registry[category.key] = category
    return category


def categories() -> list[Category]:
    return sorted(_registry.values(), key=lambda c: (c.order, c.key))


def counts_of(user, chosen: Iterable[Category] | None = None) -> dict[str, list[Count]]:
    """The customer's figures in each category (of `chosen`, or all), by key: what
    each category's `counts` says, its queries read together in one statement."""
    found = {c.key: c.counts(user) for c in (categories() if chosen is None else chosen)}
    counts_read([n for counts in found.values() for n in counts])
    return found


def category(key: str) -> Category:
    return _registry[key]


def category_label(key: str) -> Text:
    """The label of category `key`, as people read it; the key itself if no category
    has it (any more)."""
    found = _registry.get(key)
    return found.label if found else key


@dataclass(frozen=True)
class Concealment:
    """What the customer's activity history leaves out for now: entries by staff
    from `since` on, and every entry of the `categories` named."""

    since: Any
    categories: frozenset[str]


#: Concealments fixed for the duration of an erasure, by account id.
_fixed: ContextVar[dict | None] = ContextVar("concealments_fixed", default=None)


@contextmanager
def activity_concealment_fixed(user):
    """Within the block, what the customer's history conceals is what it concealed on
    entering it: erasing the account's sessions and devices first must not make the
    holds that concern them stop concealing (the receipt counts what the history
    shows)."""
    token = _fixed.set({**(_fixed.get() or {}), user.pk: activity_concealment(user)})
    try:
        yield
    finally:
        _fixed.reset(token)


def activity_concealment(user) -> Concealment | None:
    """What the categories conceal from this customer's activity history (SPEC §4),
    or None when nothing is."""
    fixed = _fixed.get() or {}
    if user.pk in fixed:
        return fixed[user.pk]
    found = [(c.key, since) for c in categories() if c.conceals_activity and (since := c.conceals_activity(user))]
    if not found:
        return None
    return Concealment(since=min(since for _key, since in found), categories=frozenset(key for key, _since in found))


def holds_keeping(user, holds: list) -> set:
    """The ids of those of `holds` that keep some of the customer's records, as the
    categories holds can keep say (compliance cannot read sessions: they are a floor
    above it)."""
    found: set = set()
    if holds:
        for c in categories():
            if c.holds_keeping is not None:
                found |= c.holds_keeping(user, holds)
    return found


@lru_cache(maxsize=64)
def _model_field_labels(labels: tuple[str, ...]) -> dict[str, Text]:
    names: dict[str, Text] = {}
    for label in labels:
        for f in apps.get_model(label)._meta.fields:
            names.setdefault(f.name, f.verbose_name)
    return names


def field_label(key: str, name: str) -> Text:
    """The name people read for field `name` of category `key`'s records (as the
    activity history lists what changed), else of any category's records; the field
    name itself when unknown."""
    found = _registry.get(key)
    own = _model_field_labels(found.models) if found else {}
    if name in own:
        return own[name]
    every = tuple(label for c in categories() for label in c.models)
    return _model_field_labels(every).get(name, name)


# --- Coverage ---------------------------------------------------------------

#: Field names that carry a customer's identifier even without a foreign key.
IDENTIFIER_FIELD_NAMES = frozenset({"email", "mac", "mac_address", "ip", "ip_address"})

#: Models that reference users but hold no customer's personal data, each with why.
NOT_PERSONAL: dict[str, str] = {
    "admin.LogEntry": "Django's own admin log of staff actions; customers' history is the activity history.",
    "auth.Permission": "permission definitions, no person.",
    "auth.Group": "staff group definitions, no person.",
}


def _references_customer(model: type[models.Model], subject_labels: set[str]) -> bool:
    for f in model._meta.get_fields():
        if f.auto_created and not f.concrete:
            continue  # reverse relations are the other model's concern
        related = getattr(f, "related_model", None)
        related_label = related if isinstance(related, str) else getattr(getattr(related, "_meta", None), "label", None)
        if f.is_relation and related_label in subject_labels:
            return True
        if getattr(f, "concrete", False) and (
            f.name in IDENTIFIER_FIELD_NAMES or isinstance(f, models.EmailField | models.GenericIPAddressField)
        ):
            return True
    return False


def subject_models() -> set[str]:
    """Models whose rows stand for a customer: the account, and a customer's device
    (a row about a device is a row about the customer who holds it)."""
    return {settings.AUTH_USER_MODEL, "devices.Device"}


def uncovered_models(candidates: Iterable[type[models.Model]] | None = None) -> list[str]:
    """Labels of models that reference a customer but belong to no category."""
    covered = {label for c in _registry.values() for label in c.models}
    subjects = subject_models()
    if candidates is None:
        candidates = apps.get_models()
    missing = []
    for model in candidates:
        label = model._meta.label
        if label in covered or label in NOT_PERSONAL or model._meta.auto_created:
            continue
        if label in subjects or _references_customer(model, subjects):
            missing.append(label)
    return sorted(missing)
