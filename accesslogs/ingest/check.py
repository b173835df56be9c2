"""Checking: each record becomes a Row, or errors that name its line and field; the
parser hands the writer chunks of checked rows."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.mac import MacError, mac_parse

from ..retention import retention_cutoff
from .read import FIELDS

MAX_ERRORS = 100
CHUNK_ROWS = 20_000
MAX_BYTES = 2**63 - 1
#: How far in the future a session may start or end (clocks drift).
CLOCK_SKEW = timedelta(hours=1)

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
SESSION_ID = re.compile(r"[!-\[\]-~]{1,64}")


class Row(NamedTuple):
    """A checked session, fields named as the session's columns. A tuple (a batch holds
    millions of rows), built with positional arguments."""

    session_id: str
    mac: str  # canonical
    ip: str  # canonical
    site: tuple[str, str]  # name, address
    started_at: datetime
    ended_at: datetime
    #: The row's own part of its COPY line: session_id to bytes_out, in write.COLUMNS order.
    copy_tail: str
    bytes_in: str  # digits
    bytes_out: str


def ip_parse(value: str) -> str:
    """The address in its canonical text form; ValueError for anything else. Dotted
    IPv4 addresses, most of them, are checked without building an object."""
    if IPV4.fullmatch(value):
        return value
    return ip_compressed(value)


@lru_cache(maxsize=65536)
def ip_compressed(value: str) -> str:
    """The canonical text of any address `ipaddress` reads (IPv6, mostly); cached."""
    return ipaddress.ip_address(value).compressed


class Checker:
    """Turns records into rows, or into errors with a line and a field.

    `fast` handles the common case, a good row, with as little work as possible;
    anything it does not like goes through `slow`, which says what is wrong."""

    def __init__(self) -> None:
        now = timezone.now()
        self.oldest = retention_cutoff(now)
        self.latest = now + CLOCK_SKEW
        self.errors: list[dict] = []
        self.macs: dict[str, str] = {}
        self.bounds: dict[str, tuple[str, str]] = {}
        self.sites: set[tuple[str, str]] = set()
        self.fresh_macs: list[str] = []
        self.fresh_sites: list[tuple[str, str]] = []

    def error(self, line: int, name: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "field": name, "message": str(message)})

    def fast(self, values: list) -> Row | None:
        try:
            session_id, mac, ip, site, address, started, ended, bytes_in, bytes_out = values
            mac = self.macs.get(mac) or self._mac(mac)
            ip = ip_parse(ip)
            started_at = datetime.fromisoformat(started)
            ended_at = datetime.fromisoformat(ended)
            offset = started[19:]
            if len(started) == 25 and len(ended) == 25 and started[10] == "T" == ended[10] and ended[19:] == offset:
                # The usual form, one offset: text compares like time, and much faster.
                oldest, latest = self.bounds.get(offset) or self._bounds(started_at)
                in_order = oldest <= started[:19] <= ended[:19] <= latest
            else:
                in_order = self.oldest <= started_at <= ended_at <= self.latest
                started, ended = started_at.isoformat(), ended_at.isoformat()
            if (
                in_order
                and SESSION_ID.fullmatch(session_id)
                and site
                and len(site) <= 200
                and len(address) <= 300
                and bytes_in.isascii()
                and bytes_in.isdigit()
                and bytes_out.isascii()
                and bytes_out.isdigit()
                and len(bytes_in) < 19
                and len(bytes_out) < 19
            ):
                tail = f"{session_id}\t{mac}\t{ip}\t{started}\t{ended}\t{bytes_in}\t{bytes_out}\n"
                place = (site, address)
                if place not in self.sites:
                    self._site(place)
                return Row(session_id, mac, ip, place, started_at, ended_at, tail, bytes_in, bytes_out)
        except (TypeError, ValueError, AttributeError, ValidationError):
            pass
        return None

    def _bounds(self, moment: datetime) -> tuple[str, str]:
        """The oldest and latest accepted moments, written in the offset of `moment`."""
        zone = moment.tzinfo
        if zone is None:
            raise ValueError("no offset")
        bounds = (self.oldest.astimezone(zone).isoformat()[:19], self.latest.astimezone(zone).isoformat()[:19])
        self.bounds[moment.isoformat()[19:]] = bounds
        return bounds

    def _mac(self, value: str) -> str:
        canonical = self.macs[value] = mac_parse(value).canonical
        self.fresh_macs.append(canonical)
        return canonical

    def _site(self, place: tuple[str, str]) -> None:
        self.sites.add(place)
        self.fresh_sites.append(place)

    def fresh(self) -> tuple[set[str], set[tuple[str, str]]]:
        """The MAC addresses and sites first seen since the last call."""
        macs, sites = set(self.fresh_macs), set(self.fresh_sites)
        self.fresh_macs, self.fresh_sites = [], []
        return macs, sites

    def slow(self, line: int, values: list | str) -> Row | None:
        """Check a row that `fast` refused: record each of its errors, or return it
        when it is good after all (spaces around values, very large numbers)."""
        if isinstance(values, str):
            self.error(line, "", values)
            return None
        record = {name: (value or "").strip() for name, value in zip(FIELDS, values, strict=True)}
        for name in FIELDS:
            if not record[name] and name != "site_address":
                self.error(line, name, _("This field is required."))
                return None
        errors_before = len(self.errors)
        if not SESSION_ID.fullmatch(record["session_id"]):
            self.error(line, "session_id", _("Use 1 to 64 printable characters, without spaces or backslashes."))
        try:
            mac_parse(record["mac"])
        except MacError as exc:
            self.error(line, "mac", exc.messages[0])
        try:
            ip_parse(record["ip"])
        except ValueError:
            self.error(line, "ip", _("Not an IPv4 or IPv6 address."))
        if len(record["site"]) > 200:
            self.error(line, "site", _("At most 200 characters."))
        if len(record["site_address"]) > 300:
            self.error(line, "site_address", _("At most 300 characters."))
        started = self._moment(line, "started_at", record["started_at"])
        ended = self._moment(line, "ended_at", record["ended_at"])
        if started and ended:
            if ended < started:
                self.error(line, "ended_at", _("The session ends before it starts."))
            elif started < self.oldest:
                self.error(line, "started_at", _("Older than the retention period: such sessions are not kept."))
            elif ended > self.latest:
                self.error(line, "ended_at", _("In the future."))
        for name in ("bytes_in", "bytes_out"):
            value = record[name]
            if value.startswith("-") and value[1:].isdigit():
                self.error(line, name, _("Must be zero or more."))
            elif not (value.isascii() and value.isdigit()) or int(value) > MAX_BYTES:
                self.error(line, name, _("Must be a whole number of bytes."))
        if len(self.errors) > errors_before:
            return None
        site = (record["site"], record["site_address"])
        if site not in self.sites:
            self._site(site)
        mac, ip = self.macs.get(record["mac"]) or self._mac(record["mac"]), ip_parse(record["ip"])
        session_id, bytes_in, bytes_out = (
            record["session_id"],
            str(int(record["bytes_in"])),
            str(int(record["bytes_out"])),
        )
        tail = f"{session_id}\t{mac}\t{ip}\t{started.isoformat()}\t{ended.isoformat()}\t{bytes_in}\t{bytes_out}\n"
        return Row(session_id, mac, ip, site, started, ended, tail, bytes_in, bytes_out)

    def _moment(self, line: int, name: str, value: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            self.error(line, name, _("Not a date and time: use ISO 8601, e.g. 2026-03-01T09:30:00+01:00."))
            return None
        if moment.tzinfo is None:
            self.error(line, name, _("The date and time needs a UTC offset, e.g. +01:00 or Z."))
            return None
        return moment


#: What the parser hands over: rows, and the MAC addresses and sites first seen in them.
Chunk = tuple[list[Row], set[str], set[tuple[str, str]]]


def parse_chunks(records: Iterator[tuple[int, list | str]], checker: Checker) -> Iterator[Chunk]:
    """The records checked, CHUNK_ROWS rows at a time. After a bad row no more chunks
    come, but the checking goes on, so that `checker.errors` names every bad line."""
    chunk: list[Row] = []
    fast = checker.fast
    for line, values in records:
        row = None if isinstance(values, str) else fast(values)
        if row is None:
            row = checker.slow(line, values)
            if len(checker.errors) >= MAX_ERRORS:
                break
        if row is not None and not checker.errors:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield (chunk, *checker.fresh())
                chunk = []
    if chunk and not checker.errors:
        yield (chunk, *checker.fresh())
