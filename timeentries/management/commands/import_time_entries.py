"""Import time entries from another tool's export: Toggl Track, Clockify or Harvest detailed
report CSVs, Moneybird's time-entry JSON, or our own CSV (export_time_entries)."""

import os
import sys
from contextlib import ExitStack
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from administrations.management.base import administration_get, service_errors
from timeentries.imports.detect import FORMAT_CHOICES
from timeentries.imports.engine import IMPORT_BATCH_SIZE
from timeentries.imports.rows import ImportFormatError
from timeentries.imports.runner import ImportSummary, import_time_entries
from timeentries.management.reporting import ErrorReport, Progress, write_totals


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
            progress = Progress(getattr(self.stderr, "_out", self.stderr), total=total)
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
        write_totals(self.stdout.write, summary)
