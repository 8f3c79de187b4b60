#!/usr/bin/env python3
"""Walk the path a Moneybird API client takes, against a live server, and stop at the first
surprise with a non-zero exit.

    python scripts/moneybird_smoke.py http://127.0.0.1:8000 TOKEN [ADMINISTRATION_ID]

Only the standard library and requests, so it runs from anywhere a client would.
"""

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests


class Surprise(Exception):
    pass


class Client:
    def __init__(self, base_url: str, token: str):
        self.base = base_url.rstrip("/") + "/api/v2"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        )
        self.steps = 0

    def call(self, method: str, path: str, expect: int, body: Any = None, **params: Any) -> Any:
        url = f"{self.base}/{path.lstrip('/')}"
        response = self.session.request(method, url, json=body, params=params or None, timeout=30)
        self.steps += 1
        label = f"{method} {path}"
        if response.status_code != expect:
            raise Surprise(
                f"{label}: expected {expect}, got {response.status_code}: {response.text[:500]}"
            )
        print(f"ok  {response.status_code} {label}")
        if response.status_code == 204 or not response.content:
            return None
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            raise Surprise(f"{label}: Content-Type {response.headers.get('Content-Type')!r}")
        return response.json()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def iso(value: datetime) -> str:
    return f"{value.year:04d}-" + value.strftime("%m-%d %H:%M:%S UTC")


def walk(client: Client, administration_id: str | None) -> None:
    administrations = client.call("GET", "administrations.json", 200)
    check(isinstance(administrations, list) and administrations, "no administrations listed")
    ids = [str(a["id"]) for a in administrations]
    adm = administration_id or ids[0]
    check(adm in ids, f"administration {adm} not among {ids}")

    users = client.call("GET", f"{adm}/users.json", 200)
    check(isinstance(users, list) and users, "no users listed")
    check(all({"id", "name"} <= set(u) for u in users), "users lack id/name")

    stamp = int(time.time())
    contact = client.call(
        "POST", f"{adm}/contacts.json", 201, {"contact": {"company_name": f"Smoke {stamp} B.V."}}
    )
    check(contact["company_name"] == f"Smoke {stamp} B.V.", "contact not created as sent")
    client.call("GET", f"{adm}/contacts/{contact['id']}.json", 200)
    listed = client.call("GET", f"{adm}/contacts.json", 200, query=f"Smoke {stamp}")
    check([c["id"] for c in listed] == [contact["id"]], "contact search did not find it")
    client.call("POST", f"{adm}/contacts.json", 422, {"contact": {"company_name": ""}})

    project = client.call(
        "POST", f"{adm}/projects.json", 201, {"project": {"name": f"Smoke {stamp}"}}
    )
    client.call("POST", f"{adm}/projects.json", 422, {"project": {"name": f"Smoke {stamp}"}})
    projects = client.call("GET", f"{adm}/projects.json", 200, filter="state:all")
    check(project["id"] in [p["id"] for p in projects], "new project not listed")

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    entry = client.call(
        "POST",
        f"{adm}/time_entries.json",
        201,
        {
            "time_entry": {
                "started_at": iso(now - timedelta(hours=2, seconds=-30)),
                "ended_at": iso(now - timedelta(hours=1)),
                "description": "Smoke test",
                "contact_id": contact["id"],
                "project_id": project["id"],
                "billable": True,
            }
        },
    )
    check(entry["started_at"].endswith(":00.000Z"), f"start not rounded: {entry['started_at']}")
    check(entry["contact"]["id"] == contact["id"], "entry lost its contact")
    check([e["action"] for e in entry["events"]] == ["time_entry_created"], "no created event")
    entry_id = entry["id"]

    client.call(
        "POST",
        f"{adm}/time_entries.json",
        422,
        {"time_entry": {"started_at": iso(now), "ended_at": iso(now - timedelta(hours=1))}},
    )
    patched = client.call(
        "PATCH",
        f"{adm}/time_entries/{entry_id}.json",
        200,
        {"time_entry": {"description": "Smoked"}},
    )
    check(patched["description"] == "Smoked", "description not updated")
    updated = [e for e in patched["events"] if e["action"] == "time_entry_updated"]
    check(
        updated and updated[-1]["data"]["description"] == ["Smoke test", "Smoked"], "no [old, new]"
    )

    period = f"{(now - timedelta(days=1)):%Y%m%d}..{(now + timedelta(days=1)):%Y%m%d}"
    found = client.call(
        "GET", f"{adm}/time_entries.json", 200, filter=f"period:{period},contact_id:{contact['id']}"
    )
    check([e["id"] for e in found] == [entry_id], "filter by contact and period did not find it")

    timer = client.call(
        "POST",
        f"{adm}/time_entries.json",
        201,
        {
            "time_entry": {
                "started_at": iso(now - timedelta(minutes=1)),
                "description": "Smoke timer",
            }
        },
    )
    check(timer["ended_at"] is None, "timer without ended_at is not running")
    stopped = client.call("PATCH", f"{adm}/time_entries/{timer['id']}/stop.json", 200)
    check(stopped["ended_at"] is not None, "stop did not stop")
    resumed = client.call("PATCH", f"{adm}/time_entries/{timer['id']}/resume.json", 200)
    check(resumed["ended_at"] is None, "resume did not resume")
    running = client.call(
        "GET", f"{adm}/time_entries.json", 200, filter="include_active:true,period:this_year"
    )
    check(timer["id"] in [e["id"] for e in running], "running timer not listed with include_active")
    client.call("PATCH", f"{adm}/time_entries/{timer['id']}/stop.json", 200)

    note = client.call(
        "POST", f"{adm}/time_entries/{entry_id}/notes.json", 201, {"note": {"note": "Smoke note"}}
    )
    with_note = client.call("GET", f"{adm}/time_entries/{entry_id}.json", 200)
    check([n["id"] for n in with_note["notes"]] == [note["id"]], "note not on the entry")
    client.call("DELETE", f"{adm}/time_entries/{entry_id}/notes/{note['id']}.json", 204)

    for eid in (entry_id, timer["id"]):
        client.call("DELETE", f"{adm}/time_entries/{eid}.json", 204)
        client.call("GET", f"{adm}/time_entries/{eid}.json", 404)
    client.call("DELETE", f"{adm}/projects/{project['id']}.json", 204)
    client.call("DELETE", f"{adm}/contacts/{contact['id']}.json", 204)
    client.call("GET", f"{adm}/contacts/{contact['id']}.json", 404)


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    client = Client(argv[1], argv[2])
    try:
        walk(client, argv[3] if len(argv) == 4 else None)
    except (Surprise, requests.RequestException, KeyError, TypeError, ValueError) as exc:
        print(f"SURPRISE after {client.steps} calls: {exc}", file=sys.stderr)
        return 1
    print(f"smoke: {client.steps} calls, no surprises")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
