"""A ZIP file written as a stream, each member compressed as it is written.

Why not `zipfile`: it compresses with the zlib module only, and at level 1 zlib
is the slowest part of a large export (about 150 MB/s here). ISA-L's deflate
(python-isal) writes the same format four times as fast and a little smaller,
and releases the GIL while it works, so compressing runs beside the thread that
reads from the database. Writing the container ourselves also lets a member be
compressed elsewhere first (`Spool`: data.json, written while each CSV file goes
straight into the archive) and copied in as it is, without compressing it twice.

Every member carries ZIP64 sizes (as `zipfile` writes with `force_zip64`), so a
member or an archive may pass 4 GiB. The archive is a seekable file: each local
header is written first and its CRC and sizes filled in once the member is done,
so no data descriptors are needed, which every unzip tool reads.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from isal import isal_zlib

#: ISA-L level 1: its fastest level that still finds repeated strings.
LEVEL = 1
DEFLATED = 8
ZIP64_VERSION = 45
#: Made on Unix (3), so the external attributes are a file mode.
MADE_BY = (3 << 8) | ZIP64_VERSION
FILE_MODE = 0o100644
UTF8_NAMES = 0x800
FULL = 0xFFFFFFFF

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_ZIP64 = struct.Struct("<HHQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_CENTRAL_ZIP64 = struct.Struct("<HHQQQ")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_END64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")


@dataclass
class FileRecord:
    """A member as the manifest lists it: uncompressed size and SHA-256."""

    name: str
    size: int = 0
    sha256: str = ""


@dataclass
class _Entry:
    name: bytes
    flags: int
    dos_time: int
    dos_date: int
    offset: int
    crc: int = 0
    size: int = 0
    compressed: int = 0


def _dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) as MS-DOS stores them: two-second steps, years from 1980."""
    year = max(moment.year, 1980)
    return (
        (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2),
        ((year - 1980) << 9) | (moment.month << 5) | moment.day,
    )


class _Deflater:
    """Compresses what is written into `target`, keeping the CRC-32, both sizes and
    the SHA-256 of what was written."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self._compressor = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)
        self._sha256 = hashlib.sha256()
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def write(self, data: bytes | memoryview) -> None:
        if not data:
            return
        self.crc = isal_zlib.crc32(data, self.crc)
        self.size += len(data)
        self._sha256.update(data)
        self._emit(self._compressor.compress(data))

    def _emit(self, data: bytes) -> None:
        self.compressed += len(data)
        self._target.write(data)

    def _finish(self) -> str:
        self._emit(self._compressor.flush())
        return self._sha256.hexdigest()


class Member(_Deflater):
    """A member being written into the archive; `close()` returns its record."""

    def __init__(self, archive: ZipWriter, entry: _Entry) -> None:
        super().__init__(archive._file)
        self._archive = archive
        self._entry = entry

    def close(self) -> FileRecord:
        sha256 = self._finish()
        self._entry.crc, self._entry.size, self._entry.compressed = self.crc, self.size, self.compressed
        self._archive._member_done(self._entry)
        return FileRecord(name=self._entry.name.decode(), size=self.size, sha256=sha256)


class Spool(_Deflater):
    """A member compressed into a temporary file (in memory up to `max_size`), to be
    added to the archive later with `ZipWriter.add(spool)`; meanwhile other members
    can be written."""

    def __init__(self, name: str, *, max_size: int = 1024 * 1024) -> None:
        self.name = name
        self._file = tempfile.SpooledTemporaryFile(max_size=max_size)  # noqa: SIM115 - closed by close()
        super().__init__(self._file)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class ZipWriter:
    """Writes members one at a time into `file` (binary, seekable, empty), then
    the central directory on `close()`."""

    def __init__(self, file: BinaryIO, *, modified: datetime) -> None:
        self._file = file
        self._time, self._date = _dos_time(modified)
        self._entries: list[_Entry] = []
        self._open: _Entry | None = None

    def open(self, name: str) -> Member:
        """Start a member; write to it, then close it before opening another."""
        entry = self._entry_start(name)
        self._local_header(entry)
        return Member(self, entry)

    def add(self, spool: Spool) -> FileRecord:
        """Copy a spooled member in as it was compressed."""
        sha256 = spool._finish()
        entry = self._entry_start(spool.name)
        entry.crc, entry.size, entry.compressed = spool.crc, spool.size, spool.compressed
        self._local_header(entry)
        spool._file.seek(0)
        shutil.copyfileobj(spool._file, self._file, 1024 * 1024)
        self._member_done(entry)
        return FileRecord(name=spool.name, size=spool.size, sha256=sha256)

    def close(self, *, comment_size: int = 0) -> None:
        """The central directory, in ZIP64 form, after the last member. With
        `comment_size`, the end record announces an archive comment of that many
        bytes, which the caller then appends (a signature of everything before it)."""
        if self._open is not None:
            raise RuntimeError(f"member {self._open.name!r} is still open")
        start = self._file.tell()
        for entry in self._entries:
            extra = _CENTRAL_ZIP64.pack(1, 24, entry.size, entry.compressed, entry.offset)
            self._file.write(
                _CENTRAL.pack(
                    b"PK\x01\x02",
                    MADE_BY,
                    ZIP64_VERSION,
                    entry.flags,
                    DEFLATED,
                    entry.dos_time,
                    entry.dos_date,
                    entry.crc,
                    FULL,
                    FULL,
                    len(entry.name),
                    len(extra),
                    0,  # comment
                    0,  # disk
                    0,  # internal attributes
                    FILE_MODE << 16,
                    FULL,
                )
                + entry.name
                + extra
            )
        end64 = self._file.tell()
        size = end64 - start
        count = len(self._entries)
        self._file.write(_END64.pack(b"PK\x06\x06", 44, MADE_BY, ZIP64_VERSION, 0, 0, count, count, size, start))
        self._file.write(_END64_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
        self._file.write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                min(size, FULL),
                min(start, FULL),
                comment_size,
            )
        )
        self._file.flush()

    # --- Inside -----------------------------------------------------------------

    def _entry_start(self, name: str) -> _Entry:
        if self._open is not None:
            raise RuntimeError(f"member {self._open.name!r} is still open")
        encoded = name.encode()
        entry = _Entry(
            name=encoded,
            flags=0 if name.isascii() else UTF8_NAMES,
            dos_time=self._time,
            dos_date=self._date,
            offset=self._file.tell(),
        )
        self._open = entry
        return entry

    def _local_header(self, entry: _Entry) -> None:
        """Written when a member starts with what is known then, and again over
        itself once the member is done."""
        self._file.write(
            _LOCAL.pack(
                b"PK\x03\x04",
                ZIP64_VERSION,
                entry.flags,
                DEFLATED,
                entry.dos_time,
                entry.dos_date,
                entry.crc,
                FULL,
                FULL,
                len(entry.name),
                _LOCAL_ZIP64.size,
            )
            + entry.name
            + _LOCAL_ZIP64.pack(1, 16, entry.size, entry.compressed)
        )

    def _member_done(self, entry: _Entry) -> None:
        end = self._file.tell()
        self._file.seek(entry.offset)
        self._local_header(entry)
        self._file.seek(end)
        self._entries.append(entry)
        self._open = None
