"""Fill the database with a demo administration and print a token and a curl line to try it.

`make run` calls this with --if-empty on every start, so that path must always end with a
working token and curl line when the demo owner exists, and must never add data twice."""

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from administrations.management.base import service_errors
from administrations.models import Administration, Contact, Project, User
from administrations.selectors import administrations_for_user
from administrations.services import (
    administration_create,
    contact_create,
    member_add,
    project_create,
    project_update,
    token_create,
    user_update,
)
from notes.services import note_create
from timeentries.services import time_entry_create

DEMO_NAME = "Demo B.V."
OWNER = {"email": "demo@example.com", "name": "Demo Owner", "password": "demo"}
MEMBERS = (
    {"email": "sanne@example.com", "name": "Sanne de Vries", "role": "admin"},
    {"email": "daan@example.com", "name": "Daan Bakker", "role": "member"},
)
TOKEN_SCOPES = ("time_entries", "settings", "sales_invoices")
SEED = 20240601
WEEKS = 4

CONTACTS: dict[str, dict[str, str]] = {
    "acme": {
        "company_name": "Acme Webdesign B.V.",
        "email": "info@acme.example",
        "address1": "Damrak 1",
        "zipcode": "1012 LG",
        "city": "Amsterdam",
    },
    "mueller": {
        "company_name": "Müller & Søn GmbH",
        "firstname": "Jürgen",
        "lastname": "Müller",
        "email": "j.mueller@mueller-soen.example",
        "address1": "Hohe Straße 12",
        "zipcode": "50667",
        "city": "Köln",
        "country": "DE",
    },
    "gemeente": {
        "company_name": "Gemeente Utrecht",
        "email": "inkoop@utrecht.example",
        "city": "Utrecht",
    },
    "anouk": {
        "firstname": "Anouk",
        "lastname": "Jansen",
        "email": "anouk@jansen.example",
        "phone": "+31 6 12345678",
        "city": "Haarlem",
    },
}

# key: (project name, contact key, budget in hours, hourly rate); None is work without a project.
PROJECTS: dict[str, tuple[str, str | None, int | None, str | None]] = {
    "website": ("Website redesign", "acme", 120, "95.00"),
    "webshop": ("Webshop onderhoud", "mueller", None, "85.00"),
    "internal": ("Interne uren", None, None, None),
    "migration": ("Migratie zaaksysteem", "gemeente", 80, "110.00"),  # archived after week 1
}
TASKS: dict[str | None, tuple[str, ...]] = {
    "website": (
        "Wireframes homepage",
        "Ontwerp productpagina",
        "Frontend: navigatie en menu",
        "Feedbackronde verwerkt",
        "Overleg huisstijl met klant",
    ),
    "webshop": (
        "Beveiligingsupdates geïnstalleerd",
        "Koppeling betaalprovider",
        "Bug: verzendkosten naar Österreich",
        "Productimport bijgewerkt",
    ),
    "internal": ("Administratie", "Teamoverleg", "Kennissessie", "Offerte geschreven"),
    "migration": ("Analyse oud zaaksysteem", "Migratiescript", "Testmigratie en controle"),
    None: ("Adviesgesprek", "Telefonisch overleg", "Rapportage opgesteld"),
}
TASK_WEIGHTS = {"website": 5, "webshop": 3, "internal": 2, "migration": 3, None: 1}
NOTES = (
    "Klant akkoord per mail.",
    "Nog niet factureren: wacht op oplevering.",
    "Inclusief reistijd.",
    "Zie ticket #4821.",
)


class Command(BaseCommand):
    help = "Create a demo administration with data; print its id, a token and a curl line."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only when there is no administration yet; otherwise just make a fresh "
            "token for the demo owner",
        )
        parser.add_argument("--port", default=8000, help="port in the printed curl line")

    def handle(self, *args, if_empty: bool, port: Any, **options):
        port = _port(port)
        if if_empty and Administration.objects.exists():
            administration = _demo_administration()
            if administration is None:
                self.stdout.write(
                    "Administrations already exist and none has the demo owner "
                    f"{OWNER['email']}: no demo data added, no token made."
                )
                return
            self.stdout.write(f'Demo data already present in "{administration.name}".')
        else:
            with service_errors(), transaction.atomic():
                administration = seed(today=timezone.now())
            counts = ", ".join(
                f"{getattr(administration, name).count()} {name.replace('_', ' ')}"
                for name in ("memberships", "contacts", "projects", "time_entries")
            )
            self.stdout.write(f'Created "{administration.name}": {counts}.')
        owner = User.objects.get(email=OWNER["email"])
        with service_errors():
            _, secret = token_create(
                user=owner, scopes=TOKEN_SCOPES, name="seed_demo", administration=administration
            )
        url = f"http://127.0.0.1:{port}/api/v2/{administration.pk}/time_entries.json"
        self.stdout.write(f"Administration id: {administration.pk}")
        self.stdout.write(f"API token ({OWNER['email']}): {secret}")
        self.stdout.write(f'curl -H "Authorization: Bearer {secret}" {url}')
        self.stdout.write(
            f"Admin: http://127.0.0.1:{port}/admin/ ({OWNER['email']} / {OWNER['password']})"
        )


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise CommandError(f"port: {value!r} is not a number") from None
    if not 0 < port < 65536:
        raise CommandError(f"port: {port} is not between 1 and 65535")
    return port


def _demo_administration() -> Administration | None:
    """The administration to print a token for: the demo owner's "Demo B.V.", else any of
    theirs; None when there is no demo owner or they belong nowhere."""
    owner = User.objects.filter(email=OWNER["email"]).first()
    if owner is None:
        return None
    theirs = administrations_for_user(user=owner).order_by("id")
    return theirs.filter(name=DEMO_NAME).first() or theirs.first()


def seed(*, today: datetime) -> Administration:
    """Build the demo administration through the services. `today` is an aware datetime: the
    entries cover the WEEKS weeks before it (weekdays), plus a timer the owner started today.
    The same seed gives the same entries relative to `today`."""
    rng = random.Random(SEED)
    administration = administration_create(
        name=DEMO_NAME, currency="EUR", time_zone="Europe/Amsterdam"
    )
    owner = member_add(administration=administration, actor=None, role="owner", **OWNER).user
    # A local demo: let its owner into the Django admin too.
    user_update(user=owner, actor=None, changes={"is_staff": True, "is_superuser": True})
    people = [owner] + [
        member_add(administration=administration, actor=owner, **m).user for m in MEMBERS
    ]
    contacts: dict[str, Contact] = {
        key: contact_create(administration=administration, actor=owner, **fields)
        for key, fields in CONTACTS.items()
    }
    projects: dict[str, Project] = {}
    for key, (name, contact_key, budget, rate) in PROJECTS.items():
        projects[key] = project_create(
            administration=administration,
            actor=owner,
            name=name,
            contact_id=contacts[contact_key].pk if contact_key else None,
            budget=budget,
            hourly_rate=rate,
        )

    tz = administration.tz
    local_today = today.astimezone(tz).date()
    days = [local_today - timedelta(days=n) for n in range(WEEKS * 7, 0, -1)]
    workdays = [d for d in days if d.weekday() < 5]
    for index, day in enumerate(workdays):
        # The migration project ran in the first week only; it is archived afterwards.
        keys = [k for k in TASK_WEIGHTS if k != "migration" or index < 5]
        for person in people:
            _seed_day(rng, administration, person, day, keys, projects, contacts["anouk"], tz=tz)

    running = time_entry_create(
        administration=administration,
        actor=owner,
        started_at=today - timedelta(hours=1, minutes=5),
        description="Ontwerp contactformulier",
        project_id=projects["website"].pk,
        contact_id=projects["website"].contact_id,
    )
    note_create(
        administration=administration, actor=owner, entity=running, note="Na de lunch verder."
    )
    project_update(project=projects["migration"], actor=owner, changes={"state": "archived"})
    note_create(
        administration=administration,
        actor=owner,
        entity=contacts["gemeente"],
        note="Eindfactuur migratie versturen.",
        assignee_id=people[1].pk,
    )
    return administration


def _seed_day(
    rng: random.Random,
    administration: Administration,
    person: User,
    day: date,
    keys: list[str | None],
    projects: dict[str, Project],
    person_contact: Contact,
    *,
    tz,
) -> None:
    """Two to four blocks of work between about 9:00 and 18:00."""
    start = datetime.combine(day, time(9), tzinfo=tz) + timedelta(minutes=5 * rng.randint(0, 8))
    end_of_day = datetime.combine(day, time(18), tzinfo=tz)
    for _ in range(rng.randint(2, 4)):
        minutes = 15 * rng.randint(3, 14)
        ended = start + timedelta(minutes=minutes)
        if ended > end_of_day:
            break
        key = rng.choices(keys, weights=[TASK_WEIGHTS[k] for k in keys])[0]
        project = projects[key] if key else None
        contact_id = project.contact_id if project else person_contact.pk
        entry = time_entry_create(
            administration=administration,
            actor=person,
            started_at=start,
            ended_at=ended,
            description=rng.choice(TASKS[key]),
            project_id=project.pk if project else None,
            contact_id=contact_id,
            billable=key != "internal" and rng.random() < 0.9,
            paused_duration=15 * 60 if minutes >= 120 and rng.random() < 0.4 else 0,
        )
        if rng.random() < 0.12:
            note_create(
                administration=administration, actor=person, entity=entry, note=rng.choice(NOTES)
            )
        start = ended + timedelta(minutes=15 * rng.randint(0, 2))
