"""data.json records made from the CSV text that COPY sends, by Arrow.

A bulk category (the access logs) is read once, as CSV: the export writes that text
to the category's CSV file as it comes, and turns each block of it into JSON
arrays, one per row, for data.json. Arrow parses the block and builds the JSON
text column by column in C++, with the GIL released, so a million rows cost no
Python per row and run beside the thread reading from the database. (Asking the
database for the JSON as well would read and format every row a second time.)

PostgreSQL's CSV tells NULL (an empty unquoted field) from an empty string (`""`);
both survive as `null` and `""`. Values keep their text, except:
- `numbers` columns (integers) are written bare, as JSON numbers;
- `timestamps` columns are written as ISO 8601 with a "T" and a full offset
  (`2026-05-01T08:30:00.250000+00:00`), as the other categories' dates are, where
  PostgreSQL writes `2026-05-01 08:30:00.25+00`.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from cloudportal.privacy import BulkExport

#: Arrow's default allocator (mimalloc) keeps what it freed for later; the system's
#: gives it back, which keeps a worker's memory down between blocks.
_POOL = pa.system_memory_pool()
#: JSON's escapes for the control characters that have a short one; the others are \u00XX.
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
#: Bytes that need escaping inside a JSON string, apart from '"' (tested separately).
_ESCAPED_BYTES = b"\\" + bytes(range(32))


def _escaped(column: pa.Array) -> pa.Array:
    """Each value's text as it goes between the quotes of a JSON string."""
    column = pc.replace_substring(column, "\\", "\\\\", memory_pool=_POOL)
    column = pc.replace_substring(column, '"', '\\"', memory_pool=_POOL)
    for code in range(32):
        char = chr(code)
        if pc.any(pc.match_substring(column, char, memory_pool=_POOL)).as_py():
            column = pc.replace_substring(column, char, _SHORT_ESCAPES.get(char, f"\\u{code:04x}"), memory_pool=_POOL)
    return column


def _iso_timestamps(column: pa.Array) -> tuple[pa.Array, str]:
    """PostgreSQL's `2026-05-01 08:30:00.25+00` as `2026-05-01T08:30:00.25+00:00`:
    the column and what to write after each value. The session's time zone is UTC,
    so every offset is `+00`, which only needs `:00` after it; other offsets (with
    their minutes already, or none) are rewritten one by one."""
    column = pc.replace_substring(column, " ", "T", max_replacements=1, memory_pool=_POOL)
    if pc.all(pc.ends_with(column, "+00", memory_pool=_POOL)).as_py():
        return column, ":00"
    return pc.replace_substring_regex(column, r"([+-]\d\d)$", r"\1:00", memory_pool=_POOL), ""


class JsonRecords:
    """Turns blocks of CSV rows (whole rows, no header) into JSON arrays joined by
    ",\\n"."""

    def __init__(self, bulk: BulkExport) -> None:
        self.columns = bulk.columns
        self.numbers = frozenset(bulk.numbers)
        self.timestamps = frozenset(bulk.timestamps)
        self._convert = pa_csv.ConvertOptions(
            column_types=dict.fromkeys(self.columns, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        self._parse = pa_csv.ParseOptions(newlines_in_values=True)
        self._read = pa_csv.ReadOptions(column_names=self.columns, use_threads=False, block_size=4 * 1024 * 1024)

    def convert(self, block: bytes) -> tuple[memoryview, int]:
        """The block's rows as JSON text (no separator before the first or after the
        last) and how many rows it held."""
        table = pa_csv.read_csv(
            io.BytesIO(block),
            read_options=self._read,
            parse_options=self._parse,
            convert_options=self._convert,
            memory_pool=_POOL,
        )
        if table.num_rows == 0:
            return memoryview(b""), 0
        # Nothing to escape in most blocks: no quote doubled inside a quoted field,
        # no backslash, no control character but the row ends.
        # (More line breaks than rows: one is inside a value.)
        line_breaks = block.count(b"\n")
        escape = (
            line_breaks != table.num_rows
            or b'""' in block
            or len(block.translate(None, _ESCAPED_BYTES)) != len(block) - line_breaks
        )
        # One call joins each row from its columns and the text between them.
        pieces: list = []
        between = "["
        for index, name in enumerate(self.columns):
            column = table.column(name).combine_chunks(memory_pool=_POOL)
            after = ""
            if name in self.timestamps:
                column, after = _iso_timestamps(column)
            quoted = name not in self.numbers
            if quoted and escape:
                column = _escaped(column)
            if column.null_count:  # the value with its quotes, or null
                if quoted:
                    column = pc.binary_join_element_wise('"', column, f'{after}"', "", memory_pool=_POOL)
                column, quoted, after = pc.coalesce(column, "null", memory_pool=_POOL), False, ""
            quote = '"' if quoted else ""
            pieces += [between + ("," if index else "") + quote, column]
            between = after + quote
        pieces.append(between + "],\n")
        lines = pc.binary_join_element_wise(*pieces, "", memory_pool=_POOL)
        return _text(lines)[:-2], table.num_rows


def _text(strings: pa.Array) -> memoryview:
    """The values of a string array, end to end, without copying: its data buffer
    between the first and the last offset."""
    offsets = memoryview(strings.buffers()[1]).cast("i")
    start, end = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[start:end]
