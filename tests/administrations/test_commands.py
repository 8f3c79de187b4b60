"""The administration commands: what they print is real (ids exist, secrets authenticate), what
they write is audited, and bad input is a CommandError naming the problem that writes nothing."""

import io
import re
import shlex
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connections
from rest_framework.test import APIClient

from administrations.management.commands.seed_demo import seed
from administrations.models import Administration, ApiToken, Contact, Membership, Project, User
from notes.models import Event, Note
from tests.factories import AdministrationFactory, member
from timeentries.models import TimeEntry

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TRACKED = (Administration, User, Membership, ApiToken, Contact, Project, TimeEntry, Note, Event)


def run(name: str, *args: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TRACKED}


def get(path: str, secret: str):
    return APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def time_entries(administration_id: int | str, secret: str):
    return get(f"/api/v2/{administration_id}/time_entries", secret)


def refused(name: str, *args: str, match: str, **options) -> CommandError:
    """Run a command that must fail on its input; prove it wrote nothing."""
    before = counts()
    with pytest.raises(CommandError, match=match) as exc:
        run(name, *args, **options)
    assert counts() == before
    return exc.value


# --- create_administration ------------------------------------------------------------------


def test_create_administration_prints_only_the_id():
    out, err = run("create_administration", "Acme B.V.")
    administration = Administration.objects.get()
    assert out == f"{administration.pk}\n"
    assert err == ""
    assert (
        administration.name,
        administration.currency,
        administration.time_zone,
        administration.language,
        administration.country,
    ) == ("Acme B.V.", "EUR", "Europe/Amsterdam", "nl", "NL")
    event = Event.objects.get()
    assert (event.action, event.administration, event.entity_id, event.data) == (
        "administration_added",
        administration,
        administration.pk,
        {"name": "Acme B.V."},
    )


def test_create_administration_with_options_and_owner():
    out, _ = run(
        "create_administration",
        "Zoë's Studio",
        "--currency",
        "usd",
        "--time-zone",
        "America/New_York",
        "--language",
        "en",
        "--country",
        "us",
        "--owner",
        " Zoe@Example.com ",
    )
    administration = Administration.objects.get(pk=int(out))
    assert (administration.name, administration.currency, administration.time_zone) == (
        "Zoë's Studio",
        "USD",
        "America/New_York",
    )
    assert (administration.language, administration.country) == ("en", "US")
    membership = Membership.objects.get(administration=administration)
    assert (membership.user.email, membership.role) == ("zoe@example.com", "owner")
    # A new person: recorded as a user (in no administration), then as invited.
    assert list(Event.objects.values_list("action", flat=True)) == [
        "administration_added",
        "user_created",
        "user_invited",
    ]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("  ",), "name: can't be blank"),
        (("Acme", "--time-zone", "Mars/Olympus_Mons"), "time_zone: is not a known time zone"),
        (("Acme", "--currency", "EURO"), "currency: must be an ISO 4217 code"),
        (("Acme", "--currency", "E1R"), "currency"),
        (("Acme", "--country", "NLD"), "country: 'NLD' is not a two-letter country code"),
        (("Acme", "--language", "dutch language"), "language"),
        (("Acme", "--owner", "not-an-email"), "owner: 'not-an-email' is not a valid email"),
        (("Acme", "--owner", "someone@"), "owner"),
    ],
)
def test_create_administration_refuses_bad_input(args, match):
    refused("create_administration", *args, match=match)


def test_bad_input_from_the_command_line_exits_non_zero_without_traceback(capsys, monkeypatch):
    # run_from_argv closes the connections when it is done; the test's transaction needs its.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    utility = ManagementUtility(
        ["manage.py", "create_administration", "Acme", "--time-zone", "Nowhere/Else"]
    )
    with pytest.raises(SystemExit) as exc:
        utility.execute()
    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "CommandError: time_zone: is not a known time zone\n"
    assert not Administration.objects.exists()


# --- add_member -----------------------------------------------------------------------------


def test_add_member_creates_the_user_and_prints_the_id():
    administration = AdministrationFactory()
    out, err = run(
        "add_member",
        str(administration.pk),
        "Anna@Example.com",
        "--name",
        "Anna de Boer",
        "--role",
        "admin",
        "--password",
        "s3cret!",
    )
    user = User.objects.get(email="anna@example.com")
    assert out == f"{user.pk}\n"
    assert err == ""
    assert user.name == "Anna de Boer"
    assert user.check_password("s3cret!")
    assert Membership.objects.get(user=user).role == "admin"
    event = Event.objects.get(action="user_invited")
    assert (event.administration, event.entity_id, event.data) == (
        administration,
        user.pk,
        {"email": "anna@example.com", "role": "admin"},
    )


def test_add_member_without_password_gives_an_unusable_one():
    administration = AdministrationFactory()
    out, _ = run("add_member", str(administration.pk), "bob@example.com")
    user = User.objects.get(pk=int(out))
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).role == "member"


def test_add_member_reuses_an_existing_user_and_changes_the_role():
    first, second = AdministrationFactory(), AdministrationFactory()
    user = member(first, email="carla@example.com", name="Carla")
    out, err = run("add_member", str(second.pk), "carla@example.com")
    assert out == f"{user.pk}\n"
    assert err == ""
    out, _ = run("add_member", str(second.pk), "carla@example.com", "--role", "owner")
    assert out == f"{user.pk}\n"
    assert Membership.objects.get(administration=second, user=user).role == "owner"
    event = Event.objects.filter(administration=second).last()
    assert (event.action, event.data) == ("user_role_changed", {"role": ["member", "owner"]})
    assert User.objects.filter(email="carla@example.com").count() == 1


def test_add_member_says_when_name_and_password_are_not_applied():
    administration = AdministrationFactory()
    user = member(administration, email="dirk@example.com", name="Dirk")
    out, err = run(
        "add_member", str(administration.pk), "dirk@example.com", "--password", "changed"
    )
    assert out == f"{user.pk}\n"
    assert "dirk@example.com already exists" in err
    user.refresh_from_db()
    assert not user.check_password("changed")


@pytest.mark.parametrize(
    ("administration_id", "email", "options", "match"),
    [
        ("abc", "x@example.com", {}, "administration_id: 'abc' is not a number"),
        ("123", "x@example.com", {}, "administration_id: no administration with id 123"),
        ("-1", "x@example.com", {}, "administration_id: no administration"),
        (str(2**70), "x@example.com", {}, "administration_id: no administration"),
        (None, "not an email", {}, "email: 'not an email' is not a valid email address"),
        (None, "x@", {}, "email"),
        (None, "x@example.com", {"role": "boss"}, "role: must be owner, admin or member"),
    ],
)
def test_add_member_refuses_bad_input(administration_id, email, options, match):
    administration = AdministrationFactory()
    refused(
        "add_member", administration_id or str(administration.pk), email, match=match, **options
    )
    assert not User.objects.filter(email__startswith="x@").exists()


# --- create_token ---------------------------------------------------------------------------


def test_create_token_prints_a_secret_that_authenticates():
    administration = AdministrationFactory()
    user = member(administration, email="eva@example.com")
    out, err = run("create_token", "EVA@example.com", "--name", "cli")
    secret = out.strip()
    assert out == f"{secret}\n"
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert err == ""
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.administration, token.scopes) == (
        user,
        "cli",
        None,
        ["sales_invoices", "settings", "time_entries"],
    )
    assert time_entries(administration.pk, secret).status_code == 200
    event = Event.objects.get(action="access_token_created")
    assert (event.administration, event.entity_id, event.link_entity_id, event.data) == (
        administration,
        user.pk,
        token.pk,
        {"name": "cli", "scopes": ["sales_invoices", "settings", "time_entries"]},
    )


def test_create_token_with_scopes_and_one_administration():
    first, second = AdministrationFactory(), AdministrationFactory()
    user = member(first, email="fenna@example.com")
    member(second, email="fenna@example.com")
    out, _ = run(
        "create_token",
        "fenna@example.com",
        "--scopes",
        " time_entries , documents,",
        "--administration",
        str(first.pk),
    )
    secret = out.strip()
    token = ApiToken.objects.get(user=user)
    assert (token.administration, token.scopes) == (first, ["documents", "time_entries"])
    assert time_entries(first.pk, secret).status_code == 200
    assert time_entries(second.pk, secret).status_code == 404
    assert list(
        Event.objects.filter(action="access_token_created").values_list("administration")
    ) == [(first.pk,)]


def test_create_token_without_the_scope_is_refused_by_the_api():
    administration = AdministrationFactory()
    member(administration, email="gijs@example.com")
    out, _ = run("create_token", "gijs@example.com", "--scopes", "settings")
    assert time_entries(administration.pk, out.strip()).status_code == 401


def test_create_token_for_a_user_without_administrations_warns():
    from administrations.services import user_get_or_create

    user, _ = user_get_or_create(email="hanna@example.com")
    out, err = run("create_token", "hanna@example.com")
    assert re.fullmatch(r"[0-9a-f]{64}\n", out)
    assert "not a member of any administration" in err
    assert ApiToken.objects.get().user == user


@pytest.mark.parametrize(
    ("email", "options", "match"),
    [
        ("nobody@example.com", {}, "email: no user with email nobody@example.com"),
        ("nobody", {}, "email: 'nobody' is not a valid email address"),
        ("ivo@example.com", {"scopes": "time_entries,wizardry"}, "unknown scope.*wizardry"),
        ("ivo@example.com", {"scopes": ""}, "scopes: can't be blank"),
        ("ivo@example.com", {"scopes": " , "}, "scopes: can't be blank"),
        ("ivo@example.com", {"administration": "x1"}, "administration_id: 'x1' is not a number"),
        ("ivo@example.com", {"administration": "42"}, "administration_id: no administration"),
        ("ivo@example.com", {"administration": "OTHER"}, "administration: the user is not a"),
    ],
)
def test_create_token_refuses_bad_input(email, options, match):
    member(AdministrationFactory(), email="ivo@example.com")
    if options.get("administration") == "OTHER":
        options["administration"] = str(AdministrationFactory().pk)
    refused("create_token", email, match=match, **options)
    assert not ApiToken.objects.exists()


# --- seed_demo ------------------------------------------------------------------------------


def printed(out: str) -> tuple[str, str, str]:
    """The administration id, the token and the curl line seed_demo printed."""
    administration_id = re.search(r"^Administration id: (\d+)$", out, re.M).group(1)
    secret = re.search(r"^API token \(demo@example.com\): ([0-9a-f]{64})$", out, re.M).group(1)
    curl = re.search(r"^curl .*$", out, re.M).group(0)
    return administration_id, secret, curl


def curl_works(curl: str, administration_id: str, secret: str, port: int = 8000) -> None:
    """Run the printed curl line against the test client: its header and URL, as a shell reads
    them."""
    words = shlex.split(curl)
    assert words[:3] == ["curl", "-H", f"Authorization: Bearer {secret}"]
    url = urlsplit(words[3])
    assert (url.scheme, url.netloc) == ("http", f"127.0.0.1:{port}")
    assert url.path == f"/api/v2/{administration_id}/time_entries.json"
    response = get(url.path, secret)
    assert response.status_code == 200
    assert all(entry["administration_id"] == administration_id for entry in response.json())


def test_seed_demo_creates_the_promised_data():
    out, err = run("seed_demo", "--port", "8123")
    assert err == ""
    administration_id, secret, curl = printed(out)
    administration = Administration.objects.get()
    assert str(administration.pk) == administration_id
    assert (administration.name, administration.time_zone, administration.currency) == (
        "Demo B.V.",
        "Europe/Amsterdam",
        "EUR",
    )

    owner = User.objects.get(email="demo@example.com")
    assert owner.name == "Demo Owner"
    assert owner.check_password("demo")
    roles = dict(administration.memberships.values_list("user__email", "role"))
    assert roles["demo@example.com"] == "owner"
    assert len(roles) == 3

    contacts = list(administration.contacts.all())
    assert len(contacts) == 4
    assert any(not c.display_name.isascii() for c in contacts)
    states = sorted(administration.projects.values_list("state", flat=True))
    assert states == ["active", "active", "active", "archived"]

    entries = TimeEntry.objects.filter(administration=administration)
    running = entries.filter(ended_at__isnull=True)
    assert [e.user for e in running] == [owner]
    assert entries.count() > 100
    assert entries.filter(billable=True).exists()
    assert entries.filter(billable=False).exists()
    assert entries.filter(project__isnull=True).exists()
    assert set(entries.values_list("user", flat=True)) == set(
        administration.memberships.values_list("user", flat=True)
    )
    assert Note.objects.filter(subject_type="TimeEntry").count() >= 5
    # Everything went through the services: each entry has its event.
    assert Event.objects.filter(action="time_entry_created").count() == entries.count()
    assert Event.objects.filter(action="project_archived").count() == 1

    token = ApiToken.objects.get()
    assert (token.user, token.administration, token.scopes) == (
        owner,
        administration,
        ["sales_invoices", "settings", "time_entries"],
    )
    curl_works(curl, administration_id, secret, port=8123)
    assert out.startswith('Created "Demo B.V.": 3 memberships, 4 contacts, 4 projects, ')


def test_seed_demo_entries_fall_on_weekdays_of_the_last_four_weeks():
    today = datetime(2026, 4, 1, 14, 30, tzinfo=AMSTERDAM)  # DST began on 29 March
    administration = seed(today=today)
    entries = TimeEntry.objects.filter(administration=administration)
    stopped = entries.filter(ended_at__isnull=False)
    days = {e.started_at.astimezone(AMSTERDAM).date() for e in stopped}
    assert all(d.weekday() < 5 for d in days)
    assert min(days) >= today.date() - timedelta(weeks=4)
    assert max(days) < today.date()
    assert len(days) == 20
    for entry in stopped:
        local = entry.started_at.astimezone(AMSTERDAM)
        assert 9 <= local.hour < 18
        assert entry.ended_at.astimezone(AMSTERDAM).hour <= 18
    running = entries.get(ended_at__isnull=True)
    assert running.started_at == today - timedelta(hours=1, minutes=5)
    archived = Project.objects.get(administration=administration, state="archived")
    assert max(e.started_at for e in archived.time_entries.all()) < today - timedelta(weeks=3)


def test_seed_demo_is_deterministic():
    today = datetime(2026, 3, 4, 12, 0, tzinfo=AMSTERDAM)

    def shape(administration):
        return [
            (e.user.email, e.started_at, e.ended_at, e.description, e.billable, e.paused_duration)
            for e in TimeEntry.objects.filter(administration=administration)
            .select_related("user")
            .order_by("started_at", "user__email")
        ]

    first, second = seed(today=today), seed(today=today)
    assert shape(first) == shape(second)
    assert len(shape(first)) > 100


def test_seed_demo_if_empty_twice_does_not_duplicate_but_prints_a_fresh_token():
    first_out, _ = run("seed_demo", "--if-empty")
    first_id, first_secret, _ = printed(first_out)
    before = counts()

    out, err = run("seed_demo", "--if-empty")
    assert err == ""
    administration_id, secret, curl = printed(out)
    assert administration_id == first_id
    assert secret != first_secret
    assert counts() == {
        **before,
        "ApiToken": before["ApiToken"] + 1,
        "Event": before["Event"] + 1,  # access_token_created
    }
    assert out.startswith('Demo data already present in "Demo B.V.".')
    curl_works(curl, administration_id, secret)
    assert time_entries(first_id, first_secret).status_code == 200


def test_seed_demo_if_empty_prefers_the_demo_administration():
    run("seed_demo")
    other = AdministrationFactory(name="Aardvark")  # sorts, and was made, after the demo one
    member(other, email="demo@example.com")
    out, _ = run("seed_demo", "--if-empty")
    administration_id, secret, _ = printed(out)
    assert Administration.objects.get(pk=administration_id).name == "Demo B.V."
    assert time_entries(administration_id, secret).status_code == 200


@pytest.mark.parametrize("demo_user_without_membership", [False, True])
def test_seed_demo_if_empty_without_a_demo_owner_only_prints_a_note(
    demo_user_without_membership,
):
    from administrations.services import user_get_or_create

    AdministrationFactory()
    if demo_user_without_membership:
        user_get_or_create(email="demo@example.com")
    before = counts()
    out, err = run("seed_demo", "--if-empty")
    assert counts() == before
    assert "no demo data added, no token made" in out
    assert "curl" not in out
    assert err == ""


@pytest.mark.parametrize(
    ("port", "match"), [("http", "port: 'http' is not a number"), ("0", "port: 0 is not between")]
)
def test_seed_demo_refuses_a_bad_port(port, match):
    refused("seed_demo", "--port", port, match=match)
