"""The benchmark's data set (bench/run.py): a large synthetic one, loaded into PostgreSQL by
`manage.py seed_bench`, a thin command over `Seeder`.

    manage.py seed_bench --entries 1000000 --administrations 100 [--seed 1] [--today 2026-11-23]

The loader is the one sanctioned exception to "services are the only writers": it builds a
synthetic benchmark database, and going through the services (one transaction, several queries
and an event per row) would take hours for a million entries. Instead it generates the rows in
Python and loads them with PostgreSQL's COPY FROM STDIN (common.db.insert_rows) straight into
the administrations_*, invoices_*, timeentries_* and notes_* tables, in one transaction. It still
writes what the services would have written: every entry has its `time_entry_created` event,
changed entries their `time_entry_updated` event, every note its `note_created` event. It refuses
to run on a database that already has administrations unless --yes-really is given.

The data is deterministic: the same --seed, sizes and --today give the same rows and the same
ids. Ids use the layout of common.ids (milliseconds since its EPOCH, then 22 low bits), taken
from each row's created_at with a running counter in the low bits, so ordering by id is still
ordering by creation time. The shape, over the three years before --today (working days, more
recent days busier):

- administrations of Zipf-like sizes: the first few are huge (100k+ entries each at 1M), most
  are small; 3-30 members each (the bigger, the more), contacts and projects in proportion;
- entries of 15 minutes to 4 hours in working hours, ~70% on a project (with its contact), a
  billable mix, ~8% mentioning "design" (the `query=` scenario); no running timers;
- billable entries with a contact older than 45 days mostly on a monthly sales invoice;
- ~3% of entries changed afterwards (a `time_entry_updated` event), notes on ~5%.

Afterwards it runs VACUUM (ANALYZE) on the tables it filled (ANALYZE alone when called inside a
transaction). A million entries take about a minute and a half on two cores.
"""

import random
import time
from array import array
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.db import models

from administrations.models import Administration, Contact, Membership, Project, User
from common.db import insert_rows
from common.ids import EPOCH_MS
from common.timefmt import iso_local
from invoices.models import SalesInvoice
from notes.models import Event, Note
from timeentries.models import TimeEntry

YEARS = 3
# Share of the entries of the first, huge administrations; the rest follow a Zipf-Mandelbrot
# law (weight 1 / (rank + 5)^2), which leaves about half of them under 2,000 entries at 1M/100.
HUGE_SHARES = (0.15, 0.12, 0.10)
TAIL_EXPONENT, TAIL_OFFSET = 2.0, 5
TIME_ZONES = (
    ("Europe/Amsterdam", 16),
    ("Europe/Brussels", 2),
    ("Europe/Berlin", 1),
    ("Europe/London", 1),
    ("America/New_York", 1),
)
FIRST_NAMES = (
    "Sanne", "Daan", "Emma", "Lucas", "Julia", "Sem", "Anouk", "Bram", "Lotte", "Thijs", "Fleur",
    "Jesse", "Iris", "Ruben", "Noor", "Finn", "Eva", "Lars", "Sara", "Milan",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos",
    "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Müller",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Noord", "Zuid", "Delta", "Polder", "Gracht", "Molen", "Duin", "Haven", "Tulp",
    "Kompas", "Orion", "Vega", "Atlas", "Linde", "Eik", "Berk", "Zilver", "Koper", "Vonk",
)  # fmt: skip
COMPANY_KINDS = ("B.V.", "Holding B.V.", "& Zn.", "Webdesign", "Advies", "Bouw", "GmbH", "Ltd")
CITIES = ("Amsterdam", "Utrecht", "Rotterdam", "Den Haag", "Haarlem", "Zwolle", "Köln", "Gent")
PROJECT_TOPICS = (
    "Website", "Webshop", "Huisstijl", "Migratie", "Onderhoud", "App", "Campagne", "Audit",
    "Intranet", "Koppeling", "Rapportage", "Training",
)  # fmt: skip
TASKS = (
    "Design review homepage", "Ontwerp productpagina", "Design system: knoppen en kleuren",
    "Frontend: navigatie en menu", "Feedbackronde verwerkt", "Overleg met klant",
    "Bug: verzendkosten", "Productimport bijgewerkt", "Koppeling betaalprovider",
    "Beveiligingsupdates geïnstalleerd", "Testmigratie en controle", "Analyse oud systeem",
    "Migratiescript", "Adviesgesprek", "Telefonisch overleg", "Rapportage opgesteld",
    "Workshop met team", "Offerte geschreven", "Code review", "Deployment naar productie",
    "Wireframes", "UX design sessie", "Copywriting", "Fotografie nabewerking",
    "Documentatie bijgewerkt", "Planning volgende sprint", "Onderzoek performance",
    "Support tickets", "Datamodel uitgewerkt", "Presentatie voorbereid",
)  # fmt: skip
INTERNAL_TASKS = ("Administratie", "Teamoverleg", "Kennissessie", "Opleiding", "Acquisitie")
NOTES = (
    "Klant akkoord per mail.", "Nog niet factureren: wacht op oplevering.", "Inclusief reistijd.",
    "Zie ticket #4821.", "Afgestemd met projectleider.",
    "Meerwerk, apart vermelden op de factuur.",
)  # fmt: skip


class IdSequence:
    """Deterministic ids in common.ids' layout: (ms since EPOCH_MS) << 22 | running counter.
    Unique as long as fewer than 2**22 ids are made in one run (the counter never repeats)."""

    LOW_BITS = 22

    def __init__(self) -> None:
        self.counter = 0

    def at(self, moment_ms: int) -> int:
        if self.counter >= 1 << self.LOW_BITS:
            raise CommandError(
                "seed_bench makes at most 4,194,304 rows per run; ask for fewer entries"
            )
        value = ((moment_ms - EPOCH_MS) << self.LOW_BITS) | self.counter
        self.counter += 1
        return value


def ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(moment_ms: int) -> datetime:
    return datetime.fromtimestamp(moment_ms / 1000, UTC)


def created_at_of(record_id: int) -> datetime:
    """The creation time an IdSequence id encodes."""
    return from_ms((record_id >> IdSequence.LOW_BITS) + EPOCH_MS)


class Table:
    """Rows of a model's table, given as tuples of the attnames named in `given` (the id first
    among them), written with common.db.insert_rows (COPY) in chunks: every other column takes
    its field's default, or the database's (so a column added later with a default needs no
    change here)."""

    # Rows per insert_rows call: its dicts are held in memory, the rows are not.
    CHUNK = 10_000

    def __init__(self, model: type[models.Model], given: str):
        self.model = model
        self.given = tuple(given.split())
        if model._meta.pk.attname not in self.given:
            raise CommandError(f"{model.__name__}: the id must be given")
        self.name = model._meta.db_table
        self.rows = 0

    def copy(self, rows: Iterable[tuple]) -> int:
        rows = iter(rows)
        given = self.given
        while chunk := [dict(zip(given, row, strict=True)) for row in islice(rows, self.CHUNK)]:
            insert_rows(self.model, chunk)
            self.rows += len(chunk)
        return self.rows


def drop_secondary(cursor, tables: list[str]) -> list[str]:
    """Drop the foreign keys and the indexes that back no constraint on `tables`; return the
    statements that recreate them, indexes first."""
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid), format('DROP INDEX %%s', i.indexrelid::regclass)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        UNION ALL
        SELECT format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', c.conrelid::regclass, c.conname,
                      pg_get_constraintdef(c.oid)),
               format('ALTER TABLE %%s DROP CONSTRAINT %%I', c.conrelid::regclass, c.conname)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
        """,
        [tables, tables],
    )
    pairs = cursor.fetchall()
    for _, drop in pairs:
        cursor.execute(drop)
    return [create for create, _ in pairs]


def zipf_sizes(total: int, count: int) -> list[int]:
    """`count` sizes adding up to `total`: a few huge ones, then a Zipf-Mandelbrot tail."""
    huge = HUGE_SHARES[: min(len(HUGE_SHARES), count // 25)]  # none among fewer than 25
    tail = [1 / (rank + TAIL_OFFSET) ** TAIL_EXPONENT for rank in range(1, count - len(huge) + 1)]
    rest = 1 - sum(huge)
    shares = list(huge) + [rest * w / sum(tail) for w in tail]
    sizes = [int(total * share) for share in shares]
    sizes[0] += total - sum(sizes)
    return sizes


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class Seeder:
    """Generates the rows; `run` COPYs them table by table inside the caller's transaction."""

    def __init__(
        self,
        *,
        entries: int,
        administrations: int,
        seed: int,
        today: date,
        log: Callable[[str], None],
    ):
        self.rng = random.Random(seed)
        self.ids = IdSequence()
        self.total = entries
        self.count = administrations
        self.today = today
        self.log = log
        self.first_day = today - timedelta(days=round(365.25 * YEARS))
        # Nothing is created after the start of --today (UTC): ids stay below any made later.
        self.horizon_ms = ms_of(datetime.combine(today, clock.min, UTC)) - 60_000
        self.tables = {
            "administration": Table(Administration, "id created_at updated_at name time_zone"),
            "user": Table(User, "id created_at updated_at email name password"),
            "membership": Table(Membership, "id created_at administration_id user_id role"),
            "contact": Table(
                Contact,
                "id created_at updated_at administration_id company_name firstname lastname email "
                "city customer_id",
            ),
            "project": Table(
                Project,
                "id created_at updated_at administration_id name state budget contact_id "
                "hourly_rate",
            ),
            "entry": Table(
                TimeEntry,
                "id created_at updated_at administration_id user_id contact_id project_id "
                "sales_invoice_id started_at ended_at paused_duration description billable",
            ),
            "invoice": Table(
                SalesInvoice,
                "id created_at updated_at administration_id contact_id invoice_id state "
                "invoice_date due_date",
            ),
            "event": Table(
                Event,
                "id administration_id user_id action subject_type entity_id link_entity_type "
                "link_entity_id data created_at",
            ),
            "note": Table(
                Note,
                "id created_at updated_at administration_id entity_id subject_type user_id note "
                "todo assignee_id",
            ),
        }
        self.entry_count = 0
        self.largest = (0, 0)
        self.created_events = array("q")  # (event id, administration, user, entry) flattened
        self.other_events: list[tuple] = []
        self.note_rows: list[tuple] = []
        self.invoices: dict[tuple[int, int, int, int], tuple] = {}
        self.invoice_numbers: dict[tuple[int, int], int] = {}

    # --- the run ----------------------------------------------------------------------------

    def run(self, cursor) -> None:
        self.plan()
        # PostgreSQL's advice for bulk loads: drop the big tables' secondary indexes and foreign
        # keys, load, then rebuild them (one sorted build and one validating join each instead of
        # a million index insertions and row-by-row checks). All inside this transaction, and
        # before any row is written (a table with pending foreign-key checks cannot be altered).
        big = [self.tables[key].name for key in ("entry", "invoice", "event", "note")]
        restore = drop_secondary(cursor, big)
        for key in ("administration", "user", "membership", "contact", "project"):
            self.timed(cursor, key, getattr(self, f"{key}_rows")())
        # Entries stream into COPY a chunk at a time; what hangs off them is collected on the way.
        self.timed(cursor, "entry", self.entry_rows())
        self.timed(cursor, "invoice", self.invoice_rows())
        self.timed(cursor, "event", self.event_rows())
        self.timed(cursor, "note", iter(self.note_rows))
        mark = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in restore:
            cursor.execute(statement)
        self.log(
            f"{len(restore)} indexes and foreign keys rebuilt: {time.perf_counter() - mark:.1f} s"
        )

    def timed(self, cursor, key: str, rows: Iterable[tuple]) -> None:
        mark = time.perf_counter()
        table = self.tables[key]
        count = table.copy(rows)
        elapsed = max(time.perf_counter() - mark, 1e-9)
        self.log(f"{table.name}: {count:,} rows in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")

    # --- administrations, people, contacts, projects ----------------------------------------

    def plan(self) -> None:
        rng = self.rng
        sizes = zipf_sizes(self.total, self.count)
        largest = max(sizes)
        first_ms = ms_of(datetime.combine(self.first_day, clock(8), UTC)) - 90 * 86_400_000
        self.admins: list[dict[str, Any]] = []
        for index, size in enumerate(sizes):
            scale = (size / largest) ** 0.6
            created_ms = first_ms + index * 60_000
            admin = {
                "id": self.ids.at(created_ms),
                "created_ms": created_ms,
                "index": index,
                "size": size,
                "time_zone": _weighted(rng, TIME_ZONES) if index else "Europe/Amsterdam",
                "name": f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {index + 1}",
                "members": [],
                "contacts": [],
                "projects": [],
            }
            admin["tz"] = ZoneInfo(admin["time_zone"])
            for number in range(round(3 + 27 * scale)):
                admin["members"].append(self.person(admin, number, created_ms + number + 1))
            for number in range(max(5, min(400, round(5 + size / 400)))):
                admin["contacts"].append(self.contact(admin, number, created_ms + 1000 + number))
            for number in range(max(3, min(150, round(3 + size / 1500)))):
                admin["projects"].append(self.project(admin, number, created_ms + 5000 + number))
            # Some people log far more than others.
            admin["member_weights"] = [1 / (n + 1) ** 0.5 for n in range(len(admin["members"]))]
            admin["project_weights"] = [
                (0.2 if p["state"] == "archived" else 1) / (n + 1) ** 0.7
                for n, p in enumerate(admin["projects"])
            ]
            self.admins.append(admin)
        big = max(self.admins, key=lambda a: a["size"])
        self.largest = (big["id"], big["size"])

    def person(self, admin: dict, number: int, created_ms: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user_id = self.ids.at(created_ms)
        role = "owner" if number == 0 else "admin" if number < 3 else "member"
        slug = f"{first}.{last}".lower().replace(" ", "").replace("ü", "u")
        return {
            "id": user_id,
            "created_ms": created_ms,
            "membership_id": self.ids.at(created_ms),
            "role": role,
            "name": f"{first} {last}",
            "email": f"{slug}.{admin['index'] + 1}.{number + 1}@bench.example",
        }

    def contact(self, admin: dict, number: int, created_ms: int) -> dict[str, Any]:
        rng = self.rng
        company = rng.random() < 0.8
        return {
            "id": self.ids.at(created_ms),
            "created_ms": created_ms,
            "company_name": f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
            if company
            else "",
            "firstname": rng.choice(FIRST_NAMES) if not company or rng.random() < 0.3 else "",
            "lastname": rng.choice(LAST_NAMES) if not company or rng.random() < 0.3 else "",
            "city": rng.choice(CITIES),
            "customer_id": str(number + 1),
        }

    def project(self, admin: dict, number: int, created_ms: int) -> dict[str, Any]:
        rng = self.rng
        contacts = admin["contacts"]
        contact = rng.choice(contacts) if rng.random() < 0.85 else None
        return {
            "id": self.ids.at(created_ms),
            "created_ms": created_ms,
            "name": f"{rng.choice(PROJECT_TOPICS)} {number + 1}",
            "state": "archived" if rng.random() < 0.2 else "active",
            "budget": rng.choice((None, None, 40, 80, 120, 200)),
            "contact": contact,
            "hourly_rate": rng.choice((None, "75.00", "85.00", "95.00", "110.00")),
        }

    def administration_rows(self):
        for a in self.admins:
            moment = from_ms(a["created_ms"])
            yield (a["id"], moment, moment, a["name"], a["time_zone"])

    def user_rows(self):
        for a in self.admins:
            for p in a["members"]:
                moment = from_ms(p["created_ms"])
                yield (p["id"], moment, moment, p["email"], p["name"], "!seed_bench")

    def membership_rows(self):
        for a in self.admins:
            for p in a["members"]:
                yield (p["membership_id"], from_ms(p["created_ms"]), a["id"], p["id"], p["role"])

    def contact_rows(self):
        for a in self.admins:
            for c in a["contacts"]:
                moment = from_ms(c["created_ms"])
                slug = (c["company_name"] or c["lastname"] or "info").split()[0].lower()
                email = f"info@{slug}.example".replace("&", "")
                yield (
                    c["id"],
                    moment,
                    moment,
                    a["id"],
                    c["company_name"],
                    c["firstname"],
                    c["lastname"],
                    email,
                    c["city"],
                    c["customer_id"],
                )

    def project_rows(self):
        for a in self.admins:
            for p in a["projects"]:
                moment = from_ms(p["created_ms"])
                contact = p["contact"]
                yield (
                    p["id"],
                    moment,
                    moment,
                    a["id"],
                    p["name"],
                    p["state"],
                    p["budget"],
                    contact["id"] if contact else None,
                    p["hourly_rate"],
                )

    # --- entries ------------------------------------------------------------------------------

    def entry_rows(self):
        """Day by day over all administrations, so the table is in creation order as a real one
        would be."""
        rng = self.rng
        days = [
            self.first_day + timedelta(days=n)
            for n in range((self.today - self.first_day).days)  # up to yesterday
        ]
        span = len(days)
        # Working days, busier towards today.
        weights = [
            (1.0 if d.weekday() < 5 else 0.04) * (0.6 + 0.8 * n / span) for n, d in enumerate(days)
        ]
        cumulative = []
        running = 0.0
        for w in weights:
            running += w
            cumulative.append(running)
        per_day: list[list[tuple[dict, int]]] = [[] for _ in days]
        for a in self.admins:
            counts: dict[int, int] = {}
            for n in rng.choices(range(span), cum_weights=cumulative, k=a["size"]):
                counts[n] = counts.get(n, 0) + 1
            for n in sorted(counts):
                per_day[n].append((a, counts[n]))
        offsets: dict[tuple[str, date], int] = {}
        for n, day in enumerate(days):
            midnight = int(datetime.combine(day, clock.min, UTC).timestamp())
            for a, count in per_day[n]:
                key = (a["time_zone"], day)
                if key not in offsets:
                    local_noon = datetime.combine(day, clock(12), a["tz"])
                    offsets[key] = int(local_noon.utcoffset().total_seconds())
                starts = sorted(rng.randrange(32, 68) * 15 for _ in range(count))  # 8:00-16:45
                for start_minute in starts:
                    yield self.entry(a, day, midnight - offsets[key] + start_minute * 60)
        self.log(f"  ({len(self.invoices):,} sales invoices, {len(self.note_rows):,} notes)")

    def entry(self, a: dict, day: date, started: int) -> tuple:
        rng = self.rng
        minutes = rng.choice((15, 30, 45, 60, 60, 90, 90, 120, 120, 150, 180, 240))
        ended = started + minutes * 60
        paused = rng.choice((900, 1800)) if minutes >= 60 and rng.random() < 0.1 else 0
        user = rng.choices(a["members"], weights=a["member_weights"])[0]
        roll = rng.random()
        project = contact = None
        if roll < 0.7:
            project = rng.choices(a["projects"], weights=a["project_weights"])[0]
            contact = project["contact"]
        elif roll < 0.85:
            contact = rng.choice(a["contacts"])
        internal = project is None and contact is None
        description = rng.choice(INTERNAL_TASKS if internal else TASKS)
        billable = rng.random() < (0.2 if internal else 0.85)
        # Logged when the work ended, or up to a day later.
        created_ms = min(
            (ended + (rng.randrange(0, 600) if rng.random() < 0.8 else rng.randrange(0, 86_400)))
            * 1000
            + rng.randrange(1000),
            self.horizon_ms,
        )
        entry_id = self.ids.at(created_ms)
        invoice_id = None
        invoiced = billable and contact is not None and (self.today - day).days > 45
        if invoiced and rng.random() < 0.85:
            invoice_id = self.invoice_for(a, contact, day)
        self.created_events.extend((self.ids.at(created_ms), a["id"], user["id"], entry_id))
        updated_ms = created_ms
        if rng.random() < 0.03:
            updated_ms = min(created_ms + rng.randrange(60_000, 3 * 86_400_000), self.horizon_ms)
            old = description
            description = rng.choice(INTERNAL_TASKS if internal else TASKS) + " (aangepast)"
            tz = a["tz"]
            data = {
                "description": [old, description],
                "updated_at": [
                    iso_local(from_ms(created_ms), tz),
                    iso_local(from_ms(updated_ms), tz),
                ],
            }
            self.other_events.append(
                (self.ids.at(updated_ms), a, "time_entry_updated", user, entry_id, data)
            )
        if rng.random() < 0.05:
            self.note_for(a, user, entry_id, created_ms)
        self.entry_count += 1
        return (
            entry_id,
            from_ms(created_ms),
            from_ms(updated_ms),
            a["id"],
            user["id"],
            contact["id"] if contact else None,
            project["id"] if project else None,
            invoice_id,
            datetime.fromtimestamp(started, UTC),
            datetime.fromtimestamp(ended, UTC),
            paused,
            description,
            billable,
        )

    def invoice_for(self, a: dict, contact: dict, day: date) -> int:
        """The contact's invoice for that month: made on the first of the next month."""
        key = (a["id"], contact["id"], day.year, day.month)
        invoice = self.invoices.get(key)
        if invoice is None:
            first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            created_ms = min(
                ms_of(datetime.combine(first_next, clock(9), UTC)) + len(self.invoices),
                self.horizon_ms,
            )
            numbering = (a["id"], first_next.year)
            number = self.invoice_numbers[numbering] = self.invoice_numbers.get(numbering, 0) + 1
            state = "paid" if (self.today - first_next).days > 60 else "open"
            invoice = (
                self.ids.at(created_ms),
                created_ms,
                a["id"],
                contact["id"],
                f"{first_next.year}-{number:05d}",
                state,
                first_next,
                first_next + timedelta(days=30),
            )
            self.invoices[key] = invoice
        return invoice[0]

    def note_for(self, a: dict, user: dict, entry_id: int, created_ms: int) -> None:
        rng = self.rng
        note_ms = min(created_ms + rng.randrange(1000, 3_600_000), self.horizon_ms)
        note_id = self.ids.at(note_ms)
        text = rng.choice(NOTES)
        assignee = rng.choice(a["members"]) if rng.random() < 0.1 else None
        todo = assignee is not None or rng.random() < 0.1
        moment = from_ms(note_ms)
        self.note_rows.append(
            (
                note_id,
                moment,
                moment,
                a["id"],
                entry_id,
                TimeEntry.entity_type,
                user["id"],
                text,
                todo,
                assignee["id"] if assignee else None,
            )
        )
        data = {"note": text, "todo": todo}
        self.other_events.append(
            (self.ids.at(note_ms), a, "note_created", user, entry_id, data, note_id)
        )

    # --- what hangs off the entries -----------------------------------------------------------

    def invoice_rows(self):
        for (
            invoice_id,
            created_ms,
            admin_id,
            contact_id,
            number,
            state,
            day,
            due,
        ) in self.invoices.values():
            moment = from_ms(created_ms)
            yield (invoice_id, moment, moment, admin_id, contact_id, number, state, day, due)

    def event_rows(self):
        empty: dict = {}
        events = self.created_events
        entry_type = TimeEntry.entity_type
        for n in range(0, len(events), 4):
            event_id, admin_id, user_id, entry_id = events[n : n + 4]
            yield (
                event_id,
                admin_id,
                user_id,
                "time_entry_created",
                entry_type,
                entry_id,
                None,
                None,
                empty,
                created_at_of(event_id),
            )
        for a in self.admins:
            for kind, items in (("Contact", a["contacts"]), ("Project", a["projects"])):
                for item in items:
                    event_id = self.ids.at(item["created_ms"])
                    yield (
                        event_id,
                        a["id"],
                        a["members"][0]["id"],
                        f"{kind.lower()}_created",
                        kind,
                        item["id"],
                        None,
                        None,
                        empty,
                        created_at_of(event_id),
                    )
        for event_id, a, action, user, entry_id, data, *link in self.other_events:
            yield (
                event_id,
                a["id"],
                user["id"],
                action,
                entry_type,
                entry_id,
                "Note" if link else None,
                link[0] if link else None,
                data,
                created_at_of(event_id),
            )
