"""What the outbox adds to a write's SQL: nothing for an administration without an active
webhook (tests/timeentries/test_write_statements.py pins those), and for one with webhooks a
read of them, a read of the entity's rendering, one insert of the deliveries and, on
PostgreSQL, the NOTIFY that wakes a worker."""

import pytest
from django.db import connection

from tests.timeentries.test_write_statements import (
    INSERT_READ,
    MB_BODY,
    auth_statements,
    kinds,
    run,
)
from webhooks.models import Delivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_hosts")]


def test_a_write_heard_by_webhooks_adds_four_statements(api, receiver):
    for events in (["time_entry"], ["time_entry_created"], ["project"]):
        response = api.post("webhooks", {"url": receiver.url, "enabled_events": events})
        assert response.status_code == 201, response.content
    auth = auth_statements(lambda: api.post("time_entries", {}))
    response, statements = run(lambda: api.post("time_entries", {"time_entry": MB_BODY}))
    assert response.status_code == 201, response.content
    notify = ["SELECT"] if connection.vendor == "postgresql" else []
    outbox = ["SELECT", "SELECT", "INSERT webhooks_delivery", *notify]
    assert kinds(statements[auth:]) == ["SELECT", *INSERT_READ, *outbox]
    # Two of the three webhooks hear it: one delivery each, in the one insert.
    assert Delivery.objects.count() == 2


def test_a_deactivated_webhook_costs_nothing(api, receiver):
    response = api.post("webhooks", {"url": receiver.url})
    api.patch(f"webhooks/{response.json()['id']}/deactivate")
    auth = auth_statements(lambda: api.post("time_entries", {}))
    response, statements = run(lambda: api.post("time_entries", {"time_entry": MB_BODY}))
    assert response.status_code == 201, response.content
    assert kinds(statements[auth:]) == ["SELECT", *INSERT_READ]
    assert not Delivery.objects.exists()
