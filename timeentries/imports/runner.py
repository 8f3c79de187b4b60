"""The loop behind `manage.py import_time_entries`: stream a file's rows, in batches, into
the import service, reporting errors and progress as it goes. Only one batch of rows is held
at a time, so memory does not grow with the file."""

import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from django.db import reset_queries

from administrations.models import Administration, User
from timeentries.imports.detect import open_import
from timeentries.imports.engine import (
    IMPORT_BATCH_SIZE,
    ImportBatchResult,
    ImportLookups,
    time_entries_import_batch,
)
from timeentries.imports.rows import ImportFormatError, ImportRow, RowError


@dataclasses.dataclass
class ImportSummary:
    format: str = ""
    dry_run: bool = False
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    created: dict[str, list[str]] = dataclasses.field(
        default_factory=lambda: {"users": [], "projects": [], "contacts": []}
    )
    # Why the file could not be read to its end (broken JSON); the rows before it were imported.
    stopped: str = ""

    def add(self, result: ImportBatchResult) -> None:
        self.imported += result.imported
        self.skipped += result.skipped
        self.rejected += result.rejected
        for kind, names in result.created.items():
            self.created[kind].extend(names)


def import_time_entries(
    stream: BinaryIO,
    *,
    administration: Administration,
    actor: User | None = None,
    format: str = "auto",
    file_name: str = "",
    dry_run: bool = False,
    create_missing: bool = False,
    day_first: bool = False,
    batch_size: int = IMPORT_BATCH_SIZE,
    on_error: Callable[[RowError], None] = lambda error: None,
    on_progress: Callable[[ImportSummary, int], None] = lambda summary, bytes_read: None,
) -> ImportSummary:
    """Import every row of `stream` (bytes). Raises ImportFormatError before writing anything
    when the file's format cannot be told or a column is missing. Each batch is committed on its
    own: an interruption loses at most the batch under way, and running the import again adds
    what is missing. `on_error` gets every rejected row, in row order within each batch;
    `on_progress` the running totals and the bytes read so far, after each batch."""
    opened = open_import(stream, format=format, tz=administration.tz, day_first=day_first)
    summary = ImportSummary(format=opened.format, dry_run=dry_run)
    lookups = ImportLookups()
    batch: list[ImportRow] = []
    unreadable: list[RowError] = []

    def flush() -> None:
        result = time_entries_import_batch(
            administration=administration,
            actor=actor,
            rows=batch,
            source=opened.source,
            file=file_name,
            create_missing=create_missing,
            dry_run=dry_run,
            lookups=lookups,
        )
        summary.add(result)
        for error in sorted([*unreadable, *result.errors], key=lambda e: e.row):
            on_error(error)
        batch.clear()
        unreadable.clear()
        # With DEBUG on, Django keeps the last 9,000 queries: with 2,000 keys in some, that is
        # hundreds of MB. An import has no use for them.
        reset_queries()
        on_progress(summary, opened.reader.bytes_read)

    for item in _read_ahead(opened.rows, batch_size):
        if isinstance(item, ImportFormatError):
            summary.stopped = str(item)
            break
        summary.rows += 1
        if isinstance(item, RowError):
            summary.rejected += 1
            unreadable.append(item)
        else:
            batch.append(item)
        if len(batch) + len(unreadable) >= batch_size:
            flush()
    if batch or unreadable:
        flush()
    return summary


_END = object()


def _read_ahead(rows: Iterator[ImportRow | RowError], batch_size: int) -> Iterator[Any]:
    """The rows of `rows`, read and parsed in a thread of their own up to two batches ahead, so
    that parsing the next batch overlaps writing this one: the writer mostly waits on the
    database (COPY, the checks at commit), with the GIL released. Memory stays bounded by the
    queue. An ImportFormatError (the file cannot be read on) comes through as an item, last;
    any other exception is raised here. Leaving the loop early stops the reader."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        chunk: list[Any] = []
        try:
            for item in rows:
                chunk.append(item)
                if len(chunk) >= batch_size and not put(chunk):
                    return
                if len(chunk) >= batch_size:
                    chunk = []
        except ImportFormatError as exc:
            chunk.append(exc)
        except BaseException as exc:  # handed to the caller's thread, raised there
            put(chunk)
            put(exc)
            return
        put(chunk)
        put(_END)

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while (chunk := chunks.get()) is not _END:
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
            if chunk and isinstance(chunk[-1], ImportFormatError):
                return
    finally:
        stop.set()
        reader.join(timeout=5)
