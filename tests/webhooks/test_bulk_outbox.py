"""A bulk PATCH or DELETE of time entries fills the webhooks' outbox per entry as single writes
do: one delivery per event, each with the entity as it was rendered at that moment (a deleted
entry's last rendering)."""

import json

import pytest

from tests.factories import ProjectFactory
from tests.timeentries.test_bulk_batched import twins
from webhooks.models import Delivery

pytestmark = pytest.mark.usefixtures("private_hosts")


def pushed(entry_id: str) -> list[tuple[str, dict | None]]:
    """(action, entity without what differs between twins) of each delivery about the entry."""
    out = []
    for delivery in Delivery.objects.filter(entity_id=int(entry_id)).order_by("created_at", "id"):
        entity = json.loads(delivery.body)["entity"]
        if entity is not None:
            assert entity["id"] == entry_id
            entity = {
                k: v for k, v in entity.items() if k not in ("id", "updated_at", "created_at")
            }
            entity["events"] = [e["action"] for e in entity["events"]]
        out.append((delivery.action, entity))
    return out


def test_bulk_writes_push_per_entry_what_single_writes_push(api, administration, receiver):
    project = ProjectFactory(administration=administration, name="Website")
    response = api.post("webhooks", {"url": receiver.url, "enabled_events": ["time_entry"]})
    assert response.status_code == 201, response.content
    bulk, single = twins(api, 3)
    changes = {"description": "Moved", "project_id": str(project.pk), "billable": False}
    results = api.patch("time_entries/bulk", {"ids": bulk, "time_entry": changes}).json()
    assert [r["status"] for r in results] == [200] * 3
    for pk in single:
        assert api.patch(f"time_entries/{pk}", {"time_entry": changes}).status_code == 200
    response = api.delete(f"time_entries/bulk?ids={','.join(bulk)}")
    assert [r["status"] for r in response.json()] == [204] * 3
    for pk in single:
        assert api.delete(f"time_entries/{pk}").status_code == 204
    for mine, theirs in zip(bulk, single, strict=True):
        assert pushed(mine) == pushed(theirs)
        actions = [action for action, _ in pushed(mine)]
        assert actions == ["time_entry_created", "time_entry_updated", "time_entry_destroyed"]
        destroyed = pushed(mine)[-1][1]
        assert destroyed is not None and destroyed["description"] == "Moved"
        assert destroyed["events"][-1] == "time_entry_destroyed"
