"""The admin writes through the services: a staff edit is validated and audited like an API
edit. Also: every registered model's pages load."""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry

from administrations import services
from administrations.models import Administration, ApiToken, Contact, Membership, Project, User
from common.auth import hash_token
from config.apps import discover_admin
from notes.models import Event
from tests.factories import (
    AdministrationFactory,
    ContactFactory,
    NoteFactory,
    ProjectFactory,
    TimeEntryFactory,
    TokenFactory,
    member,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The admin finds its modules on first use (config/apps.py); this module reads its registry
# before any request, to parametrize over it.
discover_admin()
OUR_APPS = ("administrations", "notes", "timeentries")


def url(model, suffix: str = "") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {field: list(msgs) for field, msgs in form.errors.items()}


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action))


# --- every page loads -----------------------------------------------------------------------


def test_every_model_is_registered():
    ours = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours <= set(admin.site._registry)


@pytest.fixture
def one_of_each(administration, owner):
    contact = ContactFactory(administration=administration)
    project = ProjectFactory(administration=administration, contact_id=contact.pk)
    entry = TimeEntryFactory(
        administration=administration,
        user_id=owner.pk,
        contact_id=contact.pk,
        project_id=project.pk,
        started_at=T0,
    )
    NoteFactory(entity=entry, actor=owner)
    TokenFactory(user=owner)
    services.contact_person_create(contact=contact, actor=owner, firstname="Jo", lastname="Doe")


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label in OUR_APPS],
    ids=lambda m: m._meta.label,
)
def test_changelist_and_change_pages_load(admin_client, one_of_each, model):
    response = admin_client.get(url(model))
    assert response.status_code == 200
    obj = model.objects.first()
    assert obj is not None
    assert admin_client.get(url(model, f"{obj.pk}/change/")).status_code == 200
    model_admin = admin.site._registry[model]
    add = admin_client.get(url(model, "add/"))
    assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403)
    # Every search box works too.
    assert admin_client.get(url(model), {"q": "x"}).status_code == 200


# --- contacts -------------------------------------------------------------------------------


CONTACT_FORM = {
    "company_name": "Acme B.V.",
    "firstname": "",
    "lastname": "",
    "email": "",
    "phone": "",
    "address1": "",
    "address2": "",
    "zipcode": "",
    "city": "",
    "country": "NL",
    "customer_id": "",
}


def test_contact_add_change_delete_are_audited(admin_client, admin_user, administration):
    response = admin_client.post(
        url(Contact, "add/"), {**CONTACT_FORM, "administration": administration.pk}
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.customer_id == "1"  # the service numbers it
    [created] = events("contact_created")
    assert (created.user, created.subject_type, created.entity_id) == (
        admin_user,
        "Contact",
        contact.pk,
    )

    response = admin_client.post(
        url(Contact, f"{contact.pk}/change/"),
        {**CONTACT_FORM, "customer_id": "1", "city": "Gent"},
    )
    assert response.status_code == 302
    [changed] = events("contact_changed")
    assert (changed.user, changed.data) == (admin_user, {"city": ["", "Gent"]})

    response = admin_client.post(
        url(Contact, f"{contact.pk}/change/"),
        {**CONTACT_FORM, "customer_id": "1", "city": "Gent", "archived": "on"},
    )
    assert response.status_code == 302
    assert events("contact_archived")[0].data == {"archived": [False, True]}

    response = admin_client.post(url(Contact, f"{contact.pk}/delete/"), {"post": "yes"})
    assert response.status_code == 302
    assert not Contact.objects.exists()
    [destroyed] = events("contact_destroyed")
    assert (destroyed.user, destroyed.entity_id) == (admin_user, contact.pk)


def test_contact_errors_come_back_on_the_form(admin_client, administration):
    ContactFactory(administration=administration, customer_id="7")
    add = url(Contact, "add/")
    nameless = {**CONTACT_FORM, "company_name": "", "administration": administration.pk}
    assert errors(admin_client.post(add, nameless)) == {
        "__all__": ["Company name or first/last name required"]
    }
    taken = {**CONTACT_FORM, "customer_id": "7", "administration": administration.pk}
    assert errors(admin_client.post(add, taken)) == {"customer_id": ["has already been taken"]}
    assert Contact.objects.count() == 1
    assert not events("contact_created")[1:]


def test_bulk_contact_delete_goes_through_the_service(admin_client, admin_user, administration):
    contacts = [ContactFactory(administration=administration) for _ in range(3)]
    response = admin_client.post(
        url(Contact),
        {"action": "delete_selected", "_selected_action": [c.pk for c in contacts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Contact.objects.exists()
    destroyed = events("contact_destroyed")
    assert sorted(e.entity_id for e in destroyed) == sorted(c.pk for c in contacts)
    assert {e.user for e in destroyed} == {admin_user}


# --- projects -------------------------------------------------------------------------------


def project_form(**values):
    return {"name": "", "state": "active", "contact": "", "budget": "", "hourly_rate": "", **values}


def test_project_add_change_delete_are_audited(admin_client, admin_user, administration):
    administration.currency = "USD"
    administration.save()
    contact = ContactFactory(administration=administration)
    response = admin_client.post(
        url(Project, "add/"),
        project_form(administration=administration.pk, name="Website", budget="10"),
    )
    assert response.status_code == 302
    project = Project.objects.get()
    assert (project.name, project.budget, project.currency) == ("Website", 10, "USD")
    [created] = events("project_created")
    assert (created.user, created.entity_id) == (admin_user, project.pk)

    response = admin_client.post(
        url(Project, f"{project.pk}/change/"),
        project_form(name="Web shop", budget="10", contact=contact.pk, currency="USD"),
    )
    assert response.status_code == 302
    [updated] = events("project_updated")
    assert updated.user == admin_user
    assert updated.data == {"name": ["Website", "Web shop"], "contact_id": [None, str(contact.pk)]}

    response = admin_client.post(url(Project, f"{project.pk}/delete/"), {"post": "yes"})
    assert response.status_code == 302
    assert not Project.objects.exists()
    [destroyed] = events("project_destroyed")
    assert (destroyed.user, destroyed.data) == (admin_user, {"name": "Web shop"})


def test_project_errors_come_back_on_the_form(admin_client, administration):
    ProjectFactory(administration=administration, name="Taken")
    foreign = ContactFactory(administration=AdministrationFactory())
    add = url(Project, "add/")
    base = project_form(administration=administration.pk)
    assert errors(admin_client.post(add, {**base, "name": "taken"})) == {
        "name": ["has already been taken"]
    }
    assert errors(admin_client.post(add, {**base, "name": "New", "contact": foreign.pk})) == {
        "contact": ["is not in this administration"]
    }
    assert Project.objects.count() == 1


# --- administrations, members, users --------------------------------------------------------


# The change page carries the (read-only) members inline, whose management form is posted too.
INLINE_MANAGEMENT = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}


def test_administration_add_and_change_are_audited(admin_client, admin_user):
    form = {"name": "Beta", "currency": "EUR", "time_zone": "Europe/Brussels", "language": "nl"}
    response = admin_client.post(url(Administration, "add/"), {**form, "country": "BE"})
    assert response.status_code == 302
    beta = Administration.objects.get(name="Beta")
    [created] = events("administration_added")
    assert (created.user, created.administration) == (admin_user, beta)

    response = admin_client.post(
        url(Administration, f"{beta.pk}/change/"),
        {
            **form,
            **INLINE_MANAGEMENT,
            "country": "BE",
            "name": "Gamma",
            "period_locked_until": "2026-01-31",
        },
    )
    assert response.status_code == 302
    [updated] = events("administration_changed")
    assert updated.data == {
        "name": ["Beta", "Gamma"],
        "period_locked_until": [None, "2026-01-31"],
    }
    bad = admin_client.post(url(Administration, "add/"), {**form, "time_zone": "Mars/Olympus"})
    assert "time_zone" in errors(bad)


def test_membership_add_change_delete_are_audited(admin_client, admin_user, administration):
    person = member(AdministrationFactory())
    response = admin_client.post(
        url(Membership, "add/"),
        {"administration": administration.pk, "user": person.pk, "role": "member"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(administration=administration, user=person)
    assert events("user_invited")[-1].user == admin_user

    response = admin_client.post(url(Membership, f"{membership.pk}/change/"), {"role": "admin"})
    assert response.status_code == 302
    [changed] = events("user_role_changed")
    assert (changed.user, changed.data) == (admin_user, {"role": ["member", "admin"]})

    response = admin_client.post(url(Membership, f"{membership.pk}/delete/"), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    [removed] = events("user_removed")
    assert (removed.user, removed.entity_id) == (admin_user, person.pk)


def test_user_add_and_change_go_through_the_services(admin_client, admin_user, db):
    add = url(User, "add/")
    form = {"email": "New@Example.com", "name": "New", "is_active": "on"}
    assert errors(admin_client.post(add, {**form, "new_password": "short"})) == {
        "new_password": ["This password is too short. It must contain at least 8 characters."]
    }
    assert errors(admin_client.post(add, {**form, "email": "ADMIN@example.com"})) == {
        "email": ["has already been taken"]
    }
    response = admin_client.post(add, {**form, "new_password": "long enough", "is_staff": "on"})
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.check_password("long enough")
    assert user.is_staff
    [created] = events("user_updated")
    assert created.data == {"is_staff": [False, True], "password": ["[FILTERED]"] * 2}

    response = admin_client.post(
        url(User, f"{user.pk}/change/"), {"name": "Renamed", "is_staff": "on"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.is_active, user.check_password("long enough")) == (
        "Renamed",
        False,
        True,
    )
    changed = events("user_updated")[1]
    assert (changed.user, changed.administration, changed.data) == (
        admin_user,
        None,
        {"name": ["New", "Renamed"], "is_active": [True, False]},
    )
    assert admin_client.post(url(User, f"{user.pk}/delete/"), {"post": "yes"}).status_code == 403


# --- API tokens -----------------------------------------------------------------------------


def test_token_add_shows_the_secret_once(admin_client, admin_user, administration, owner):
    response = admin_client.post(
        url(ApiToken, "add/"),
        {"user": owner.pk, "administration": "", "name": "CI", "scopes": ["time_entries"]},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="CI")
    [secret] = [
        str(m).rsplit(" ", 1)[1] for m in response.context["messages"] if "secret" in str(m)
    ]
    assert hash_token(secret) == token.key_hash
    assert secret not in admin_client.get(url(ApiToken, f"{token.pk}/change/")).content.decode()
    [created] = events("access_token_created")
    assert (created.user, created.link_entity_id) == (admin_user, token.pk)


def test_token_scopes_are_checked(admin_client, owner):
    foreign = AdministrationFactory()
    response = admin_client.post(
        url(ApiToken, "add/"),
        {"user": owner.pk, "administration": foreign.pk, "scopes": ["time_entries"]},
    )
    assert errors(response) == {
        "administration": ["the user is not a member of this administration"]
    }


def test_tokens_are_view_only_except_revoking(admin_client, admin_user, owner):
    token = TokenFactory(user=owner)
    change = url(ApiToken, f"{token.pk}/change/")
    page = admin_client.get(change).content.decode()
    assert "key_hash" not in page
    assert token.key_hash not in page
    assert admin_client.post(change, {"name": "renamed"}).status_code == 403
    assert admin_client.post(url(ApiToken, f"{token.pk}/delete/")).status_code == 403

    response = admin_client.post(
        url(ApiToken), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    [revoked] = events("access_token_revoked")
    assert revoked.user == admin_user


def test_no_admin_write_bypasses_the_services(admin_client, administration):
    """Deleting tenants and people has no service, so the admin does not offer it."""
    assert admin_client.post(url(Administration, f"{administration.pk}/delete/")).status_code == 403
    assert not LogEntry.objects.exists()
