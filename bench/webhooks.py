"""Webhook delivery under load, on PostgreSQL (README "Performance", "Webhooks").

Our server runs as in production (gunicorn, bench/run.py's Server), two webhooks of one
administration point at a local receiver (a threaded HTTP server in this process that notes when
each push arrives), and `manage.py deliver_webhooks` workers run as their own processes. Entry
changes are made through the Moneybird API (alternately a create and an update of the entry made
before), each of which both webhooks hear. Per worker count (1 and 2):

- idle: changes one at a time with a pause between them, so a worker is idle (waiting on LISTEN)
  when each commits: latency from commit to receipt;
- live: N changes as fast as 4 client threads make them, the workers running: latency and
  deliveries/s (bounded by how fast the API makes changes);
- drain: N changes made with the workers stopped, then the workers started: deliveries/s of
  the workers alone, from the first push's arrival to the last's.

"Commit" is the event's created_at (set in Python at the insert, so a little before the commit):
latencies err long, never short. Nothing passes or fails here; the goals are printed beside.

    createdb -h 127.0.0.1 -U postgres uurwerk_bench_webhooks
    .venv/bin/python bench/webhooks.py --database-url postgres://...  [--changes 10000]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import OURS_APP, OURS_OPTIONS, SERVER_ENV, Server, django_setup, free_port  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/uurwerk_bench_webhooks"
HOST = "127.0.0.1"


class Receiver:
    """Notes the arrival time of each push by its Idempotency-Key."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: workers reuse their connections

            def do_POST(self):
                arrived = time.time()
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                with owner.lock:
                    owner.arrivals.setdefault(key, arrived)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


class Client:
    """Entry changes through the Moneybird API; one keep-alive session per thread."""

    def __init__(self, port: int, administration_id: int, secret: str):
        import requests

        self.base = f"http://{HOST}:{port}/api/v2/{administration_id}/time_entries"
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        self.local = threading.local()
        self.requests = requests
        self.count = 0
        self.lock = threading.Lock()

    def _session(self):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = self.requests.Session()
        return session

    def change(self, n: int) -> None:
        """Odd n: update the entry the thread made last; even n: create one."""
        session = self._session()
        hour, minute = divmod(n % 600, 60)
        started = f"2020-01-01T{hour:02d}:{minute:02d}:00Z"
        last = getattr(self.local, "last", None)
        if n % 2 and last:
            body = {"time_entry": {"description": f"change {n}"}}
            response = session.patch(
                f"{self.base}/{last}", data=json.dumps(body), headers=self.headers
            )
        else:
            ended = f"2020-01-01T{hour + 12:02d}:{minute:02d}:00Z"
            body = {
                "time_entry": {
                    "started_at": started,
                    "ended_at": ended,
                    "description": f"entry {n}",
                }
            }
            response = session.post(self.base, data=json.dumps(body), headers=self.headers)
            if response.status_code == 201:
                self.local.last = response.json()["id"]
        if response.status_code not in (200, 201):
            raise SystemExit(f"change {n}: {response.status_code} {response.text[:300]}")


class Workers:
    running: list["Workers"] = []

    def __init__(self, count: int, env: dict[str, str]):
        Workers.running.append(self)
        command = [sys.executable, "manage.py", "deliver_webhooks"]
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        for process in self.processes:  # each says so once it listens
            process.stdout.readline()

    def stop(self) -> None:
        if self in Workers.running:
            Workers.running.remove(self)
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def latencies(since_id: int, receiver: Receiver) -> tuple[list[float], int, float, float]:
    """(commit-to-receipt seconds, deliveries, first commit, last receipt) of the deliveries made
    after `since_id`."""
    from notes.models import Event
    from webhooks.models import Delivery

    rows = list(Delivery.objects.filter(pk__gt=since_id).values_list("event_id", "idempotency_key"))
    made = dict(Event.objects.filter(pk__in={e for e, _ in rows}).values_list("id", "created_at"))
    with receiver.lock:
        arrivals = dict(receiver.arrivals)
    waits = [arrivals[key] - made[event].timestamp() for event, key in rows if key in arrivals]
    first = min(made[e].timestamp() for e, _ in rows)
    last = max(arrivals[k] for _, k in rows if k in arrivals)
    return waits, len(rows), first, last


def first_arrival(since_id: int, receiver: Receiver) -> float:
    from webhooks.models import Delivery

    keys = set(Delivery.objects.filter(pk__gt=since_id).values_list("idempotency_key", flat=True))
    with receiver.lock:
        return min(t for k, t in receiver.arrivals.items() if k in keys)


def last_delivery_id() -> int:
    from webhooks.models import Delivery

    return Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0


def wait_for(receiver: Receiver, total: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while receiver.count() < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {receiver.count()} of {total} pushes arrived")
        time.sleep(0.01)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--changes", type=int, default=10_000, help="entry changes per phase")
    parser.add_argument("--idle", type=int, default=200, help="changes of the idle phase")
    parser.add_argument("--threads", type=int, default=4, help="client threads making changes")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    options = parser.parse_args()
    if not options.database_url.startswith("postgres"):
        raise SystemExit("PostgreSQL only (LISTEN/NOTIFY and SKIP LOCKED are what is measured)")

    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": options.database_url,
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "true",
    }
    os.environ.update(WEBHOOK_ALLOW_PRIVATE_HOSTS="true")
    django_setup(options.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    from administrations import services as admin_services
    from webhooks.services import webhook_create

    receiver = Receiver()
    administration = admin_services.administration_create(
        name=f"Webhook bench {datetime.now():%Y-%m-%d %H:%M:%S}"
    )
    user = admin_services.member_add(
        administration=administration,
        actor=None,
        email=f"bench-{administration.pk}@example.com",
        role="owner",
    ).user
    _, secret = admin_services.token_create(
        user=user, name="bench", scopes=["time_entries", "settings"]
    )
    for _ in range(2):
        webhook_create(
            administration=administration,
            actor=user,
            url=receiver.url,
            enabled_events=["time_entry"],
        )
    port = free_port()
    server = Server("webhooks-bench", OURS_APP, port, 2, env, *OURS_OPTIONS)
    client = Client(port, administration.pk, secret)
    rows = []
    try:
        server.wait_ready(
            f"/api/v2/{administration.pk}/time_entries?per_page=1",
            {"Authorization": f"Bearer {secret}"},
        )
        for count in [int(c) for c in options.workers.split(",")]:
            workers = Workers(count, env)
            # idle
            since, expected = last_delivery_id(), receiver.count() + 2 * options.idle
            for n in range(options.idle):
                client.change(n)
                time.sleep(0.2)  # the workers are idle again when the next change commits
            wait_for(receiver, expected)
            idle, _, _, _ = latencies(since, receiver)
            # live
            since, expected = last_delivery_id(), receiver.count() + 2 * options.changes
            with ThreadPoolExecutor(options.threads) as pool:
                list(pool.map(client.change, range(options.changes)))
            wait_for(receiver, expected)
            live, made, first, last = latencies(since, receiver)
            live_rate = made / (last - first)
            workers.stop()
            # drain
            since, expected = last_delivery_id(), receiver.count() + 2 * options.changes
            with ThreadPoolExecutor(options.threads) as pool:
                list(pool.map(client.change, range(options.changes)))
            workers = Workers(count, env)
            wait_for(receiver, expected)
            _, drained_count, _, drain_last = latencies(since, receiver)
            workers.stop()
            rows.append(
                (
                    count,
                    pct(idle, 0.5),
                    pct(idle, 0.99),
                    pct(live, 0.5),
                    pct(live, 0.99),
                    live_rate,
                    drained_count / (drain_last - first_arrival(since, receiver)),
                )
            )
            print(f"workers={count} done", file=sys.stderr)
    finally:
        for workers in list(Workers.running):
            workers.stop()
        server.stop()
        receiver.server.shutdown()

    print(
        f"\n{options.changes:,} entry changes per phase (x2 webhooks = "
        f"{2 * options.changes:,} deliveries), {options.idle} idle changes; PostgreSQL\n"
    )
    print(
        "| workers | idle p50 ms | idle p99 ms | live p50 ms | live p99 ms "
        "| live deliveries/s | drain deliveries/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for count, ip50, ip99, lp50, lp99, live_rate, drain_rate in rows:
        print(
            f"| {count} | {ip50:.0f} | {ip99:.0f} | {lp50:.0f} | {lp99:.0f} "
            f"| {live_rate:.0f} | {drain_rate:.0f} |"
        )
    print("\nGoals: >= 300 deliveries/s with 2 workers; p50 <= 250 ms with an idle worker.")
    print(f"(median of idle waits across runs: {statistics.median([r[1] for r in rows]):.0f} ms)")


if __name__ == "__main__":
    main()
