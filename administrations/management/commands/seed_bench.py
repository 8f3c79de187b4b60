"""Fill a PostgreSQL database with a large synthetic data set for the benchmark (bench/run.py).

    manage.py seed_bench --entries 1000000 --administrations 100 [--seed 1] [--today 2026-11-23]

The data set, and why it is loaded with COPY rather than through the services, is described in
bench/seed.py, which generates and loads it; this command checks the database, runs the loader
in one transaction, then VACUUM (ANALYZE)s what it filled.
"""

import time
from datetime import UTC, date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from administrations.models import Administration
from bench.seed import Seeder


class Command(BaseCommand):
    help = "Load a large deterministic benchmark data set into PostgreSQL with COPY."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=1_000_000)
        parser.add_argument("--administrations", type=int, default=100)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the three years end at (default: today, UTC)",
        )
        parser.add_argument(
            "--yes-really",
            action="store_true",
            help="add the data even though the database already has administrations",
        )

    def handle(self, *args, entries: int, administrations: int, seed: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_bench needs PostgreSQL (it loads with COPY); set DATABASE_URL="
                "postgres://user@host:5432/name"
            )
        if administrations < 1 or entries < administrations:
            raise CommandError("need at least one administration and one entry per administration")
        if not options["yes_really"] and Administration.objects.exists():
            raise CommandError(
                "the database already has administrations; seed_bench is for an empty benchmark "
                "database (pass --yes-really to add to it anyway)"
            )
        today = options["today"] or datetime.now(UTC).date()
        started = time.perf_counter()
        seeder = Seeder(
            entries=entries, administrations=administrations, seed=seed, today=today, log=self.log
        )
        with transaction.atomic(), connection.cursor() as cursor:
            seeder.run(cursor)
        # VACUUM also sets the visibility map (index-only scans), as autovacuum would have on a
        # database that grew over the years; it cannot run inside a transaction (the tests').
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            mark = time.perf_counter()
            for table in seeder.tables.values():
                cursor.execute(sql.SQL(f"{command} {{}}").format(sql.Identifier(table.name)))
            self.log(f"{command}: {time.perf_counter() - mark:.1f} s")
        elapsed = time.perf_counter() - started
        rows = sum(t.rows for t in seeder.tables.values())
        self.log(
            f"Done: {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s); "
            f"{seeder.entry_count:,} entries over {administrations} administrations, the largest "
            f"{seeder.largest[1]:,} entries (id {seeder.largest[0]})."
        )

    def log(self, message: str) -> None:
        self.stdout.write(message)
