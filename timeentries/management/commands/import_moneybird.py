"""Import an administration's users, contacts, projects and time entries straight from a
Moneybird API: Moneybird's own, or another Uurwerk's (timeentries/imports/moneybird_import.py)."""

import time
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from administrations.management.base import administration_get, service_errors
from timeentries.imports.moneybird_api import PER_PAGE_MAX, MoneybirdApiError, MoneybirdClient
from timeentries.imports.moneybird_import import MoneybirdImport, MoneybirdImportSummary
from timeentries.management.reporting import ErrorReport, Progress, write_totals

# What an operator most likely has to fix, by status.
HINTS = {
    401: "check --token and its scopes: time_entries and settings",
    403: "check --token and its scopes: time_entries and settings",
    404: "check --base-url and --source-administration",
}


class Command(BaseCommand):
    help = (
        "Import users (as members), contacts, projects and time entries of an administration "
        "from a Moneybird API (Moneybird's, or another Uurwerk's). Missing records are created "
        "through the services; running the import again adds only what is new."
    )
    # Tests pass a sleep that does not wait; there is no command-line option for it.
    stealth_options = ("sleep",)

    def add_arguments(self, parser):
        parser.add_argument("administration_id", help="the administration to import into")
        parser.add_argument(
            "--base-url", required=True, help="e.g. https://moneybird.com (/api/v2 is added)"
        )
        parser.add_argument("--token", required=True, help="an API token of the source")
        parser.add_argument(
            "--source-administration", required=True, metavar="ID", help="the source's id"
        )
        parser.add_argument("--dry-run", action="store_true", help="read everything, write nothing")
        parser.add_argument("--errors-to", metavar="FILE", help="write every rejected entry here")
        parser.add_argument(
            "--per-page",
            type=int,
            default=PER_PAGE_MAX,
            help=f"records per request, 1-{PER_PAGE_MAX} (default {PER_PAGE_MAX})",
        )

    def handle(self, *args, administration_id, **options):
        administration = administration_get(administration_id)
        source_id = str(options["source_administration"]).strip()
        if not (source_id.isascii() and source_id.isdigit()):
            raise CommandError(f"--source-administration: {source_id!r} is not a number")
        if not 1 <= options["per_page"] <= PER_PAGE_MAX:
            raise CommandError(f"--per-page must be from 1 to {PER_PAGE_MAX}")
        try:
            client = MoneybirdClient(
                options["base_url"],
                options["token"],
                source_id,
                sleep=options.get("sleep", time.sleep),
            )
        except ValueError as exc:
            raise CommandError(f"--base-url: {exc}") from None
        try:
            opened = MoneybirdImport(
                client,
                administration=administration,
                per_page=options["per_page"],
                dry_run=options["dry_run"],
            )
        except MoneybirdApiError as exc:
            raise CommandError(self.describe(exc)) from None
        try:
            self.import_all(opened, options["errors_to"])
        except MoneybirdApiError as exc:
            self.report(opened.summary, stopped=True)
            raise CommandError(self.describe(exc)) from None
        except IntegrityError:
            self.report(opened.summary, stopped=True)
            raise CommandError(
                "a page met entries written meanwhile (another import of the same source?); "
                "nothing of that page was written: run the import again"
            ) from None
        self.report(opened.summary)

    @staticmethod
    def describe(error: MoneybirdApiError) -> str:
        hint = HINTS.get(error.status or 0)
        return f"{error} ({hint})" if hint else str(error)

    def import_all(self, opened: MoneybirdImport, errors_to: str | None) -> None:
        with ExitStack() as closing:
            progress = Progress(
                getattr(self.stderr, "_out", self.stderr),
                total=opened.entries_total,
                unit=" entries",
                of="of the entries",
            )
            closing.callback(progress.close)
            errors = ErrorReport(progress.write, errors_to)
            closing.callback(errors.close)
            with service_errors():
                opened.run(on_error=errors, on_note=progress.write, on_progress=progress.update)

    def report(self, summary: MoneybirdImportSummary, *, stopped: bool = False) -> None:
        if stopped:
            self.stdout.write("The import stopped early. Until then:")
        elif summary.dry_run:
            self.stdout.write("Dry run: nothing was written. An import would give:")
        self.stdout.write(f"source: {summary.source}")
        for kind, tally in summary.records.items():
            line = (
                f"{kind}: {tally.read} read, {len(summary.created[kind])} created, "
                f"{tally.present} already present"
            )
            self.stdout.write(line + (f", {len(tally.failed)} failed" if tally.failed else ""))
        self.stdout.write(f"entries: {summary.rows}")
        write_totals(self.stdout.write, summary)
