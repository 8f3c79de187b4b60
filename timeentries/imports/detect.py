"""Open an import file: its encoding (UTF-8 with or without BOM, UTF-16 with BOM, else
Windows-1252), its separator (`,`, `;` or tab, by counting them in the header line outside
quotes) and its format (from the first bytes: `[` is Moneybird's JSON; otherwise the CSV
header's column names), then stream its rows through the format's reader.

Only the first 64 KiB are looked at to decide; they are put back in front of the stream, so a
pipe or any non-seekable file-like object works as well as a file.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from types import ModuleType
from typing import BinaryIO

from timeentries.imports import clockify, harvest, moneybird_json, toggl, uurwerk_csv
from timeentries.imports.reading import Header
from timeentries.imports.rows import ImportFormatError, ImportRow, RowError

# Tried in this order by "auto": the stricter signatures first.
CSV_FORMATS: tuple[ModuleType, ...] = (uurwerk_csv, clockify, toggl, harvest)
FORMATS: dict[str, ModuleType] = {module.NAME: module for module in (*CSV_FORMATS, moneybird_json)}
FORMAT_CHOICES = ("auto", *FORMATS)
HEAD_BYTES = 1 << 16
SEPARATORS = (",", ";", "\t")


class CountingReader(io.RawIOBase):
    """The stream, with `head` (bytes already read from it) put back in front, counting the
    bytes handed on: the progress of an import through its file."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head = head
        self.rest = rest
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
        else:
            data = self.rest.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.bytes_read += size
        return size


@dataclass
class OpenedImport:
    format: str
    source: str
    rows: Iterator[ImportRow | RowError]
    reader: CountingReader


def _read_head(stream: BinaryIO) -> bytes:
    parts, size = [], 0
    while size < HEAD_BYTES:
        data = stream.read(HEAD_BYTES - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut at the end of the head may split a character: only earlier errors count.
        if exc.start < len(head) - 3:
            return "cp1252"
    return "utf-8"


def _separator(header_line: str) -> str:
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(SEPARATORS, key=lambda sep: counts[sep])


def open_import(
    stream: BinaryIO, *, format: str = "auto", tz: tzinfo, day_first: bool = False
) -> OpenedImport:
    """Detect what `stream` holds and return its rows, read lazily. Raises ImportFormatError
    when the file is of no known format or lacks a column its format needs."""
    if format not in FORMAT_CHOICES:
        raise ImportFormatError(f"unknown format {format!r}; choose from {FORMAT_CHOICES}")
    head = _read_head(stream)
    encoding = _encoding(head)
    raw = CountingReader(head, stream)
    text = io.TextIOWrapper(
        io.BufferedReader(raw, 1 << 16), encoding=encoding, errors="replace", newline=""
    )
    start = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if format == "moneybird-json" or (format == "auto" and start[:1] == "["):
        rows = moneybird_json.parse(text, tz=tz, day_first=day_first)
        return OpenedImport(moneybird_json.NAME, moneybird_json.SOURCE, rows, raw)
    if not start:
        raise ImportFormatError("the file is empty")
    reader = csv.reader(text, delimiter=_separator(start.splitlines()[0]))
    header = Header(next(reader, []))
    if format == "auto":
        module = next((m for m in CSV_FORMATS if m.matches(header)), None)
        if module is None:
            raise ImportFormatError(
                "cannot tell the format from the header "
                f"({', '.join(header.names[:8])}...): pass --format"
            )
    else:
        module = FORMATS[format]
        missing = header.missing(module.REQUIRED)
        if missing:
            raise ImportFormatError(
                f"not a {format} file: column(s) {', '.join(missing)} missing from the header"
            )
    rows = module.parse(header, header.records(reader), tz=tz, day_first=day_first)
    return OpenedImport(module.NAME, module.SOURCE, rows, raw)
