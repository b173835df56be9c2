"""The export's ZIP writer: what it writes is read back whole by Python's zipfile and
by Info-ZIP's unzip, with ZIP64 sizes, including a member compressed elsewhere first."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from datetime import datetime

import pytest

from exports.archive import Spool, ZipWriter

MODIFIED = datetime(2026, 5, 1, 8, 30, 14)


def archive_write(path, members: dict[str, bytes], spooled: dict[str, bytes]):
    records = []
    with open(path, "wb") as file:
        writer = ZipWriter(file, modified=MODIFIED)
        spools = {}
        for name, data in spooled.items():
            spools[name] = Spool(name, max_size=1024)  # goes to disk past 1 KB
            for start in range(0, len(data), 7000):
                spools[name].write(data[start : start + 7000])
        for name, data in members.items():
            member = writer.open(name)
            for start in range(0, len(data), 5000):
                member.write(data[start : start + 5000])
            records.append(member.close())
        for spool in spools.values():
            records.append(writer.add(spool))
            spool.close()
        writer.close()
    return records


def test_members_and_a_spooled_member_read_back_with_their_hashes(tmp_path):
    text = "".join(f"{i},Gare de Lyon,2026-05-01 08:30:00+00\n" for i in range(20_000)).encode()
    noise = os.urandom(50_000)  # does not compress: stored bigger than it is
    path = tmp_path / "export.zip"
    records = archive_write(path, {"sessions.csv": text, "noise.bin": noise, "empty.txt": b""}, {"data.json": text})
    contents = {"sessions.csv": text, "noise.bin": noise, "empty.txt": b"", "data.json": text}
    assert {r.name: (r.size, r.sha256) for r in records} == {
        name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in contents.items()
    }
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == ["sessions.csv", "noise.bin", "empty.txt", "data.json"]
        for info in zf.infolist():
            assert zf.read(info) == contents[info.filename]
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (2026, 5, 1, 8, 30, 14)
            assert info.extra[:2] == b"\x01\x00"  # ZIP64 sizes, as with force_zip64
        assert zf.getinfo("sessions.csv").compress_size < len(text) / 5


def test_unzip_checks_every_member(tmp_path):
    assert shutil.which("unzip"), "Info-ZIP's unzip is missing: `make test` (scripts/ensure-services.sh) installs it"
    path = tmp_path / "export.zip"
    archive_write(path, {"a.csv": b"x,y\n" * 10_000, "é.txt": "données\n".encode()}, {"data.json": b"{}\n"})
    done = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No errors detected" in done.stdout
    with zipfile.ZipFile(path) as zf:
        assert zf.read("é.txt") == "données\n".encode()


def test_one_member_at_a_time(tmp_path):
    with open(tmp_path / "x.zip", "wb") as file:
        writer = ZipWriter(file, modified=MODIFIED)
        writer.open("a.csv")
        with pytest.raises(RuntimeError):
            writer.open("b.csv")
        with pytest.raises(RuntimeError):
            writer.close()
