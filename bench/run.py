"""Measure our API against its twin (bench/twin.py) on the same data, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uurwerk_bench .venv/bin/python bench/run.py

Needs a database filled by `manage.py seed_bench`. It starts our server as README.md's
"Production" section does (gunicorn, sync workers) and the twin under gunicorn with the same
worker count, each on a free loopback port, then for every scenario alternates rounds of load
between the two (wrk when it is installed, else a small thread-based Python generator) and prints
a Markdown table: p50, p99, requests/s, SQL statements per request, EXPLAIN (ANALYZE, BUFFERS)
time of one request's SQL, whether both answer the same bytes, and the ratios ours/twin; then
worker memory before and after; last, the import scenario (bench/import_bench.py: the import
command against COPY of the same rows, in a scratch database). Loopback only, every loop bounded
in time; it stops by itself and stops the servers it started. It measures, it does not judge:
nothing here passes or fails.

Rate limits are set out of reach for the run (RATE_LIMIT_* = 10^9 per minute): the limiter still
counts every request, it just never answers 429. Writes (create, update) add entries and events
to the biggest administration; the dates chosen keep them off the first pages.
"""

import argparse
import http.client
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/uurwerk_bench"
UNLIMITED = "1000000000/60"
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-not-a-secret",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "RATE_LIMIT_MONEYBIRD": UNLIMITED,
    "RATE_LIMIT_MONEYBIRD_ORGANIZATION": UNLIMITED,
    "RATE_LIMIT_EXPENSICAT": UNLIMITED,
    "RATE_LIMIT_EXPENSICAT_ORGANIZATION": UNLIMITED,
}
# README.md, "Production": the command our server runs with (workers and address added here).
OURS_APP, TWIN_APP = "config.wsgi", "bench.twin:app"
OURS_OPTIONS = ("-c", "config/gunicorn.py")
DEEP_PAGE, PER_PAGE = 500, 100
HOST = "127.0.0.1"
COUNTER = "__N__"


@dataclass
class Scenario:
    name: str
    method: str
    path: str  # with the query string
    # Writes: the body, in which COUNTER becomes the request's number (so every update changes
    # something); `paths` to cycle over several entries.
    template: str = ""
    paths: list[str] = field(default_factory=list)
    kind: str = "read"

    def body(self, n: int) -> bytes | None:
        return self.template.replace(COUNTER, str(n)).encode() if self.template else None

    @property
    def first_path(self) -> str:
        return self.paths[0] if self.paths else self.path


@dataclass
class Load:
    """One side's load over all rounds of one scenario."""

    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    # (latency in microseconds, weight) pseudo-samples: wrk reports quantiles, not samples.
    samples: list[tuple[float, float]] = field(default_factory=list)

    def add(self, requests: int, seconds: float, errors: int, quantiles: list[float]) -> None:
        self.requests += requests
        self.seconds += seconds
        self.errors += errors
        if requests and quantiles:
            weight = requests / len(quantiles)
            self.samples.extend((q, weight) for q in quantiles)

    def percentile(self, p: float) -> float:
        """In milliseconds."""
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        goal = sum(w for _, w in ordered) * p / 100
        seen = 0.0
        for value, weight in ordered:
            seen += weight
            if seen >= goal:
                return value / 1000
        return ordered[-1][0] / 1000

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- the servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(
        self, name: str, app: str, port: int, workers: int, env: dict[str, str], *options: str
    ):
        self.name, self.port = name, port
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, *options, app, "-w", str(workers), "-b", f"{HOST}:{port}"]
        self.log = Path(tempfile.gettempdir()) / f"bench-{name}-{port}.log"
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )

    def wait_ready(self, path: str, headers: dict[str, str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _, _ = fetch(self.port, "GET", path, headers)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        log = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.name} did not start (log {self.log}):\n{log}")

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def rss_mb(self) -> float:
        """Mean resident memory of the workers, in MiB."""
        return self._mean_kb("status", "VmRSS")

    def pss_mb(self) -> float:
        """Mean proportional set size of the workers, in MiB: pages shared with the master
        (preloaded code) count by their share, which RSS counts whole in every worker."""
        return self._mean_kb("smaps_rollup", "Pss")

    def _mean_kb(self, file: str, key: str) -> float:
        sizes = []
        for pid in self.workers():
            try:
                text = Path(f"/proc/{pid}/{file}").read_text()
            except OSError:
                continue
            match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
            if match:
                sizes.append(int(match[1]) / 1024)
        return statistics.mean(sizes) if sizes else float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.unlink(missing_ok=True)


def fetch(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- load generators ----------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "{method}"
{headers}
local paths = {{{paths}}}
local bodies = {{{bodies}}}
local counter = 0
request = function()
  counter = counter + 1
  local path = paths[(counter - 1) % #paths + 1]
  local body = nil
  if #bodies > 0 then body = string.format(bodies[1], counter) end
  return wrk.format(nil, path, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_SUMMARY %d %d %d\\n", summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout))
  local q = {{}}
  for i = 1, 999 do q[#q + 1] = string.format("%d", latency:percentile(i / 10)) end
  io.write("BENCH_Q " .. table.concat(q, " ") .. "\\n")
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    port: int, scenario: Scenario, headers: dict[str, str], seconds: float, connections: int
) -> tuple[int, float, int, list[float]]:
    paths = scenario.paths or [scenario.path]
    # Lua's string.format puts the request's number where the template says COUNTER.
    template = scenario.template.replace("%", "%%").replace(COUNTER, "%d")
    script = WRK_SCRIPT.format(
        method=scenario.method,
        headers="\n".join(
            f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()
        ),
        paths=", ".join(map(lua_string, paths)),
        bodies=lua_string(template) if template else "",
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", lua.name, f"http://{HOST}:{port}{paths[0]}",
        ]  # fmt: skip
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        ).stdout
    summary = re.search(r"^BENCH_SUMMARY (\d+) (\d+) (\d+)$", output, re.M)
    quantiles = re.search(r"^BENCH_Q (.*)$", output, re.M)
    if not summary or not quantiles:
        raise SystemExit(f"wrk gave no summary:\n{output[-2000:]}")
    requests, duration_us, errors = map(int, summary.groups())
    return requests, duration_us / 1e6, errors, [float(q) for q in quantiles[1].split()]


def run_python(
    port: int, scenario: Scenario, headers: dict[str, str], seconds: float, connections: int
) -> tuple[int, float, int, list[float]]:
    """The fallback: `connections` threads, each a new connection per request (as wrk does
    against gunicorn's sync workers, which close every connection)."""
    paths = scenario.paths or [scenario.path]
    latencies: list[float] = []
    errors = [0]
    counter = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            path = paths[(n - 1) % len(paths)]
            body = scenario.body(n)
            started = time.perf_counter()
            try:
                status, _, _ = fetch(port, scenario.method, path, headers, body)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1e6
            with lock:
                latencies.append(elapsed)
                if not 200 <= status < 300:
                    errors[0] += 1

    begun = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    took = time.monotonic() - begun
    latencies.sort()
    count = len(latencies)
    quantiles = [latencies[min(count - 1, count * i // 1000)] for i in range(1, 1000)]
    return len(latencies), took, errors[0], quantiles


# --- in-process: SQL statements and EXPLAIN -----------------------------------------------------


def django_setup(database_url: str) -> None:
    os.environ.update(SERVER_ENV, DATABASE_URL=database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


@dataclass
class Explained:
    """One request's SQL under EXPLAIN (ANALYZE, BUFFERS): execution time in ms per read."""

    statements: int = 0
    plans: list[tuple[float, str, int, int]] = field(default_factory=list)  # ms, what, hit, read

    @property
    def ms(self) -> float:
        return sum(plan[0] for plan in self.plans)

    def detail(self) -> str:
        parts = [f"{ms:.2f} {what} [hit {hit}, read {read}]" for ms, what, hit, read in self.plans]
        return " + ".join(parts) or "no reads"


def explain(cursor, statements: list[tuple[str, Any]]) -> Explained:
    """EXPLAIN (ANALYZE, BUFFERS) the reads among `statements` (writes are left out: they
    would run again) inside the caller's transaction, which the caller rolls back."""
    result = Explained(statements=len(statements))
    for sql, params in statements:
        text = sql.lstrip().upper()
        if not text.startswith("SELECT"):
            continue
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        plan = (json.loads(plan) if isinstance(plan, str | bytes) else plan)[0]
        top = plan["Plan"]
        rows = top.get("Actual Rows", 0)
        what = "count" if text.startswith("SELECT COUNT(") else f"{rows} row{'s' * (rows != 1)}"
        hit, read = top.get("Shared Hit Blocks", 0), top.get("Shared Read Blocks", 0)
        result.plans.append((plan["Execution Time"], what, hit, read))
    return result


# The request numbers of the explained requests: new ones in every run, so that an update
# changes what it names (an update to the value an entry has already writes nothing).
IN_PROCESS = itertools.count(time.time_ns() // 1000)


def ours_in_process(scenario: Scenario, secret: str) -> Explained:
    """One request through Django in this process: its statements, explained."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST=HOST)
    body = scenario.body(next(IN_PROCESS)) or b""
    with CaptureQueriesContext(connection) as captured:
        response = client.generic(scenario.method, scenario.first_path, body, "application/json")
    if not 200 <= response.status_code < 300:
        raise SystemExit(f"{scenario.name}: ours answered {response.status_code} in process")
    statements = [(q["sql"], None) for q in captured.captured_queries]
    with transaction.atomic(), connection.cursor() as cursor:
        explained = explain(cursor, statements)
        transaction.set_rollback(True)
    return explained


class RecordingApp:
    """The twin in this process, its statements recorded for EXPLAIN."""

    def __init__(self, database_url: str):
        from bench.twin import App

        self.app = App(database_url)
        self.recorded: list[tuple[str, Any]] = []
        original = self.app.query

        def query(cursor, sql, params=None):
            self.recorded.append((sql, params))
            return original(cursor, sql, params)

        self.app.query = query

    def call(self, scenario: Scenario, secret: str) -> Explained:
        import psycopg

        self.recorded = []
        path_info, _, query = scenario.first_path.partition("?")
        body = scenario.body(next(IN_PROCESS)) or b""
        environ = {
            "REQUEST_METHOD": scenario.method,
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": f"Bearer {secret}",
            "HTTP_HOST": HOST,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
        }
        status = []
        b"".join(self.app(environ, lambda s, h: status.append(int(s.split()[0]))))
        if not 200 <= status[0] < 300:
            raise SystemExit(f"{scenario.name}: the twin answered {status[0]} in process")
        connection = self.app.connection
        with (
            connection.transaction(force_rollback=True),
            psycopg.ClientCursor(connection) as cursor,
        ):
            return explain(cursor, self.recorded)


# --- scenarios ----------------------------------------------------------------------------------


def targets(secret_name: str) -> dict[str, Any]:
    """The biggest administration, a token for its owner, and what the scenarios point at."""
    from django.db.models import Count

    from administrations.models import Administration, Membership
    from administrations.services import token_create
    from common.pagination import Keyset
    from timeentries.models import TimeEntry

    administration = (
        Administration.objects.annotate(entries=Count("time_entries")).order_by("-entries").first()
    )
    if administration is None or administration.entries == 0:
        raise SystemExit("no entries: fill the database with `manage.py seed_bench` first")
    owner = Membership.objects.get(administration=administration, role="owner").user
    _, secret = token_create(user=owner, administration=administration, name=secret_name)
    entries = TimeEntry.objects.filter(administration=administration)
    contact = (
        entries.exclude(contact=None)
        .values("contact_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    first, last = (
        entries.order_by("started_at").first().started_at,
        entries.order_by("-started_at").first().started_at,
    )
    tz = administration.tz
    period = f"{first.astimezone(tz):%Y%m%d}..{last.astimezone(tz):%Y%m%d}"
    ordered = entries.exclude(ended_at=None).order_by("-started_at", "id")
    total = ordered.count()
    deep_page = min(DEEP_PAGE, max(1, -(-total // PER_PAGE)))
    keyset = Keyset(TimeEntry, "-started_at", "id")
    deep_row = ordered[min(total - 1, (deep_page - 1) * PER_PAGE - 1)]
    # Updates cycle over old entries, off the first pages; writes land in the same old days.
    old = list(entries.order_by("id").values_list("id", flat=True)[1000:2000])
    # The report: the last twelve months of entries (the busiest; the seed grows over time).
    year_end = last.astimezone(tz).date()
    year_start = year_end.replace(year=year_end.year - 1) + timedelta(days=1)
    return {
        "report_period": f"{year_start:%Y%m%d}..{year_end:%Y%m%d}",
        "administration": administration,
        "entries": administration.entries,
        "secret": secret,
        "contact_id": contact["contact_id"] if contact else None,
        "period": period,
        "deep_page": deep_page,
        "deep_cursor": keyset.encode(deep_row),
        "get_id": ordered.values_list("id", flat=True)[PER_PAGE // 2],
        "update_ids": old,
        "old_day": first.astimezone(tz).date().isoformat(),
    }


def scenarios(t: dict[str, Any]) -> list[Scenario]:
    base = f"/api/v2/{t['administration'].pk}/time_entries"
    page = f"per_page={PER_PAGE}"
    day = t["old_day"]

    create = {
        "started_at": f"{day} 10:00:00 UTC",
        "ended_at": f"{day} 11:00:00 UTC",
        "description": f"Bench create {COUNTER}",
    }
    update = {"description": f"Bench update {COUNTER}"}

    found = [
        Scenario("list, default period (this_year)", "GET", f"{base}.json?{page}"),
        Scenario(
            f"list, period:{t['period']}, page 1",
            "GET",
            f"{base}.json?{page}&filter=period:{t['period']}",
        ),
        Scenario(
            f"list, same period, page {t['deep_page']}",
            "GET",
            f"{base}.json?{page}&page={t['deep_page']}&filter=period:{t['period']}",
        ),
        Scenario(
            "list, state:open|non_billable",
            "GET",
            f"{base}.json?{page}&filter=state:open%7Cnon_billable",
        ),
        Scenario("list, query=design", "GET", f"{base}.json?{page}&query=design"),
    ]
    if t["contact_id"]:
        found.append(
            Scenario(
                "list, contact_id", "GET", f"{base}.json?{page}&filter=contact_id:{t['contact_id']}"
            )
        )
    found += [
        Scenario("Expensicat cursor, first page", "GET", f"/api/v1/time-entries?limit={PER_PAGE}"),
        Scenario(
            f"Expensicat cursor, after {(t['deep_page'] - 1) * PER_PAGE:,} rows",
            "GET",
            f"/api/v1/time-entries?limit={PER_PAGE}&cursor={t['deep_cursor']}",
        ),
        Scenario("get by id", "GET", f"{base}/{t['get_id']}.json"),
        Scenario(
            "report, a year by project,week",
            "GET",
            f"{base}/report.json?group_by=project,week&filter=period:{t['report_period']}",
        ),
        Scenario(
            "create", "POST", f"{base}.json", json.dumps({"time_entry": create}), kind="write"
        ),
        Scenario(
            "update (description)",
            "PATCH",
            f"{base}/{t['update_ids'][0]}.json",
            json.dumps({"time_entry": update}),
            paths=[f"{base}/{entry_id}.json" for entry_id in t["update_ids"]],
            kind="write",
        ),
    ]
    return found


def bulk_scenario(port: int, t: dict[str, Any], headers: dict[str, str], rounds: int) -> list[str]:
    """100 creates, updates and deletes as one bulk request each against 100 single requests,
    on our server only (the twin has no bulk route): wall time per 100 entries, one request
    after the other, alternating the two ways `rounds` times; and the SQL statements each way
    runs, counted in process (on PostgreSQL a bulk's entries and events are COPYs, which Django
    does not log: the count adds them). Each round deletes the entries it created, so the
    measured data set keeps its size (its events grow)."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    base = f"/api/v2/{t['administration'].pk}/time_entries"
    day = t["old_day"]

    def item(n: int) -> dict[str, str]:
        return {
            "started_at": f"{day} 12:00:00 UTC",
            "ended_at": f"{day} 13:00:00 UTC",
            "description": f"Bench bulk {n}",
        }

    def changes(round_: int) -> dict[str, str]:
        return {"description": f"Bench bulk, round {round_}"}

    bulk_body = json.dumps({"time_entries": [item(n) for n in range(100)]}).encode()
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    errors = 0

    def timed(way: str, ok: int, requests: list[tuple[str, str, bytes | None]]) -> list[bytes]:
        """Send the way's requests one after the other, timed; count answers not all `ok`."""
        nonlocal errors
        started = time.perf_counter()
        answers = [fetch(port, method, path, headers, body) for method, path, body in requests]
        times[way].append(time.perf_counter() - started)
        for status, _, content in answers:
            if way.startswith("1 bulk"):
                errors += status != 200 or any(r["status"] != ok for r in json.loads(content))
            else:
                errors += status != ok
        return [content for _, _, content in answers]

    for round_ in range(rounds):
        creates = [
            ("POST", f"{base}.json", json.dumps({"time_entry": item(n)}).encode())
            for n in range(100)
        ]
        singles = [json.loads(c)["id"] for c in timed("100 single creates", 201, creates)]
        (made,) = timed("1 bulk create of 100", 201, [("POST", f"{base}/bulk.json", bulk_body)])
        bulked = [r["id"] for r in json.loads(made)]
        patch = json.dumps({"time_entry": changes(round_)}).encode()
        timed("100 single updates", 200, [("PATCH", f"{base}/{pk}.json", patch) for pk in singles])
        bulk_patch = json.dumps({"ids": bulked, "time_entry": changes(round_)}).encode()
        timed("1 bulk update of 100", 200, [("PATCH", f"{base}/bulk.json", bulk_patch)])
        timed("100 single deletes", 204, [("DELETE", f"{base}/{pk}.json", None) for pk in singles])
        every = ",".join(bulked)
        timed("1 bulk delete of 100", 204, [("DELETE", f"{base}/bulk.json?ids={every}", None)])
    from django.db import connection

    client = Client(HTTP_AUTHORIZATION=headers["Authorization"], HTTP_HOST=HOST)

    def statements(method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        with CaptureQueriesContext(connection) as captured:
            response = client.generic(method, path, data, "application/json")
        return len(captured.captured_queries), response.json() if response.content else None

    copy = 1 if connection.vendor == "postgresql" else 0
    counts: dict[str, int] = {}
    counts["100 single creates"], single = statements(
        "POST", f"{base}.json", {"time_entry": item(0)}
    )
    counts["1 bulk create of 100"], made = statements(
        "POST", f"{base}/bulk.json", json.loads(bulk_body)
    )
    counts["1 bulk create of 100"] += 2 * copy  # the entries and their events
    ids = [r["id"] for r in made]
    counts["100 single updates"], _ = statements(
        "PATCH", f"{base}/{single['id']}.json", {"time_entry": changes(-1)}
    )
    counts["1 bulk update of 100"], _ = statements(
        "PATCH", f"{base}/bulk.json", {"ids": ids, "time_entry": changes(-1)}
    )
    counts["1 bulk update of 100"] += copy  # the events
    counts["100 single deletes"], _ = statements("DELETE", f"{base}/{single['id']}.json")
    counts["1 bulk delete of 100"], _ = statements(
        "DELETE", f"{base}/bulk.json?ids={','.join(ids)}"
    )
    counts["1 bulk delete of 100"] += copy  # the events
    lines = []
    for way in WAYS:
        ms = statistics.median(times[way]) * 1000
        each = 100 if way.startswith("100 single") else 1
        lines.append(f"| {way} | {fmt(ms)} | {fmt(100_000 / ms, 0)} | {counts[way] * each} |")
    for kind in ("create", "update", "delete"):
        single_ms = statistics.median(times[f"100 single {kind}s"])
        bulk_ms = statistics.median(times[f"1 bulk {kind} of 100"])
        lines.append(f"\nbulk / single time, {kind}: {ratio(bulk_ms, single_ms)}")
    lines.append(f"\nmedian of {rounds} rounds; failed requests or items: {errors}")
    return lines


# The bulk scenario's ways, in the order its table lists them.
WAYS = (
    "100 single creates",
    "1 bulk create of 100",
    "100 single updates",
    "1 bulk update of 100",
    "100 single deletes",
    "1 bulk delete of 100",
)


def shape(value: Any) -> Any:
    """A JSON value with every scalar replaced by its type: compares writes, whose ids and
    times differ between two servers."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def same_answer(scenario: Scenario, ours: tuple, twin: tuple) -> str:
    (status_a, headers_a, body_a), (status_b, headers_b, body_b) = ours, twin
    if status_a != status_b:
        return f"no ({status_a} vs {status_b})"
    if scenario.kind == "write":
        return "shape" if shape(json.loads(body_a)) == shape(json.loads(body_b)) else "no"
    if body_a != body_b:
        return "no"
    for name in ("X-Total-Count", "X-Total-Count-At-Least", "Link"):
        if headers_a.get(name) != headers_b.get(name):
            return f"body yes, {name} no"
    return "yes"


# --- the run ------------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"  # NaN


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or a != a or b != b else f"{a / b:.2f}x"


@dataclass
class Measured:
    scenario: Scenario
    ours: Load
    twin: Load
    sql_ours: Explained
    sql_twin: Explained
    same: str


def measure(
    scenario: Scenario,
    servers: dict[str, Server],
    generate: Callable,
    options: argparse.Namespace,
    headers: dict[str, str],
    twin_in_process: "RecordingApp",
    secret: str,
) -> Measured:
    """Alternate rounds of load between the two servers (the order flips every round), then
    compare one answer of each and explain one request of each."""
    loads = {"ours": Load(), "twin": Load()}
    order = ["ours", "twin"]
    for _ in range(options.rounds):
        for name in order:
            seconds = options.seconds / options.rounds
            loads[name].add(
                *generate(servers[name].port, scenario, headers, seconds, options.connections)
            )
        order.reverse()
    answers = [
        fetch(
            server.port,
            scenario.method,
            scenario.first_path,
            {**headers, "Host": HOST},
            scenario.body(0),
        )
        for server in servers.values()
    ]
    return Measured(
        scenario,
        loads["ours"],
        loads["twin"],
        ours_in_process(scenario, secret),
        twin_in_process.call(scenario, secret),
        same_answer(scenario, *answers),
    )


def soak(
    servers: dict[str, Server],
    scenario: Scenario,
    generate: Callable,
    options: argparse.Namespace,
    headers: dict[str, str],
    served: dict[str, int],
) -> None:
    """More requests until each side has served --soak-requests since the memory baseline, in
    alternating 10-second rounds, at most --soak-seconds per side."""
    spent = {name: 0.0 for name in servers}
    while True:
        pending = [
            name
            for name in servers
            if served[name] < options.soak_requests and spent[name] < options.soak_seconds
        ]
        if not pending:
            return
        for name in pending:
            seconds = min(10.0, options.soak_seconds - spent[name])
            requests, took, _, _ = generate(
                servers[name].port, scenario, headers, seconds, options.connections
            )
            served[name] += requests
            spent[name] += max(took, seconds)


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(
    measured: list[Measured],
    memory: dict[str, tuple[float, float]],
    pss: dict[str, float],
    served: dict[str, int],
    headline: str,
    extra: list[str],
) -> None:
    header = [
        "scenario", "p50 ms ours", "p50 ms twin", "p50 ours/twin", "p99 ms ours",
        "p99/p50 ours", "p99 ms twin", "req/s ours", "req/s twin", "req/s ours/twin",
        "SQL ours / twin", "EXPLAIN ms ours / twin", "same bytes",
    ]  # fmt: skip
    print()
    print(headline)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for m in measured:
        ours, twin = m.ours, m.twin
        row = [
            m.scenario.name,
            fmt(ours.percentile(50), 2),
            fmt(twin.percentile(50), 2),
            ratio(ours.percentile(50), twin.percentile(50)),
            fmt(ours.percentile(99), 2),
            ratio(ours.percentile(99), ours.percentile(50)),
            fmt(twin.percentile(99), 2),
            fmt(ours.rate, 0),
            fmt(twin.rate, 0),
            ratio(ours.rate, twin.rate),
            f"{m.sql_ours.statements} / {m.sql_twin.statements}",
            f"{m.sql_ours.ms:.2f} / {m.sql_twin.ms:.2f}",
            m.same,
        ]
        print("| " + " | ".join(map(cell, row)) + " |")
    print()
    (before_ours, after_ours), (before_twin, after_twin) = memory["ours"], memory["twin"]
    print("| worker RSS (MiB, mean per worker) | ours | twin | ours/twin |")
    print("|---|---|---|---|")
    print(
        f"| after warm-up | {fmt(before_ours)} | {fmt(before_twin)} | "
        f"{ratio(before_ours, before_twin)} |"
    )
    print(
        f"| at the end | {fmt(after_ours)} | {fmt(after_twin)} | {ratio(after_ours, after_twin)} |"
    )
    pss_ours, pss_twin = pss["ours"], pss["twin"]
    print(f"| PSS at the end | {fmt(pss_ours)} | {fmt(pss_twin)} | {ratio(pss_ours, pss_twin)} |")
    print(
        f"| growth | {(after_ours / before_ours - 1) * 100:+.1f}% over {served['ours']:,} requests "
        f"| {(after_twin / before_twin - 1) * 100:+.1f}% over {served['twin']:,} requests | |"
    )
    print()
    by_name = {m.scenario.name: m for m in measured}
    pairs = [
        (name, first)
        for name in by_name
        for first in by_name
        if (name.startswith("list, same period") and first.startswith("list, period:"))
        or (name.startswith("Expensicat cursor, after") and first.endswith("first page"))
    ]
    for name, first in pairs:
        deep, top = by_name[name], by_name[first]
        print(
            f"- p50 of {name!r} / {first!r}: ours "
            f"{ratio(deep.ours.percentile(50), top.ours.percentile(50))}, twin "
            f"{ratio(deep.twin.percentile(50), top.twin.percentile(50))}"
        )
    for line in extra:
        print(f"- {line}")
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) per read statement of one request, ms:")
    print()
    for m in measured:
        print(f"- {m.scenario.name}: ours {m.sql_ours.detail()}; twin {m.sql_twin.detail()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--seconds", type=float, default=10, help="load per scenario and side")
    parser.add_argument("--rounds", type=int, default=2, help="alternations per scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, each side")
    parser.add_argument("--connections", type=int, default=2, help="concurrent requests")
    parser.add_argument("--only", default="", help="run only scenarios whose name has this")
    parser.add_argument(
        "--load", choices=("auto", "wrk", "python"), default="auto", help="load generator"
    )
    parser.add_argument(
        "--soak-requests",
        type=int,
        default=10_000,
        help="requests each side serves after warm-up before memory is read again",
    )
    parser.add_argument(
        "--soak-seconds", type=float, default=120, help="at most this long per side for that"
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=1_000_000,
        help="rows for the import scenario (bench/import_bench.py); 0 leaves it out",
    )
    parser.add_argument(
        "--bulk-rounds",
        type=int,
        default=10,
        help="rounds of 100 single creates, updates and deletes against one bulk request of "
        "100 each; 0 leaves it out",
    )
    options = parser.parse_args()
    if not options.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/run.py needs a PostgreSQL DATABASE_URL filled by seed_bench")
    tool = options.load
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    generate = run_wrk if tool == "wrk" else run_python

    django_setup(options.database_url)
    t = targets("bench/run.py")
    everything = scenarios(t)
    chosen = [s for s in everything if options.only.lower() in s.name.lower()]
    secret = t["secret"]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": options.database_url}
    started = time.monotonic()
    ports = free_port(), free_port()
    servers = {
        "ours": Server("ours", OURS_APP, ports[0], options.workers, env, *OURS_OPTIONS),
        "twin": Server("twin", TWIN_APP, ports[1], options.workers, env),
    }
    twin_in_process = RecordingApp(options.database_url)
    measured: list[Measured] = []
    served = {"ours": 0, "twin": 0}
    try:
        warm = everything[0]  # the default list
        for server in servers.values():
            server.wait_ready(warm.path, headers)
        # Warm up both on every scenario (imports, code paths, connections, caches), so that
        # memory read afterwards is the baseline a leak would grow from.
        for scenario in chosen:
            for server in servers.values():
                generate(server.port, scenario, headers, 1, options.connections)
        before = {name: server.rss_mb() for name, server in servers.items()}
        for scenario in chosen:
            measured.append(
                measure(scenario, servers, generate, options, headers, twin_in_process, secret)
            )
            for name, load in (("ours", measured[-1].ours), ("twin", measured[-1].twin)):
                served[name] += load.requests
            print(f"  measured: {scenario.name}", file=sys.stderr, flush=True)
        by_id = next(s for s in everything if s.name == "get by id")
        soak(servers, by_id, generate, options, headers, served)
        bulk = (
            bulk_scenario(servers["ours"].port, t, headers, options.bulk_rounds)
            if options.bulk_rounds
            else []
        )
        memory = {name: (before[name], server.rss_mb()) for name, server in servers.items()}
        pss = {name: server.pss_mb() for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()

    extra = []
    default_list = everything[0]
    small = default_list.path.replace(f"per_page={PER_PAGE}", "per_page=10")
    counts = [ours_in_process(s, secret).statements for s in (Scenario("", "GET", small), warm)]
    extra.append(
        f"SQL statements of ours for the default list at per_page=10 / {PER_PAGE}: "
        f"{counts[0]} / {counts[1]}"
    )
    for m in measured:
        if m.ours.errors or m.twin.errors:
            extra.append(
                f"{m.scenario.name}: non-2xx or failed requests: ours {m.ours.errors}, "
                f"twin {m.twin.errors}"
            )
        if min(m.ours.requests, m.twin.requests) < 50:
            extra.append(
                f"{m.scenario.name}: few requests (ours {m.ours.requests}, twin "
                f"{m.twin.requests}): its p99 is rough"
            )
    headline = (
        f"{t['entries']:,} entries in the measured administration ({t['administration'].pk}); "
        f"load: {tool}, {options.connections} connections, {options.rounds} alternating rounds "
        f"of {options.seconds / options.rounds:g} s per side and scenario; gunicorn sync, "
        f"{options.workers} workers each; {time.monotonic() - started:.0f} s in all."
    )
    report(measured, memory, pss, served, headline, extra)
    if bulk:
        print("\nBulk writes (ours only; the twin has no bulk route):\n")
        print("| way | ms per 100 entries | entries/s | SQL statements |")
        print("|---|---|---|---|")
        print("\n".join(bulk))
    if options.import_rows:
        # The import scenario: bench/import_bench.py, in a scratch database of its own on the
        # same server, so that the measured data set stays as it is.
        print(f"\nImport of {options.import_rows:,} rows (bench/import_bench.py):", flush=True)
        command = [sys.executable, str(ROOT / "bench" / "import_bench.py")]
        command += ["--rows", str(options.import_rows), "--skip-bulk-create"]
        subprocess.run(command, env={**os.environ, "DATABASE_URL": options.database_url})


if __name__ == "__main__":
    main()
