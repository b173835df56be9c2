"""The one place where MAC addresses are parsed: customers' forms and ingest use it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The usual spellings: six pairs with ':' or '-', three quads with '.', or twelve digits.
_SPELLINGS = re.compile(
    r"(?:[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2})|(?:[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})|[0-9a-f]{12}"
)
_HEX = re.compile(r"[^0-9a-f]")


@dataclass(frozen=True)
class Mac:
    """A parsed MAC address; `canonical` is how it is stored and shown (AA:BB:CC:DD:EE:FF)."""

    canonical: str

    @property
    def first_octet(self) -> int:
        return int(self.canonical[:2], 16)

    @property
    def is_randomised(self) -> bool:
        """Locally administered: phones and laptops make these up, often per network."""
        return bool(self.first_octet & 0b10)


class MacError(ValidationError):
    pass


@lru_cache(maxsize=65536)
def mac_parse(value: str) -> Mac:
    """Parse a MAC address written in any usual spelling into its canonical form.

    Raises MacError (a ValidationError, with a message fit for the customer) for
    anything that is not a MAC address, and for broadcast, multicast and all-zero
    addresses, which never identify one device.
    """
    text = value.strip().lower()
    if not _SPELLINGS.fullmatch(text):
        raise MacError(
            _("“%(value)s” is not a MAC address. Write it as six pairs, e.g. AA:BB:CC:DD:EE:FF."),
            code="invalid",
            params={"value": value[:40]},
        )
    digits = _HEX.sub("", text).upper()
    canonical = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    mac = Mac(canonical)
    if digits == "0" * 12:
        raise MacError(_("The all-zero address does not belong to any device."), code="zero")
    if digits == "F" * 12:
        raise MacError(_("This is the broadcast address, which does not belong to any device."), code="broadcast")
    if mac.first_octet & 0b1:
        raise MacError(_("This is a multicast (group) address, which does not belong to one device."), code="multicast")
    return mac
