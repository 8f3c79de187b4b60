"""Moneybird's time entries as JSON: an array of entries as its API renders them (and as
export_time_entries --format json writes them).

Read incrementally: `iter_json_array` decodes one element at a time with
json.JSONDecoder.raw_decode over a buffer refilled from the stream, so a file of any length
needs the memory of one element (ijson is not a dependency). Broken JSON cannot be resumed
reliably, so it ends the import with an ImportFormatError; rows before it are kept.

People: by `user.email` when the rendering has it (ours adds it; Moneybird's extended user
carries the same key), else by the source's `user_id` when that is a member here (an export of
this same server), else by `user.name` among the members. Contacts by company name, or first
and last name; projects by name. The entry's `id` keys the row, so re-importing the file adds
nothing.

`element_row` converts one decoded element; import_moneybird feeds it the API's pages.
"""

import json
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any, TextIO

from common.timefmt import parse_datetime
from timeentries.imports.rows import ImportFormatError, ImportRow, RowError, RowProblem

NAME = "moneybird-json"
SOURCE = "moneybird"
CHUNK = 1 << 16
_WHITESPACE = " \t\n\r"

COLUMNS = {
    "user": "user",
    "description": "description",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "paused_duration": "paused_duration",
    "project": "project",
    "contact": "contact",
    "billable": "billable",
    "base": "started_at",
}


def iter_json_array(stream: TextIO, *, chunk: int = CHUNK) -> Iterator[Any]:
    """The elements of a top-level JSON array, one at a time."""
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False

    def fill() -> bool:
        nonlocal buffer, pos, eof
        more = "" if eof else stream.read(chunk)
        eof = not more
        buffer, pos = buffer[pos:] + more, 0
        return bool(more)

    def next_char() -> str:
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            if pos < len(buffer):
                return buffer[pos]
            if not fill():
                return ""

    if next_char() != "[":
        raise ImportFormatError("expected a JSON array of time entries")
    pos += 1
    index = 0
    while True:
        char = next_char()
        if not char:
            raise ImportFormatError(f"JSON: the array ends unclosed after element {index}")
        if char == "]":
            return
        if index:
            if char != ",":
                raise ImportFormatError(f"JSON: expected ',' or ']' after element {index}")
            pos += 1
            char = next_char()
        if not char:
            raise ImportFormatError(f"JSON: the array ends unclosed after element {index}")
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if fill():  # the element runs past the buffer: read on and retry
                    continue
                raise ImportFormatError(f"JSON: element {index + 1}: {exc.msg}") from None
            # A bare number may continue past the buffer's end; objects and strings cannot.
            if end == len(buffer) and isinstance(value, int | float) and fill():
                continue
            break
        pos = end
        index += 1
        yield value


def contact_name(contact: dict[str, Any]) -> str:
    """The name an entry's contact is matched by: its company, else "first last"."""
    if contact.get("company_name"):
        return str(contact["company_name"]).strip()
    return f"{contact.get('firstname') or ''} {contact.get('lastname') or ''}".strip()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _moment(item: dict[str, Any], key: str, tz: tzinfo):
    value = item.get(key)
    if value in (None, ""):
        return None
    try:
        return parse_datetime(str(value), default_tz=tz)
    except ValueError:
        raise RowProblem(key, f"{value!r} is not an ISO 8601 time") from None


def convert(number: int, item: Any, tz: tzinfo) -> ImportRow:
    """One decoded entry as an ImportRow; raises RowProblem when a value cannot be read."""
    if not isinstance(item, dict):
        raise RowProblem("", "is not a time entry object")
    user = item.get("user") if isinstance(item.get("user"), dict) else {}
    contact = item.get("contact") if isinstance(item.get("contact"), dict) else {}
    project = item.get("project") if isinstance(item.get("project"), dict) else {}
    pause = item.get("paused_duration") or 0
    if not isinstance(pause, int) or isinstance(pause, bool):
        raise RowProblem("paused_duration", f"{pause!r} is not a number of seconds")
    billable = item.get("billable", True)
    if not isinstance(billable, bool):
        raise RowProblem("billable", f"{billable!r} is not true or false")
    return ImportRow(
        row=number,
        started_at=_moment(item, "started_at", tz),
        ended_at=_moment(item, "ended_at", tz),
        description=_text(item.get("description")),
        user_email=_text(user.get("email") or item.get("user_email")).lower(),
        user_name=_text(user.get("name")),
        user_ref=_text(item.get("user_id") or user.get("id")),
        paused_duration=pause,
        project=_text(project.get("name")),
        contact=contact_name(contact),
        billable=billable,
        source_id=_text(item.get("id")),
        columns=COLUMNS,
    )


def element_row(number: int, item: Any, tz: tzinfo) -> ImportRow | RowError:
    """One decoded element of Moneybird's time-entry rendering, from a file or straight from
    its API (import_moneybird), as a row, or as the error that keeps it out."""
    try:
        return convert(number, item, tz)
    except RowProblem as problem:
        return RowError(number, problem.column, problem.reason)


def parse(stream: TextIO, *, tz: tzinfo, day_first: bool = False):
    for number, item in enumerate(iter_json_array(stream), start=1):
        yield element_row(number, item, tz)
