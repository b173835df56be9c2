"""The erasure ledger: which accounts were erased, with no personal data.

Each entry is the account's id, an HMAC-SHA256 (key ERASURE_LEDGER_KEY) of its
email address and the time. It is written twice: a table, for staff, and an
append-only JSON-lines file at ERASURE_LEDGER_PATH, which a database restore does
not roll back. After a restore, `manage.py erasure_ledger_apply` reads both and
erases again each account the backup brought back, if its id and the hash of one
of its addresses match (so an id reused since is never touched)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class LedgerLine:
    account_id: int
    email_hash: str
    erased_at: datetime


def email_hash(email: str) -> str:
    key = settings.ERASURE_LEDGER_KEY.encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def ledger_path() -> Path:
    return Path(settings.ERASURE_LEDGER_PATH)


def ledger_file_append(line: LedgerLine) -> None:
    """Append one line and flush it to disk before returning."""
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"account_id": line.account_id, "email_hash": line.email_hash, "erased_at": line.erased_at.isoformat()}
    )
    with path.open("a", encoding="utf-8") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def ledger_file_read(path: Path | None = None) -> Iterator[LedgerLine]:
    path = path or ledger_path()
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            data = json.loads(raw)
            yield LedgerLine(
                account_id=int(data["account_id"]),
                email_hash=data["email_hash"],
                erased_at=datetime.fromisoformat(data["erased_at"]),
            )
