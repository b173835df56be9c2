"""Why a staff member opened a customer's data in clear: a reason in words, or a link
to the case that needs it (SPEC §4, staff access with a reason).

A reason may name a record by kind and number: a data request of the customer's
(this app's own), or a record of an app on a higher floor, which registers its kind
here (`reference_kind_register`, from its AppConfig.ready) without this app
importing it. The customer's activity history shows the reason as written, with the
reference ("Data request #12"), unless a legal hold that forbids notice hides staff
entries for now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import DataRequest, User


@dataclass(frozen=True)
class ReferenceKind:
    key: str
    #: "Data request #%(number)s": how the reference reads.
    label: str | Promise
    #: True when record `number` exists and may be cited for this customer.
    check: Callable[[User, int], bool]


_kinds: dict[str, ReferenceKind] = {}


def reference_kind_register(kind: ReferenceKind) -> None:
    _kinds[kind.key] = kind


def reference_kinds() -> list[ReferenceKind]:
    return list(_kinds.values())


def _data_request_check(user: User, number: int) -> bool:
    return DataRequest.objects.filter(pk=number, user=user).exists()


reference_kind_register(
    ReferenceKind(key="data_request", label=gettext_lazy("Data request #%(number)s"), check=_data_request_check)
)


def staff_reason_make(*, user: User, reason: str, kind: str = "", number: int | None = None) -> str:
    """The reason as the history keeps it: "<reference>: <words>", either part
    optional but not both. Raises ValidationError (by field) when it says nothing or
    names a record that does not exist for this customer."""
    reason = " ".join((reason or "").split())
    reference = ""
    if kind:
        found = _kinds.get(kind)
        if found is None:
            raise ValidationError({"reference_kind": _("Choose one of the offered kinds of record.")})
        if number is None:
            raise ValidationError({"reference_number": _("Give the number of the record.")})
        if not found.check(user, number):
            raise ValidationError({"reference_number": _("There is no such record for this customer.")})
        with translation.override(user.language or None):  # the customer reads it
            reference = str(found.label) % {"number": number}
    elif number is not None:
        raise ValidationError({"reference_kind": _("Say what kind of record this number is.")})
    if not reason and not reference:
        raise ValidationError({"reason": _("Say why you need to see this, or name the request it is for.")})
    return f"{reference}: {reason}" if reference and reason else reference or reason
