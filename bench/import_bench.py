"""Measure `manage.py import_time_entries` against plain COPY and bulk_create of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import_bench.py

Works in a scratch database of its own (`uurwerk_importbench` on the server DATABASE_URL names;
dropped afterwards unless --keep): migrates it, creates an administration through the services
(20 members, 50 projects, 30 clients), and generates a CSV of --rows rows (default 1,000,000) in
our own export format, deterministic for a given --seed. The same rows, resolved to the table's
columns (ids, user, project and contact ids), are also written once to a file in COPY's text
format. Then, each on empty tables:

- `COPY, scratch table`: that file into a table with the time entries' columns and nothing else
  (no index, no constraint): what PostgreSQL alone needs to take the bytes in;
- `COPY, real table`: that file into timeentries_timeentry with all its indexes, checks and
  foreign keys, in one statement: the yardstick of the import's goal;
- `import_time_entries`: the real command, in its own process, reading the CSV: parsing,
  validating, rounding, resolving names, skipping rows already present, writing the entries and
  one `time_entry_created` event each, in batches of 2,000, each batch its own transaction;
- `bulk_create`: TimeEntry instances, 2,000 per transaction, without events; only the
  bulk_create calls are timed, not building the instances.

It prints rows/s for each, the ratios the goal is stated in, and the import's memory: its peak
RSS and its RSS after 10%, 50% and 90% of the rows (flat means these stay close). Timing, not
judging: nothing here passes or fails.
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCRATCH_DATABASE = "uurwerk_importbench"
MEMBERS, PROJECTS, CLIENTS = 20, 50, 30
BATCH = 2000


def scratch_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(database_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(database_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Settings refuse DEBUG off without a key; this scratch run signs nothing that matters.
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    import django

    django.setup()


# --- the data -----------------------------------------------------------------------------------


def people() -> tuple[list[str], list[str], list[str]]:
    emails = [f"user{i}@example.com" for i in range(MEMBERS)]
    projects = [f"Project {i}" for i in range(PROJECTS)]
    clients = [f"Client {i} B.V." for i in range(CLIENTS)]
    return emails, projects, clients


def generate_csv(path: Path, rows: int, seed: int) -> None:
    """Our export's columns: a row per entry of 15 minutes to 4 hours, spread over the years
    before 2026, most on a project and a client, some with a pause, a billable mix, some
    descriptions with a comma, quotes or non-ASCII letters."""
    from timeentries.imports.uurwerk_csv import FIELDS

    rnd = random.Random(seed)
    emails, projects, clients = people()
    start = datetime(2020, 1, 6, 8, tzinfo=UTC)
    words = ("design", "review", "meeting", "support", "Überarbeitung", 'the "new" API', "a, b")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for n in range(rows):
            started = start + timedelta(minutes=5 * n + rnd.randrange(5))
            ended = started + timedelta(minutes=rnd.randrange(15, 240), seconds=rnd.randrange(60))
            on_project = rnd.random() < 0.7
            writer.writerow(
                (
                    f"bench-{n}",
                    rnd.choice(emails),
                    started.isoformat().replace("+00:00", "Z"),
                    ended.isoformat().replace("+00:00", "Z"),
                    300 * rnd.randrange(3) if rnd.random() < 0.2 else 0,
                    f"{rnd.choice(words)} #{n}",
                    rnd.choice(projects) if on_project else "",
                    rnd.choice(clients) if on_project else "",
                    "true" if rnd.random() < 0.75 else "false",
                )
            )


def setup_administration():
    from administrations import services

    emails, projects, clients = people()
    administration = services.administration_create(name="Import bench")
    for email in emails:
        services.member_add(administration=administration, actor=None, email=email)
    for name in projects:
        services.project_create(administration=administration, actor=None, name=name)
    for name in clients:
        services.contact_create(administration=administration, actor=None, company_name=name)
    return administration


COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "started_at",
    "ended_at",
    "paused_duration",
    "description",
    "billable",
    "administration_id",
    "contact_id",
    "project_id",
    "user_id",
    "sales_invoice_id",
    "import_key",
    "import_source",
)


def write_copy_file(csv_path: Path, copy_path: Path, administration) -> None:
    """The CSV's rows as the entries table stores them, in COPY's text format: what the
    import ends up writing, minus its events. Times are rounded down to the minute as the import
    rounds them."""
    from administrations.models import Contact, Project
    from administrations.selectors import members_of
    from common.db import copy_text
    from common.ids import new_id

    users = dict(members_of(administration).values_list("email", "pk"))
    projects = dict(Project.objects.filter(administration=administration).values_list("name", "pk"))
    clients = dict(
        Contact.objects.filter(administration=administration).values_list("company_name", "pk")
    )
    now = datetime.now(UTC).isoformat()

    def minute(text: str) -> str:
        return datetime.fromisoformat(text).replace(second=0).isoformat()

    with csv_path.open(newline="", encoding="utf-8") as source, copy_path.open("w") as out:
        reader = csv.reader(source)
        next(reader)
        for key, email, started, ended, pause, description, project, client, billable in reader:
            fields = (
                str(new_id()),
                now,
                now,
                minute(started),
                minute(ended),
                str(int(pause) // 60 * 60),
                copy_text(description),
                "t" if billable == "true" else "f",
                str(administration.pk),
                str(clients[client]) if client else "\\N",
                str(projects[project]) if project else "\\N",
                str(users[email]),
                "\\N",
                key,
                "uurwerk",
            )
            out.write("\t".join(fields) + "\n")


# --- the contenders -----------------------------------------------------------------------------


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE timeentries_timeentry")
        cursor.execute("DELETE FROM notes_event WHERE action = 'time_entry_created'")
        cursor.execute("DROP TABLE IF EXISTS bench_scratch")
        cursor.execute("VACUUM ANALYZE timeentries_timeentry")
        cursor.execute("VACUUM ANALYZE notes_event")


def copy_file(copy_path: Path, table: str) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        with copy_path.open("rb") as source, cursor.copy(sql) as copy:
            while block := source.read(1 << 16):
                copy.write(block)
    return time.perf_counter() - started


def copy_scratch(copy_path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_scratch AS SELECT * FROM timeentries_timeentry WITH NO DATA"
        )
    return copy_file(copy_path, "bench_scratch")


def bulk_create(copy_path: Path) -> float:
    from django.db import transaction

    from timeentries.models import TimeEntry

    def entry(line: str) -> TimeEntry:
        values = dict(zip(COLUMNS, line.rstrip("\n").split("\t"), strict=True))
        for name in ("contact_id", "project_id", "sales_invoice_id"):
            values[name] = None if values[name] == "\\N" else int(values[name])
        return TimeEntry(
            id=int(values["id"]),
            administration_id=int(values["administration_id"]),
            user_id=int(values["user_id"]),
            contact_id=values["contact_id"],
            project_id=values["project_id"],
            started_at=datetime.fromisoformat(values["started_at"]),
            ended_at=datetime.fromisoformat(values["ended_at"]),
            paused_duration=int(values["paused_duration"]),
            description=values["description"].replace("\\\\", "\\"),
            billable=values["billable"] == "t",
            import_key=values["import_key"],
            import_source=values["import_source"],
        )

    took = 0.0
    with copy_path.open() as source:
        while lines := [line for _, line in zip(range(BATCH), source, strict=False)]:
            batch = [entry(line) for line in lines]
            started = time.perf_counter()
            with transaction.atomic():
                TimeEntry.objects.bulk_create(batch)
            took += time.perf_counter() - started
    return took


class RssSampler:
    """The RSS of a process, read from /proc every 0.2 s while it runs."""

    def __init__(self, pid: int):
        self.pid, self.samples, self.done = pid, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append(int(line.split()[1]) / 1024)

    def at(self, share: float) -> float:
        return self.samples[min(len(self.samples) - 1, int(len(self.samples) * share))]


def run_import(csv_path: Path, administration_id: int, database_url: str):
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "import_time_entries",
        str(administration_id),
        str(csv_path),
    ]
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false"}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    sampler = RssSampler(process.pid)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - started
    sampler.done.set()
    if status != 0:
        raise SystemExit(f"import_time_entries failed ({status}):\n{output}")
    return took, usage.ru_maxrss / 1024, sampler, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--skip-bulk-create", action="store_true", help="leave out the slowest contender"
    )
    options = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (any database on it).")
    url = scratch_url(database_url, SCRATCH_DATABASE)
    recreate_database(database_url, SCRATCH_DATABASE)
    django_setup(url)
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        administration = setup_administration()
        work = Path(tempfile.mkdtemp(prefix="import-bench-"))
        csv_path, copy_path = work / "entries.csv", work / "entries.copy"
        started = time.perf_counter()
        generate_csv(csv_path, options.rows, options.seed)
        write_copy_file(csv_path, copy_path, administration)
        print(
            f"{options.rows:,} rows ({csv_path.stat().st_size / 2**20:.0f} MiB of CSV) generated "
            f"in {time.perf_counter() - started:.0f} s; PostgreSQL "
            f"{connection.cursor().connection.info.server_version // 10000}, "
            f"{os.cpu_count()} cores\n",
            flush=True,
        )
        results: list[tuple[str, float, str]] = []

        def record(name: str, seconds: float, note: str = "") -> None:
            results.append((name, seconds, note))
            print(f"  {name}: {seconds:.1f} s, {options.rows / seconds:,.0f} rows/s", flush=True)

        empty_tables()
        record("COPY, scratch table", copy_scratch(copy_path), "no index, no constraint")
        empty_tables()
        record("COPY, real table", copy_file(copy_path, "timeentries_timeentry"), "one statement")
        empty_tables()
        connection.close()
        took, peak, sampler, output = run_import(csv_path, administration.pk, url)
        imported = next(
            (line for line in output.splitlines() if line.startswith("imported:")), "imported: ?"
        )
        record("import_time_entries", took, f"with events; {imported}; includes start-up")
        if not options.skip_bulk_create:
            empty_tables()
            record("bulk_create", bulk_create(copy_path), "no events; 2,000 per transaction")

        copy_rate = options.rows / results[1][1]
        import_rate = options.rows / took
        print("\n| contender | seconds | rows/s | vs COPY, real table | notes |")
        print("|---|---:|---:|---:|---|")
        for name, seconds, note in results:
            rate = options.rows / seconds
            print(f"| {name} | {seconds:.1f} | {rate:,.0f} | {rate / copy_rate:.2f}x | {note} |")
        print()
        print(f"import / COPY into the real table: {import_rate / copy_rate:.2f}x (goal >= 0.8x)")
        if not options.skip_bulk_create:
            bulk_rate = options.rows / results[-1][1]
            print(f"import / bulk_create: {import_rate / bulk_rate:.2f}x (goal >= 2.5x)")
        if sampler.samples:
            print(
                f"import memory: peak RSS {peak:.0f} MiB; RSS after 10% / 50% / 90% of its run "
                f"{sampler.at(0.1):.0f} / {sampler.at(0.5):.0f} / {sampler.at(0.9):.0f} MiB"
            )
        for path in (csv_path, copy_path):
            path.unlink()
        work.rmdir()
    finally:
        connection.close()
        if not options.keep:
            recreate_database(database_url, SCRATCH_DATABASE, drop_only=True)


if __name__ == "__main__":
    main()
