"""A worker killed with SIGKILL mid-run, and restarted, loses no push.

Real processes (`manage.py deliver_webhooks`) against a database they share with the test: on
PostgreSQL the test database (committed data, hence transactional_db), on SQLite a database file
made for the test (the test database lives in memory, which no other process can open)."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection

from tests.webhooks.conftest import Push

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 40

SETUP = """
from datetime import timedelta
from django.utils import timezone
from administrations.models import Administration
from tests.factories import AdministrationFactory, TimeEntryFactory, member
from webhooks.services import webhook_create
from webhooks.models import Delivery
administration = AdministrationFactory(name="Crash")
user = member(administration, role="owner")
webhook_create(
    administration=administration, actor=user, url="{url}", enabled_events=["time_entry"]
)
administration.refresh_from_db()
start = timezone.now() - timedelta(days=2)
for n in range({events}):
    TimeEntryFactory(
        administration=administration, user_id=user.pk, description=f"entry {{n}}",
        started_at=start + timedelta(minutes=2 * n), ended_at=start + timedelta(minutes=2 * n + 1),
    )
print("deliveries", Delivery.objects.count())
"""

REPORT = """
from webhooks.models import Delivery
for d in Delivery.objects.order_by("id"):
    print("delivery", d.idempotency_key, d.state)
"""


@pytest.fixture
def database_url(transactional_db, tmp_path):
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        name = s["NAME"]
        return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{name}"
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    manage(url, "migrate", "--noinput")
    return url


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "true",
        # A short lease, so that the restarted worker takes over the killed one's claims soon.
        "WEBHOOK_LEASE_SECONDS": "3",
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1",
        "REDIS_URL": "",
        # The worker is a process of its own, which reads its settings from the environment.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "crash-test-only-not-a-secret",
    }


class SlowReceiver:
    """Takes a moment over each push, so that a kill lands while pushes are in flight."""

    def __init__(self):
        self.pushes: list[Push] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(0.05)
                with owner.lock:
                    owner.pushes.append(Push(dict(self.headers.items()), raw))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> set[str]:
        with self.lock:
            return {
                p.headers["Idempotency-Key"]
                for p in self.pushes
                if p.body["action"] != "test_webhook"
            }

    def count(self) -> int:
        with self.lock:
            return len(self.pushes)


def states(database_url: str) -> dict[str, str]:
    """Each delivery's state by its Idempotency-Key, as the database has it."""
    lines = manage(database_url, "shell", "-c", REPORT).stdout.splitlines()
    return dict(line.split()[1:] for line in lines if line.startswith("delivery "))


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_killed_worker_loses_no_push(database_url):
    receiver = SlowReceiver()
    try:
        created = manage(database_url, "shell", "-c", SETUP.format(url=receiver.url, events=EVENTS))
        assert f"deliveries {EVENTS}" in created.stdout.splitlines()
        worker = [sys.executable, "manage.py", "deliver_webhooks", "--threads", "2", "--batch", "4"]
        env = environment(database_url)
        first = subprocess.Popen(worker, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        wait_for(lambda: receiver.count() >= 6, "the first worker's pushes")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        at_kill = receiver.count()
        assert at_kill < EVENTS + 1, "the kill came too late to prove anything"
        second = subprocess.Popen(worker, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(receiver.keys()) >= EVENTS, "every push", seconds=180)
            # The last pushes are recorded as delivered once their answers are in.
            wait_for(lambda: set(states(database_url).values()) == {"delivered"}, "the records")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        keys = set(states(database_url))
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    bodies = defaultdict(set)
    for push in receiver.pushes:
        if push.body["action"] != "test_webhook":
            bodies[push.headers["Idempotency-Key"]].add(push.raw)
    # Every event's push arrived; a push that arrived twice did so with one key and one body.
    assert len(keys) == EVENTS
    assert set(bodies) == keys
    assert all(len(raws) == 1 for raws in bodies.values())
    entity_ids = {next(iter(raws)) for raws in bodies.values()}
    assert len(entity_ids) == EVENTS
