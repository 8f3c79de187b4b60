"""The Moneybird webhooks API through HTTP, with a real receiver for the test push."""

import re

import pytest

from notes.models import Event
from tests.factories import AdministrationFactory, member
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.usefixtures("private_hosts")


def register(api, receiver, **body):
    response = api.post("webhooks", {"url": receiver.url, **body})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_the_webhook_with_its_secret_once(api, receiver, administration):
    created = register(api, receiver, enabled_events=["time_entry", "project_created"])
    assert created == {
        "id": created["id"],
        "administration_id": str(administration.pk),
        "url": receiver.url,
        "enabled_events": ["time_entry", "project_created"],
        "last_http_status": 200,
        "last_http_body": "ok",
        "token": created["token"],
        "secret": created["secret"],
        "deactivated_at": None,
    }
    assert re.fullmatch(r"[A-Za-z0-9]{24}", created["token"])
    assert re.fullmatch(r"[0-9a-f]{64}", created["secret"])
    (test_push,) = receiver.pushes
    assert test_push.signature_ok(created["secret"])
    assert test_push.body["action"] == "test_webhook"
    assert test_push.body["webhook_id"] == created["id"]
    assert test_push.body["webhook_token"] == created["token"]
    listed = api.get("webhooks.json")
    assert listed.status_code == 200
    expected = {k: v for k, v in created.items() if k != "secret"}
    assert listed.json() == [expected]
    assert Event.objects.filter(action="webhook_created", entity_id=int(created["id"])).exists()


def test_url_is_required(api):
    response = api.post("webhooks", {"enabled_events": ["time_entry"]})
    assert response.status_code == 400
    assert response.json() == {"error": "Url is required", "symbolic": {"url": "required"}}


def test_events_key_was_removed(api, receiver):
    response = api.post("webhooks", {"url": receiver.url, "events": ["time_entry"]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "'events' has been removed from webhooks, use 'enabled_events'",
        "symbolic": {"events": "removed"},
    }
    assert not receiver.pushes


def test_unknown_event_name_is_422(api, receiver):
    response = api.post("webhooks", {"url": receiver.url, "enabled_events": ["time_entry_eaten"]})
    assert response.status_code == 422
    assert list(response.json()["error"]) == ["enabled_events"]
    assert "time_entry_eaten" in response.json()["error"]["enabled_events"][0]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("status", [201, 204, 302, 404, 500])
def test_test_push_must_answer_200(api, receiver, status):
    receiver.answer(status, {"Location": "http://example.com/"} if status == 302 else {})
    response = api.post("webhooks", {"url": receiver.url})
    assert response.status_code == 422
    assert list(response.json()["error"]) == ["url"]
    assert f"HTTP {status}" in response.json()["error"]["url"][0]
    assert not Webhook.objects.exists()
    assert not Event.objects.filter(action="webhook_created").exists()


def test_unreachable_url_is_422(api, receiver):
    response = api.post("webhooks", {"url": "http://127.0.0.1:1/hook"})
    assert response.status_code == 422
    assert list(response.json()["error"]) == ["url"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://[::ffff:7f00:1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1/",
        "http://0.0.0.0:{port}/",
        "ftp://example.com/",
    ],
)
def test_internal_addresses_are_refused_at_registration(api, receiver, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    port = receiver.url.split(":")[2].split("/")[0]
    response = api.post("webhooks", {"url": url.format(port=port)})
    assert response.status_code == 422, response.content
    assert list(response.json()["error"]) == ["url"]
    assert not receiver.pushes
    assert not Webhook.objects.exists()


def test_activate_deactivate_and_delete(api, receiver, administration):
    created = register(api, receiver)
    path = f"webhooks/{created['id']}"
    deactivated = api.patch(f"{path}/deactivate")
    assert deactivated.status_code == 200
    assert deactivated.json()["deactivated_at"] is not None
    assert "secret" not in deactivated.json()
    administration.refresh_from_db()
    assert not administration.webhooks_active
    activated = api.patch(f"{path}/activate.json")
    assert activated.status_code == 200
    assert activated.json()["deactivated_at"] is None
    administration.refresh_from_db()
    assert administration.webhooks_active
    assert api.delete(path).status_code == 204
    assert api.get("webhooks").json() == []
    administration.refresh_from_db()
    assert not administration.webhooks_active
    actions = list(
        Event.objects.filter(entity_id=int(created["id"])).values_list("action", flat=True)
    )
    assert actions == [
        "webhook_created",
        "webhook_deactivated",
        "webhook_activated",
        "webhook_destroyed",
    ]
    assert api.delete(path).status_code == 404


def test_settings_scope_is_required(make_api, administration, receiver):
    user = member(administration, role="admin")
    limited = make_api(administration, user, scopes=("time_entries",))
    assert limited.get("webhooks").status_code == 401
    assert limited.post("webhooks", {"url": receiver.url}).status_code == 401


def test_another_administrations_webhook_is_404(api, make_api, receiver):
    created = register(api, receiver)
    other = AdministrationFactory()
    stranger = make_api(other, member(other, role="owner"), scopes=("settings",))
    path = f"webhooks/{created['id']}"
    assert stranger.get("webhooks").json() == []
    for response in (
        stranger.delete(path),
        stranger.patch(f"{path}/activate"),
        stranger.patch(f"{path}/deactivate"),
        stranger.get(f"{path}/deliveries"),
        stranger.post(f"{path}/deliveries/1/redeliver"),
    ):
        assert response.status_code == 404
    assert Webhook.objects.filter(pk=int(created["id"]), deactivated_at=None).exists()
    assert not Delivery.objects.exists()
