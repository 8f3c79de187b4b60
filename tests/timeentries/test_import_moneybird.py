"""import_moneybird against our own server: a source and a target administration on one live
server, the command pulling through the Moneybird dialect as it would from Moneybird. Also the
client's waiting and retrying, against a fake session."""

import io
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from django.core.management import CommandError, call_command

from administrations.models import Administration, Contact, Project
from administrations.selectors import members_of
from administrations.services import contact_update
from notes.models import Event
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    ProjectFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)
from tests.timeentries.import_support import AMS, counts, entries, error_lines, run, summary
from timeentries.imports.moneybird_api import (
    MoneybirdApiError,
    MoneybirdClient,
    retry_after_seconds,
)
from timeentries.models import TimeEntry

# More finished entries than one page of PER_PAGE holds.
PER_PAGE = 3
CONTACT_ATTRIBUTES = (
    "company_name",
    "firstname",
    "lastname",
    "email",
    "phone",
    "address1",
    "zipcode",
    "city",
    "country",
    "customer_id",
    "archived",
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=AMS).astimezone(UTC)


class Clock:
    """The rate limiter's clock (common.ratelimit counts in fixed windows of wall-clock time),
    stopped in the middle of a window: a test that happened to straddle two windows would
    be refused fewer times than it counts on. Only a Sleeps moves it."""

    def __init__(self) -> None:
        self.now = 1_800_000_030.0  # 30 s into a minute

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("common.ratelimit.time", clock)
    return clock


class Sleeps(list):
    """A sleep that does not wait: it notes the seconds and moves the rate limiter's clock on
    by them, as waiting would."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def source(transactional_db):
    """An administration with two members, three contacts (one archived), two projects (one
    archived), seven finished entries and a running timer, and a token for its owner."""
    administration = AdministrationFactory(name="Source")
    owner = member(administration, role="owner", email="owner@example.com", name="Olga Owner")
    ann = member(administration, email="ann@example.com", name="Ann Example")
    foobar = ContactFactory(
        administration=administration,
        company_name="Foobar Holding B.V.",
        email="info@foobar.example",
        phone="+31 20 123 4567",
        address1="Hoofdstraat 1",
        zipcode="1234 AB",
        city="Amsterdam",
        customer_id="17",
    )
    jan = ContactFactory(
        administration=administration, company_name="", firstname="Jan", lastname="Jansen"
    )
    old = ContactFactory(administration=administration, company_name="Old Client B.V.")
    contact_update(contact=old, actor=None, changes={"archived": True})
    website = ProjectFactory(administration=administration, name="Website", budget=40)
    legacy = ProjectFactory(administration=administration, name="Legacy", state="archived")
    specs = [
        (ann, at(3, 9), at(3, 10, 30), 900, website, foobar, True),
        (ann, at(3, 11), at(3, 12), 0, None, jan, False),
        (owner, at(4, 9), at(4, 17), 1800, legacy, old, True),
        (owner, at(5, 8), at(5, 9), 0, website, None, True),
        (ann, at(6, 13), at(6, 14), 60, None, None, False),
        (owner, at(7, 9), at(7, 9, 45), 0, legacy, foobar, True),
        (ann, at(10, 9), at(10, 10), 0, website, jan, True),
    ]
    for number, (user, start, end, pause, project, contact, billable) in enumerate(specs, 1):
        TimeEntryFactory(
            administration=administration,
            user_id=user.pk,
            started_at=start,
            ended_at=end,
            paused_duration=pause,
            description=f"Work {number}",
            project_id=project and project.pk,
            contact_id=contact and contact.pk,
            billable=billable,
        )
    # A running timer: no end, so not an entry the import can take.
    TimeEntryFactory(
        administration=administration,
        user_id=ann.pk,
        started_at=datetime.now(UTC) - timedelta(hours=1),
        ended_at=None,
        description="Still going",
    )
    administration.token = TokenFactory(user=owner, scopes=["time_entries", "settings"])
    return administration


@pytest.fixture
def target(transactional_db):
    return AdministrationFactory(name="Target")


@pytest.fixture
def sleeps(clock):
    return Sleeps(clock)


@pytest.fixture
def pull(live_server, source, target, sleeps):
    """import_moneybird from `source` into `target`: (stdout, stderr)."""

    def run_pull(*args: str, token: str | None = None, **options) -> tuple[str, str]:
        return run(
            "import_moneybird",
            str(target.pk),
            *args,
            base_url=live_server.url,
            token=token or source.token.secret,
            source_administration=str(source.pk),
            per_page=PER_PAGE,
            sleep=sleeps,
            **options,
        )

    return run_pull


def finished(administration: Administration) -> list[tuple]:
    return [entry for entry in entries(administration) if entry[2]]


def contacts(administration: Administration) -> set[tuple]:
    return set(
        Contact.objects.filter(administration=administration).values_list(*CONTACT_ATTRIBUTES)
    )


def projects(administration: Administration) -> set[tuple]:
    return set(
        Project.objects.filter(administration=administration).values_list("name", "state", "budget")
    )


def emails(administration: Administration) -> set[str]:
    return set(members_of(administration).values_list("email", flat=True))


def test_copies_entries_users_contacts_and_projects(pull, source, target, live_server):
    out, err = pull()

    assert len(finished(source)) == 7 > PER_PAGE
    assert entries(target) == finished(source)
    assert contacts(target) == contacts(source)
    assert projects(target) == projects(source)
    assert emails(target) == emails(source)
    result = summary(out)
    assert result["source"] == f"{live_server.url}/api/v2/{source.pk}"
    assert result["users"] == "2 read, 2 created, 0 already present"
    assert result["contacts"] == "3 read, 3 created, 0 already present"
    assert result["projects"] == "2 read, 2 created, 0 already present"
    assert (result["entries"], result["imported"], result["skipped"], result["rejected"]) == (
        "8",
        "7",
        "0 (already present)",
        "1",
    )
    # The running timer (the newest entry: the list's first), reported as the file import
    # reports an entry without an end.
    assert error_lines(err) == ["row 1, ended_at: no end time"]


def test_every_imported_entry_has_its_created_event(pull, source, target, live_server):
    pull()

    imported = TimeEntry.objects.filter(administration=target)
    events = Event.objects.filter(administration=target, action="time_entry_created")
    by_entry = {event.entity_id: event for event in events}
    assert set(by_entry) == set(imported.values_list("pk", flat=True))
    data = [event.data["import"] for event in by_entry.values()]
    assert len({d["source"] for d in data}) == 1
    assert {d["file"] for d in data} == {f"{live_server.url}/api/v2/{source.pk}"}
    assert sorted(d["row"] for d in data) == list(range(2, 9))
    # Members, contacts and projects were made through their services too.
    actions = set(Event.objects.filter(administration=target).values_list("action", flat=True))
    assert {"user_invited", "contact_created", "contact_archived", "project_created"} <= actions


def test_a_second_run_adds_nothing(pull, target):
    pull()
    before = counts()

    out, _ = pull()

    assert counts() == before
    result = summary(out)
    assert result["users"] == "2 read, 0 created, 2 already present"
    assert result["contacts"] == "3 read, 0 created, 3 already present"
    assert result["projects"] == "2 read, 0 created, 2 already present"
    assert (result["imported"], result["skipped"], result["rejected"]) == (
        "0",
        "7 (already present)",
        "1",
    )


def test_records_already_here_are_matched_by_name_and_email(pull, source, target):
    member(target, email="ann@example.com", name="Ann")
    ContactFactory(administration=target, company_name="Jan Jansen")
    ProjectFactory(administration=target, name="website")

    out, _ = pull()

    result = summary(out)
    assert result["users"] == "2 read, 1 created, 1 already present"
    assert result["contacts"] == "3 read, 2 created, 1 already present"
    assert result["projects"] == "2 read, 1 created, 1 already present"
    assert result["imported"] == "7"
    assert {(e[5], e[6]) for e in entries(target)} == {
        ("website", "Foobar Holding B.V."),
        ("", "Jan Jansen"),
        ("Legacy", "Old Client B.V."),
        ("website", ""),
        ("", ""),
        ("Legacy", "Foobar Holding B.V."),
        ("website", "Jan Jansen"),
    }


def test_a_rate_limit_is_waited_out_and_the_request_repeated(
    pull, source, target, settings, sleeps
):
    limit = {"credential": "2/60", "organization": "1000/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}

    out, _ = pull()

    # Six GETs (users, contacts, projects, three pages of entries) at two a window.
    assert len(sleeps) == 2
    assert all(1 <= seconds <= 60 for seconds in sleeps)
    assert entries(target) == finished(source)
    assert summary(out)["imported"] == "7"


def test_an_error_midway_keeps_the_pages_before_it_and_a_rerun_completes(
    pull, live_server, source, target, settings
):
    limit = {"credential": "4/60", "organization": "1000/60"}
    settings.RATE_LIMITS = {"moneybird": limit, "expensicat": limit}
    options = {
        "base_url": live_server.url,
        "token": source.token.secret,
        "source_administration": str(source.pk),
        "per_page": PER_PAGE,
    }
    out = io.StringIO()

    # A sleep that waits for nothing: the window never passes, so the second page of entries
    # stays refused.
    with pytest.raises(CommandError, match=r"page=2\S* answered 429: still rate limited"):
        call_command(
            "import_moneybird",
            str(target.pk),
            sleep=[].append,
            stdout=out,
            stderr=io.StringIO(),
            **options,
        )

    assert out.getvalue().startswith("The import stopped early. Until then:")
    # The first page: the running timer (rejected) and the two newest entries.
    assert summary(out.getvalue())["imported"] == "2"
    assert len(entries(target)) == 2
    assert summary(pull()[0])["imported"] == "5"
    assert entries(target) == finished(source)


def test_a_wrong_token_writes_nothing(pull, target):
    before = counts()

    with pytest.raises(CommandError, match=r"GET http://\S+/users\.json answered 401: .*--token"):
        pull(token="wrong")

    assert counts() == before


def test_a_missing_scope_stops_before_anything_is_written(pull, source, target):
    owner = members_of(source).get(email="owner@example.com")
    token = TokenFactory(user=owner, scopes=["settings"])
    before = counts()

    with pytest.raises(CommandError, match=r"time_entries\.json\?\S+ answered 401: .*time_entries"):
        pull(token=token.secret)

    assert counts() == before


def test_an_unknown_source_administration_is_a_404(live_server, source, target, sleeps):
    with pytest.raises(CommandError, match=r"answered 404: .*--source-administration"):
        run(
            "import_moneybird",
            str(target.pk),
            base_url=live_server.url,
            token=source.token.secret,
            source_administration=str(target.pk),
            sleep=sleeps,
        )


def test_dry_run_writes_nothing_and_counts_as_the_import_would(pull, target):
    before = counts()

    out, _ = pull("--dry-run")

    assert counts() == before
    assert out.startswith("Dry run: nothing was written.")
    result = summary(out)
    assert result["contacts"] == "3 read, 3 created, 0 already present"
    assert (result["imported"], result["rejected"]) == ("7", "1")


def test_errors_to_lists_the_running_timer(pull, tmp_path):
    path = tmp_path / "errors.csv"

    _, err = pull("--errors-to", str(path))

    assert error_lines(err) == []
    assert path.read_text(encoding="utf-8").splitlines() == [
        "row,column,reason",
        "1,ended_at,no end time",
    ]


# --- the client, without a server ----------------------------------------------------------------


class FakeResponse(requests.Response):
    def __init__(self, status: int, body: bytes = b"[]", headers: dict | None = None):
        super().__init__()
        self.status_code = status
        self._content = body
        self.headers.update(headers or {})
        self.reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}.get(
            status, ""
        )


class FakeSession(requests.Session):
    """Answers GETs from a list, noting each URL asked for."""

    def __init__(self, *answers: FakeResponse):
        super().__init__()
        self.answers = list(answers)
        self.asked: list[str] = []

    def get(self, url, **kwargs):
        self.asked.append(url)
        response = self.answers.pop(0)
        response.url = url
        return response


def client(session: FakeSession, sleeps: Sleeps) -> MoneybirdClient:
    return MoneybirdClient(
        "https://moneybird.example/",
        "secret",
        "123",
        session=session,
        sleep=sleeps,
        clock=lambda: 1e9,
    )


def test_retry_after_in_seconds_as_an_epoch_or_a_date():
    now = 1_700_000_000.0
    assert retry_after_seconds("42", now=now) == 42
    assert retry_after_seconds(str(int(now) + 30), now=now) == 30  # Moneybird's epoch
    assert retry_after_seconds(
        format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True), now=now
    ) == pytest.approx(90)
    assert retry_after_seconds(None, now=now) == 5
    assert retry_after_seconds("0", now=now) == 1
    assert retry_after_seconds("86400", now=now) == 600


def test_links_are_followed_and_429s_and_5xx_retried(sleeps):
    second = "https://moneybird.example/api/v2/123/contacts.json?page=2&per_page=1"
    session = FakeSession(
        FakeResponse(200, b'[{"id": "1"}]', {"Link": f'<{second}>; rel="next"'}),
        FakeResponse(429, headers={"Retry-After": "7"}),
        FakeResponse(503),
        FakeResponse(200, b'[{"id": "2"}]'),
    )
    mb = client(session, sleeps)

    pages = list(mb.pages(mb.first_page("contacts", {"per_page": 1})))

    assert [page.items for page in pages] == [[{"id": "1"}], [{"id": "2"}]]
    assert session.asked == [
        "https://moneybird.example/api/v2/123/contacts.json?per_page=1",
        second,
        second,
        second,
    ]
    assert sleeps == [7, 1]


def test_server_errors_stop_after_a_few_retries(sleeps):
    session = FakeSession(*(FakeResponse(503, b'{"error": "down"}') for _ in range(4)))

    with pytest.raises(
        MoneybirdApiError, match=r"users\.json answered 503: Service Unavailable: down"
    ):
        client(session, sleeps).first_page("users", {})

    assert sleeps == [1, 2, 4]


def test_rate_limits_stop_after_a_few_waits(sleeps):
    session = FakeSession(*(FakeResponse(429, headers={"Retry-After": "3"}) for _ in range(6)))

    with pytest.raises(MoneybirdApiError, match="answered 429: still rate limited after 5 waits"):
        client(session, sleeps).first_page("users", {})

    assert sleeps == [3] * 5


def test_the_token_never_follows_a_link_to_another_host(sleeps):
    session = FakeSession(
        FakeResponse(200, b"[]", {"Link": '<https://evil.example/x?page=2>; rel="next"'})
    )

    with pytest.raises(MoneybirdApiError, match="next page on another host"):
        client(session, sleeps).first_page("contacts", {})


def test_the_source_names_server_and_administration():
    def source(base: str, administration: str = "123") -> str:
        return MoneybirdClient(base, "t", administration).source

    assert len(source("https://moneybird.com")) == 32
    assert source("https://moneybird.com") == source("https://Moneybird.com:443/api/v2/")
    assert source("https://moneybird.com") == source("http://moneybird.com")
    assert source("https://moneybird.com") != source("https://uurwerk.example")
    assert source("https://moneybird.com") != source("https://moneybird.com", "124")
