"""What the import commands (import_time_entries, import_moneybird) show while they run: a
progress bar or plain progress lines, and the rejected rows."""

import csv
import shutil
import time
from collections.abc import Callable
from typing import TextIO

from django.core.management.base import CommandError
from tqdm import tqdm

from timeentries.imports.rows import RowError
from timeentries.imports.runner import ImportSummary

# Errors printed on stderr when no --errors-to file is given.
ERRORS_SHOWN = 50
# Without a terminal: one progress line at most this often.
PLAIN_PROGRESS_SECONDS = 10.0


class Progress:
    """A tqdm bar (rows and rows/s beside it) on a terminal; otherwise a plain line now and
    then, fit for logs. The bar counts `unit`s towards `total`: a file's bytes, or the entries
    an API announced. `stream` is a plain text stream (not a command's OutputWrapper, which
    would end each of tqdm's in-place redraws with a newline)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        total: int | None,
        unit: str = "B",
        of: str = "of the file",
        every: float = PLAIN_PROGRESS_SECONDS,
    ):
        self.stream = stream
        self.started = self.last_line = time.monotonic()
        self.every = every
        self.total = total
        self.of = of
        self.bar = None
        if stream.isatty():
            self.bar = tqdm(
                total=total,
                unit=unit,
                unit_scale=True,
                file=stream,
                # tqdm's own probe answers -1 on a terminal of unknown size (a bare pty), and
                # then draws nothing; shutil falls back to 80x24.
                ncols=shutil.get_terminal_size().columns,
                nrows=shutil.get_terminal_size().lines,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}",
            )

    def update(self, summary: ImportSummary, done: int) -> None:
        """`done`: how far towards `total` (bytes read, entries fetched)."""
        now = time.monotonic()
        rate = summary.rows / max(now - self.started, 1e-9)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{summary.rows} rows, {rate:,.0f} rows/s", refresh=False)
            self.bar.update(done - self.bar.n)
        elif now - self.last_line >= self.every:
            self.last_line = now
            share = f", {done / self.total:.0%} {self.of}" if self.total else ""
            self.write(
                f"{summary.rows} rows read: {summary.imported} imported, {summary.skipped} "
                f"skipped, {summary.rejected} rejected; {rate:,.0f} rows/s{share}"
            )

    def write(self, line: str) -> None:
        """A line of text that leaves the bar intact."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class ErrorReport:
    """Rejected rows: all of them to a CSV file (row, column, reason), or the first few to
    stderr."""

    def __init__(self, write: Callable[[str], None], path: str | None):
        self.write = write
        self.count = 0
        try:
            self.file = open(path, "w", newline="", encoding="utf-8") if path else None  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"--errors-to: {exc.strerror}: {path}") from None
        self.writer = csv.writer(self.file) if self.file else None
        if self.writer:
            self.writer.writerow(["row", "column", "reason"])

    def __call__(self, error: RowError) -> None:
        self.count += 1
        if self.writer:
            self.writer.writerow([error.row, error.column, error.reason])
        elif self.count <= ERRORS_SHOWN:
            where = f"row {error.row}, {error.column}" if error.column else f"row {error.row}"
            self.write(f"{where}: {error.reason}")

    def close(self) -> None:
        if self.file:
            self.file.close()
        elif self.count > ERRORS_SHOWN:
            self.write(
                f"... and {self.count - ERRORS_SHOWN} more errors (--errors-to FILE lists all)"
            )


def write_totals(write: Callable[[str], None], summary: ImportSummary) -> None:
    """The end of an import's summary, the same for every import command: what became of the
    entries, and the names created for them."""
    write(f"imported: {summary.imported}")
    write(f"skipped: {summary.skipped} (already present)")
    write(f"rejected: {summary.rejected}")
    for kind, names in summary.created.items():
        if names:
            write(f"created {kind}: {len(names)} ({', '.join(names[:20])})")
