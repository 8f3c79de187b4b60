"""Export an administration's time entries as our CSV or Moneybird's JSON, streamed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from administrations.management.base import administration_get, service_errors
from common.exceptions import BadRequest
from common.filterstring import FilterSyntaxError, parse_filter
from timeentries.exports import write_csv, write_json
from timeentries.filtersets import TimeEntryFilterSet
from timeentries.selectors import time_entries_of, with_details

CHUNK_SIZE = 2000
# Without --filter or --period: every entry (the API's default would be this year only).
EVERYTHING = "state:all"


def filter_text(text: str, period: str | None) -> str:
    """The filter string to apply: --filter, with --period added as its period term."""
    text = (text or "").strip()
    if period:
        try:
            terms = parse_filter(text)
        except FilterSyntaxError as exc:
            raise CommandError(f"--filter: {exc}") from None
        if "period" in terms:
            raise CommandError("give the period either in --filter or with --period, not both")
        text = ",".join(t for t in (text, f"period:{period.strip()}") if t)
    return text or EVERYTHING


class _Unended:
    """A command's stdout as a plain text stream: writes exactly what it is given."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export time entries (stopped ones unless the filter says include_active:true) as our "
        "CSV or as Moneybird's JSON; the CSV and the JSON both import again with "
        "import_time_entries."
    )

    def add_arguments(self, parser):
        parser.add_argument("administration_id")
        parser.add_argument("--format", choices=("csv", "json"), default="csv")
        parser.add_argument(
            "--filter",
            default="",
            help="Moneybird's filter, as the API takes it: period:this_year,state:open,...; "
            "default: every entry",
        )
        parser.add_argument(
            "--period", help="shortcut for period:VALUE (this_month, 202401..202403, ...)"
        )
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, administration_id, **options):
        administration = administration_get(administration_id)
        text = filter_text(options["filter"], options["period"])
        try:
            with service_errors():
                filterset = TimeEntryFilterSet.from_string(
                    text,
                    queryset=time_entries_of(administration),
                    administration=administration,
                    today=timezone.now().astimezone(administration.tz).date(),
                )
                queryset = filterset.qs
                if not queryset.exists():
                    filterset.check_references()
        except BadRequest as exc:
            raise CommandError(f"--filter: {exc.message}") from None
        if options["format"] == "json":
            queryset = with_details(queryset)
        else:
            queryset = queryset.select_related("user", "project", "contact")
        entries = queryset.order_by("started_at", "id").iterator(chunk_size=CHUNK_SIZE)
        write = write_json if options["format"] == "json" else write_csv
        if options["output"]:
            try:
                out = open(options["output"], "w", newline="", encoding="utf-8")  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"--output: {exc.strerror}: {options['output']}") from None
            with out:
                count = write(entries, out)
        else:
            count = write(entries, _Unended(self.stdout))
        self.stderr.write(f"exported {count} time entries")
