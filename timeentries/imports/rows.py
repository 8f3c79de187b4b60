"""What every source format is read into, and what a row that cannot be read becomes."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

NO_COLUMNS: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class ImportRow:
    """One time entry as a source file describes it, before any lookup or rounding.

    Times are aware (UTC). People are named by `user_email` when the file has addresses; files
    without them (Harvest, Moneybird's JSON) give `user_name` and, for Moneybird, `user_ref`, the
    source's user id. `columns` maps our field names ("started_at", "user", "project", ...) to the
    file's own column names, so that errors found later name the column the operator sees; one
    mapping is shared by all rows of a file.
    """

    row: int
    started_at: datetime | None
    ended_at: datetime | None
    description: str
    user_email: str = ""
    user_name: str = ""
    user_ref: str = ""
    paused_duration: int = 0
    project: str = ""
    contact: str = ""
    billable: bool = True
    source_id: str = ""
    columns: Mapping[str, str] = field(default_factory=lambda: NO_COLUMNS, repr=False)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass(frozen=True, slots=True)
class RowError:
    """A row the import leaves out: its number as the operator finds it (the spreadsheet row
    for CSV, the header being row 1; the element number for JSON), the column and why."""

    row: int
    column: str
    reason: str


class RowProblem(ValueError):
    """Raised while reading one row; the reader turns it into a RowError and goes on."""

    def __init__(self, column: str, reason: str):
        self.column = column
        self.reason = reason
        super().__init__(f"{column}: {reason}")


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, a required column missing, broken
    JSON): nothing more can be imported from it."""
