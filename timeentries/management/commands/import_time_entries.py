"""Import time entries from another tool's export: Toggl Track, Clockify or Harvest detailed
report CSVs, Moneybird's time-entry JSON, or our own CSV (export_time_entries)."""

import csv
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from tqdm import tqdm

from administrations.management.base import administration_get, service_errors
from timeentries.imports.detect import FORMAT_CHOICES
from timeentries.imports.rows import ImportFormatError, RowError
from timeentries.imports.runner import ImportSummary, import_time_entries
from timeentries.services import IMPORT_BATCH_SIZE

# Errors printed on stderr when no --errors-to file is given.
ERRORS_SHOWN = 50
# Without a terminal: one progress line at most this often.
PLAIN_PROGRESS_SECONDS = 10.0


class Progress:
    """A tqdm bar over the file's bytes (rows and rows/s beside it) on a terminal; otherwise a
    plain line now and then, fit for logs. `stream` is a plain text stream (not a command's
    OutputWrapper, which would end each of tqdm's in-place redraws with a newline)."""

    def __init__(self, stream, *, total_bytes: int | None, every: float = PLAIN_PROGRESS_SECONDS):
        self.stream = stream
        self.started = self.last_line = time.monotonic()
        self.every = every
        self.total_bytes = total_bytes
        self.bar = None
        if stream.isatty():
            self.bar = tqdm(
                total=total_bytes,
                unit="B",
                unit_scale=True,
                file=stream,
                # tqdm's own probe answers -1 on a terminal of unknown size (a bare pty), and
                # then draws nothing; shutil falls back to 80x24.
                ncols=shutil.get_terminal_size().columns,
                nrows=shutil.get_terminal_size().lines,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}",
            )

    def update(self, summary: ImportSummary, bytes_read: int) -> None:
        now = time.monotonic()
        rate = summary.rows / max(now - self.started, 1e-9)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{summary.rows} rows, {rate:,.0f} rows/s", refresh=False)
            self.bar.update(bytes_read - self.bar.n)
        elif now - self.last_line >= self.every:
            self.last_line = now
            share = f", {bytes_read / self.total_bytes:.0%} of the file" if self.total_bytes else ""
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


class Command(BaseCommand):
    help = (
        "Import time entries from a Toggl, Clockify or Harvest detailed-report CSV, Moneybird's "
        "time-entry JSON or our own CSV. Bad rows are reported and left out; importing the same "
        "file again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("administration_id")
        parser.add_argument("file", help="the file to import; - reads standard input")
        parser.add_argument(
            "--format", default="auto", choices=FORMAT_CHOICES, help="default: from the header"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="add unknown members (by email), projects and contacts instead of rejecting",
        )
        parser.add_argument("--errors-to", metavar="FILE", help="write every rejected row here")
        parser.add_argument(
            "--day-first", action="store_true", help="read dates like 01/03/2024 as 1 March"
        )
        parser.add_argument("--batch-size", type=int, default=IMPORT_BATCH_SIZE)

    def handle(self, *args, administration_id, file, **options):
        administration = administration_get(administration_id)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        with ExitStack() as closing:
            if file == "-":
                stream, name, total = sys.stdin.buffer, "-", None
            else:
                path = Path(file)
                try:
                    stream = closing.enter_context(path.open("rb"))
                except OSError as exc:
                    raise CommandError(f"file: {exc.strerror}: {file}") from None
                name, total = path.name, os.fstat(stream.fileno()).st_size
            progress = Progress(getattr(self.stderr, "_out", self.stderr), total_bytes=total)
            closing.callback(progress.close)
            errors = ErrorReport(progress.write, options["errors_to"])
            closing.callback(errors.close)
            try:
                with service_errors():
                    summary = import_time_entries(
                        stream,
                        administration=administration,
                        format=options["format"],
                        file_name=name,
                        dry_run=options["dry_run"],
                        create_missing=options["create_missing"],
                        day_first=options["day_first"],
                        batch_size=options["batch_size"],
                        on_error=errors,
                        on_progress=progress.update,
                    )
            except ImportFormatError as exc:
                raise CommandError(str(exc)) from None
            except IntegrityError:
                raise CommandError(
                    "a batch met rows written meanwhile (another import of the same file?); "
                    "nothing of that batch was written: run the import again"
                ) from None
        self.report(summary)
        if summary.stopped:
            raise CommandError(f"the import stopped early: {summary.stopped}")

    def report(self, summary: ImportSummary) -> None:
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was written. An import would give:")
        self.stdout.write(f"format: {summary.format}")
        self.stdout.write(f"rows: {summary.rows}")
        self.stdout.write(f"imported: {summary.imported}")
        self.stdout.write(f"skipped: {summary.skipped} (already present)")
        self.stdout.write(f"rejected: {summary.rejected}")
        for kind, names in summary.created.items():
            if names:
                self.stdout.write(f"created {kind}: {len(names)} ({', '.join(names[:20])})")
