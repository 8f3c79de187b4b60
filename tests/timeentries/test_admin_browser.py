"""The bookkeeper's Monday in a real browser: Playwright driving the distribution's Chromium
(`apt-get install chromium`; never `playwright install`) against a live server with the demo
data. Each page is saved as a screenshot under artifacts/screenshots/ (UURWERK_SCREENSHOTS to
change it), the CI's artifacts.

Without Chromium or the playwright package the tests are skipped, saying which is missing."""

import csv
import io
import json
import os
import re
import shutil
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from administrations.models import Administration, User
from administrations.services import token_create
from timeentries.exports import CSV_COLUMNS

CHROMIUM = os.environ.get("UURWERK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(
    os.environ.get(
        "UURWERK_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    )
)
WIDTH = 1280

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None:
    pytestmark = pytest.mark.skip(
        reason="the playwright package is not installed (pip install playwright)"
    )
elif not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
    pytestmark = pytest.mark.skip(
        reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    )


@pytest.fixture
def demo(transactional_db):
    """The demo administration of `make run`, an API token of its owner, and Sanne's id."""
    call_command("seed_demo", stdout=io.StringIO())
    owner = User.objects.get(email="demo@example.com")
    administration = Administration.objects.get(name="Demo B.V.")
    _, secret = token_create(
        user=owner,
        actor=None,
        name="browser test",
        scopes=["time_entries"],
        administration=administration,
    )
    sanne = User.objects.get(email="sanne@example.com")
    return administration, sanne.pk, secret


@pytest.fixture
def page(live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": WIDTH, "height": 900},
            timezone_id="Europe/Amsterdam",
            locale="en-GB",
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.base = live_server.url
        yield page
        context.close()
        browser.close()


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def fits(page) -> None:
    """Nothing cut off at 1280 px: neither the page nor the results table scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    results = page.locator(".results")
    if results.count():
        assert results.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def api(page, secret: str, path: str):
    request = urllib.request.Request(
        f"{page.base}{path}", headers={"Authorization": f"Bearer {secret}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def pick(page, field: str, text: str) -> None:
    """Choose `text` in an autocomplete (select2) picker."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text.split()[0])
    page.locator(".select2-results__option", has_text=text).first.click()


def login(page) -> None:
    page.goto(f"{page.base}/admin/login/")
    page.fill("#id_username", "demo@example.com")
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("Uurwerk")


def seconds(entry: dict) -> int:
    start = datetime.fromisoformat(entry["started_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(entry["ended_at"].replace("Z", "+00:00"))
    return int((end - start).total_seconds()) - (entry.get("paused_duration") or 0)


def test_a_bookkeepers_monday(demo, page):
    # No ORM calls below: Playwright's sync API runs an event loop in this thread, where Django
    # refuses synchronous queries (and a connection opened there would stay open and keep
    # PostgreSQL from dropping the test database). The API and the pages tell us everything.
    administration, sanne_id, secret = demo
    login(page)
    shot(page, "01-index")
    assert page.locator("text=Groups").count() == 1  # a superuser still reaches them, last

    # An entry typed at 15:00 local is 14:00Z (a winter day).
    page.goto(f"{page.base}/admin/timeentries/timeentry/add/")
    expect(page.locator("#uurwerk-zone")).to_have_text("Times in Europe/Amsterdam")
    pick(page, "user", "Demo Owner")
    page.fill("#id_description", "Typed in the browser")
    page.fill("#id_started_at_0", "2026-01-15")
    page.fill("#id_started_at_1", "15:00")
    page.fill("#id_ended_at_0", "2026-01-15")
    page.fill("#id_ended_at_1", "16:30")
    page.fill("#id_paused_duration", "15")
    pick(page, "project", "Website redesign")
    shot(page, "02-add-entry")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    created_id = re.search(r"/timeentry/([0-9]+)/change/", page.url)[1]
    # The change page: the time as typed, its zone, its audit trail.
    expect(page.locator("#id_started_at_1")).to_have_value("15:00:00")
    expect(page.locator(".uurwerk-audit")).to_contain_text("time_entry_created")
    shot(page, "06-change-entry")
    body = api(page, secret, f"/api/v2/{administration.pk}/time_entries/{created_id}.json")
    assert body["started_at"] == "2026-01-15T14:00:00.000Z"
    assert body["ended_at"] == "2026-01-15T15:30:00.000Z"
    assert body["paused_duration"] == 900

    # A person's last week: the filters, the total against the API's.
    page.goto(f"{page.base}/admin/timeentries/timeentry/")
    page.locator("#changelist-filter a", has_text="Sanne de Vries").click()
    page.locator("#changelist-filter a", has_text="Last week").click()
    expect(page.locator("h2").first).to_contain_text("Times in Europe/Amsterdam")
    fits(page)
    shot(page, "03-entries-person-week")
    shown = int(
        page.locator("#uurwerk-totals td[data-seconds]").first.get_attribute("data-seconds")
    )
    today = datetime.now(UTC).astimezone(administration.tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    period = f"{monday:%Y%m%d}..{monday + timedelta(days=6):%Y%m%d}"
    listed = api(
        page,
        secret,
        f"/api/v2/{administration.pk}/time_entries.json?per_page=100"
        f"&filter=user_id:{sanne_id},period:{period}",
    )
    assert listed, "the demo has entries for Sanne last week"
    assert shown == sum(seconds(e) for e in listed)
    hours = page.locator("#uurwerk-totals td").first.inner_text()
    assert hours == f"{shown // 3600}:{shown % 3600 // 60:02d}"

    # Her timesheet of that week, from the list.
    page.locator(".object-tools a", has_text="Week timesheet").click()
    expect(page.locator("#timesheet")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(f"week {monday:%G-W%V}")
    expect(page.locator("#week-total")).to_have_text(hours)
    fits(page)
    shot(page, "04-timesheet")

    # The report, with its chart.
    page.goto(f"{page.base}/admin/timeentries/timeentry/")
    page.locator(".object-tools a", has_text="Report").click()
    page.select_option("select[name=period]", "prev_month")
    page.click("input[value=Show]")
    expect(page.locator("#report-chart svg")).to_be_visible()
    assert page.locator("#report-chart svg rect").count() > 3
    fits(page)
    shot(page, "05-report")

    # The report's CSV: the exporter of export_time_entries.
    with page.expect_download() as download:
        page.click("#report-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == list(CSV_COLUMNS) and len(rows) > 1

    # The filtered list's CSV.
    page.goto(f"{page.base}/admin/timeentries/timeentry/?user={sanne_id}&period={period}")
    with page.expect_download() as download:
        page.click("#uurwerk-export")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r[0] for r in rows[1:]) == sorted(str(e["id"]) for e in listed)

    # The audit log, each row in local time and linked.
    page.goto(f"{page.base}/admin/notes/event/")
    fits(page)
    expect(page.locator("#result_list")).to_contain_text("time_entry_created")
    shot(page, "07-events", full_page=False)  # the first screenful: 100 rows are long
