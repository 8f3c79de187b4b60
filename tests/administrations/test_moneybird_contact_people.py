"""Moneybird's contact people (/contacts/{contact_id}/contact_people) and the contact filter
(/contacts/filter) at the HTTP layer: every example of Moneybird's OpenAPI for these operations
(bodies asserted whole, with the values only this database can know filled in), their events,
the people inside their contact, tenant isolation and bad input; and contact people in the
admin, through the services."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from administrations import services
from administrations.models import Contact, ContactPerson
from notes.models import Event
from tests.factories import AdministrationFactory, TokenFactory, member
from tests.timeentries.moneybird_support import NOT_FOUND, ts, unprocessable

# The OpenAPI's examples, verbatim but for administration_id: ids are strings on the wire (the
# document's 123 is a test fixture's number).
CREATE_WITH_ALL_PARAMS = {
    "id": "496081402931971388",
    "contact_id": "496081402878493999",
    "administration_id": "123",
    "firstname": "John",
    "lastname": "Doe",
    "phone": "123456789",
    "email": "johndoe@moneybird.com",
    "department": "Sales",
    "created_at": "2026-08-21T13:48:34.543Z",
    "updated_at": "2026-08-21T13:48:34.543Z",
    "version": 1787320114,
}
CREATE_WITH_MINIMUM_PARAMS = {
    **CREATE_WITH_ALL_PARAMS,
    "phone": None,
    "email": None,
    "department": None,
}
RETURN_A_CONTACT_PERSON = {
    **CREATE_WITH_MINIMUM_PARAMS,
    "firstname": "John",
    "lastname": "Appleseed",
}
UPDATE_A_CONTACT_PERSON = {**CREATE_WITH_MINIMUM_PARAMS, "firstname": "John", "lastname": "Doe"}
WRONG_PARAMS = {
    "error": {"firstname": ["can't be blank"], "lastname": ["can't be blank"]},
    "details": {"firstname": [{"error": "blank"}], "lastname": [{"error": "blank"}]},
}
WRONG_CONTACT = {"error": {"contact": ["must exist"]}, "details": {"contact": [{"error": "blank"}]}}
PERSON_NOT_FOUND = {
    "error": "contact person not found",
    "symbolic": {"contact_person_id": "not_found"},
}


def stored(example: dict[str, Any], person: ContactPerson) -> dict[str, Any]:
    """The example with this database's ids, timestamps and version."""
    person = ContactPerson.objects.get(pk=person.pk)
    return {
        **example,
        "id": str(person.pk),
        "contact_id": str(person.contact_id),
        "administration_id": str(person.administration_id),
        "created_at": ts(person.created_at),
        "updated_at": ts(person.updated_at),
        "version": int(person.updated_at.timestamp()),
    }


@pytest.fixture
def contact(administration):
    return services.contact_create(
        administration=administration, actor=None, company_name="Foobar Holding B.V."
    )


@pytest.fixture
def appleseed(contact, owner):
    return services.contact_person_create(
        contact=contact, actor=owner, firstname="John", lastname="Appleseed"
    )


def people_url(contact, person=None) -> str:
    path = f"contacts/{contact.pk}/contact_people"
    return path if person is None else f"{path}/{person.pk if hasattr(person, 'pk') else person}"


def snapshot() -> tuple:
    return (
        sorted(ContactPerson.objects.values_list("pk", "firstname", "lastname", "updated_at")),
        sorted(Contact.objects.values_list("pk", "updated_at")),
        Event.objects.count(),
    )


# --- create -------------------------------------------------------------------------------------


def test_create_a_new_contact_person_with_all_params(api, contact):
    body = {
        "contact_person": {
            "firstname": "John",
            "lastname": "Doe",
            "phone": "123456789",
            "email": "johndoe@moneybird.com",
            "department": "Sales",
        }
    }
    response = api.post(f"{people_url(contact)}.json", body)
    assert response.status_code == 201, response.content
    person = ContactPerson.objects.get()
    assert response.json() == stored(CREATE_WITH_ALL_PARAMS, person)
    assert person.contact == contact and person.administration == contact.administration


def test_create_a_new_contact_person_with_minimum_params(api, contact):
    body = {"contact_person": {"firstname": "John", "lastname": "Doe"}}
    response = api.post(people_url(contact), body)
    assert response.status_code == 201, response.content
    assert response.json() == stored(CREATE_WITH_MINIMUM_PARAMS, ContactPerson.objects.get())


@pytest.mark.parametrize(
    "attributes",
    [{}, {"firstname": "", "lastname": "  "}, {"firstname": None, "lastname": None}],
)
def test_create_with_wrong_params_is_422(api, contact, attributes):
    before = snapshot()
    response = api.post(people_url(contact), {"contact_person": {"phone": "1", **attributes}})
    assert response.status_code == 422
    assert response.json() == WRONG_PARAMS
    assert snapshot() == before


@pytest.mark.parametrize("contact_id", ["34123123", "9999999999999999999", "0"])
def test_create_for_a_contact_that_does_not_exist_is_422(api, contact, contact_id):
    before = snapshot()
    body = {"contact_person": {"firstname": "John", "lastname": "Doe"}}
    response = api.post(f"contacts/{contact_id}/contact_people", body)
    assert response.status_code == 422
    assert response.json() == WRONG_CONTACT
    assert snapshot() == before


def test_create_for_another_administrations_contact_is_the_same_422(api, db):
    other = AdministrationFactory(name="Other")
    theirs = services.contact_create(administration=other, actor=None, company_name="Theirs")
    before = snapshot()
    body = {"contact_person": {"firstname": "John", "lastname": "Doe"}}
    response = api.post(f"contacts/{theirs.pk}/contact_people", body)
    assert (response.status_code, response.json()) == (422, WRONG_CONTACT)
    assert snapshot() == before


@pytest.mark.parametrize("body", [{}, {"contact_person": {}}, {"contact_person": "John"}, []])
def test_create_without_the_wrapper_is_400(api, contact, body):
    before = snapshot()
    response = api.post(people_url(contact), body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "param is missing or the value is empty: contact_person",
        "symbolic": {"contact_person": "missing"},
    }
    assert snapshot() == before


def test_create_with_a_bad_email_and_a_long_name_is_422(api, contact):
    body = {"contact_person": {"firstname": "J" * 256, "lastname": "Doe", "email": "nope"}}
    response = api.post(people_url(contact), body)
    assert response.status_code == 422
    assert response.json() == unprocessable(
        firstname=("too_long", "is too long (maximum is 255 characters)"),
        email=("invalid", "is invalid"),
    )
    assert not ContactPerson.objects.exists()


def test_create_ignores_attributes_it_does_not_know(api, contact):
    body = {"contact_person": {"firstname": "John", "lastname": "Doe", "id": "1", "shoe": 44}}
    response = api.post(people_url(contact), body)
    assert response.status_code == 201
    assert response.json()["id"] != "1"


# --- get, update, delete -----------------------------------------------------------------------


def test_return_a_contact_person(api, contact, appleseed):
    response = api.get(f"{people_url(contact, appleseed)}.json")
    assert response.status_code == 200
    assert response.json() == stored(RETURN_A_CONTACT_PERSON, appleseed)


@pytest.mark.parametrize("person_id", ["34123123", "9999999999999999999"])
def test_get_a_contact_person_that_does_not_exist_is_404(api, contact, appleseed, person_id):
    response = api.get(people_url(contact, person_id))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_person_is_not_found_under_another_contact(api, administration, appleseed):
    other = services.contact_create(administration=administration, actor=None, company_name="X")
    for method in ("get", "delete"):
        response = getattr(api, method)(people_url(other, appleseed))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = api.patch(people_url(other, appleseed), {"contact_person": {"firstname": "Y"}})
    assert (response.status_code, response.json()) == (404, PERSON_NOT_FOUND)
    assert ContactPerson.objects.get().firstname == "John"


def test_update_a_contact_person(api, contact, appleseed, owner):
    body = {"contact_person": {"firstname": "John", "lastname": "Doe"}}
    response = api.patch(f"{people_url(contact, appleseed)}.json", body)
    assert response.status_code == 200, response.content
    assert response.json() == stored(UPDATE_A_CONTACT_PERSON, appleseed)
    [event] = Event.objects.filter(action="contact_person_updated")
    assert (event.subject_type, event.entity_id) == ("Contact", contact.pk)
    assert (event.link_entity_type, event.link_entity_id) == ("ContactPerson", appleseed.pk)
    assert event.data == {"lastname": ["Appleseed", "Doe"]}
    assert event.user == owner
    # A GET right after answers the same bytes.
    assert api.get(people_url(contact, appleseed)).content == response.content


def test_update_changes_only_what_is_given(api, contact, appleseed):
    response = api.patch(people_url(contact, appleseed), {"contact_person": {"phone": "06 1"}})
    assert response.status_code == 200
    assert (response.json()["firstname"], response.json()["phone"]) == ("John", "06 1")
    # Unchanged attributes record nothing.
    events = Event.objects.filter(action="contact_person_updated").count()
    api.patch(people_url(contact, appleseed), {"contact_person": {"phone": "06 1"}})
    assert Event.objects.filter(action="contact_person_updated").count() == events


def test_update_with_wrong_params_is_422(api, contact, appleseed):
    before = snapshot()
    body = {"contact_person": {"firstname": "", "lastname": ""}}
    response = api.patch(people_url(contact, appleseed), body)
    assert (response.status_code, response.json()) == (422, WRONG_PARAMS)
    assert snapshot() == before


@pytest.mark.parametrize("person_id", ["34123123", "9999999999999999999"])
def test_update_a_contact_person_that_does_not_exist_is_404(api, contact, person_id):
    response = api.patch(people_url(contact, person_id), {"contact_person": {"firstname": "X"}})
    assert (response.status_code, response.json()) == (404, PERSON_NOT_FOUND)


def test_delete_a_contact_person(api, contact, appleseed, owner):
    response = api.delete(people_url(contact, appleseed))
    assert response.status_code == 204
    assert response.content == b""
    assert not ContactPerson.objects.exists()
    [event] = Event.objects.filter(action="contact_person_destroyed")
    assert (event.entity_id, event.link_entity_id, event.user) == (contact.pk, appleseed.pk, owner)
    assert event.data == {"firstname": "John", "lastname": "Appleseed"}
    response = api.delete(people_url(contact, appleseed))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_deleting_the_contact_deletes_its_people(api, contact, appleseed):
    assert api.delete(f"contacts/{contact.pk}").status_code == 204
    assert not ContactPerson.objects.exists()


def test_contact_people_need_a_contacts_scope(administration, owner, contact, appleseed):
    from tests.conftest import Api

    api = Api(administration, owner, TokenFactory(user=owner, scopes=["time_entries"]))
    before = snapshot()
    for method, body in (("get", None), ("patch", {"contact_person": {"firstname": "X"}})):
        response = getattr(api, method)(people_url(contact, appleseed), body)
        assert (response.status_code, response.json()) == (
            401,
            {"error": "No access to sales_invoices"},
        )
    assert snapshot() == before


# --- the people inside their contact -----------------------------------------------------------


def test_the_contact_renders_its_people_and_their_events(api, contact, appleseed, owner):
    second = services.contact_person_create(
        contact=contact, actor=owner, firstname="Jane", lastname="Roe", department="Sales"
    )
    body = api.get(f"contacts/{contact.pk}").json()
    assert body["contact_people"] == [
        stored(RETURN_A_CONTACT_PERSON, appleseed),
        stored(
            {
                **CREATE_WITH_MINIMUM_PARAMS,
                "firstname": "Jane",
                "lastname": "Roe",
                "department": "Sales",
            },
            second,
        ),
    ]
    actions = [(e["action"], e["link_entity_type"], e["link_entity_id"]) for e in body["events"]]
    assert actions == [
        ("contact_created", None, None),
        ("contact_person_created", "ContactPerson", str(appleseed.pk)),
        ("contact_person_created", "ContactPerson", str(second.pk)),
    ]
    # The list, the synchronization and the filter render them the same way.
    assert api.get("contacts").json()[0]["contact_people"] == body["contact_people"]
    synced = api.post("contacts/synchronization", {"ids": [str(contact.pk)]}).json()
    assert synced[0]["contact_people"] == body["contact_people"]
    assert api.get("contacts/filter").json()[0]["contact_people"] == body["contact_people"]


def test_a_change_to_a_person_is_a_new_version_of_its_contact(clock, api, contact, appleseed):
    version = api.get(f"contacts/{contact.pk}").json()["version"]
    clock.advance(timedelta(seconds=5))
    api.patch(people_url(contact, appleseed), {"contact_person": {"lastname": "Doe"}})
    assert api.get(f"contacts/{contact.pk}").json()["version"] > version


def test_a_contact_without_people_renders_an_empty_list(api, contact):
    assert api.get(f"contacts/{contact.pk}").json()["contact_people"] == []


def test_the_contact_search_finds_a_contacts_people(api, administration, contact, appleseed):
    services.contact_create(administration=administration, actor=None, company_name="Other")
    found = api.get("contacts", {"query": "appleseed"}).json()
    assert [c["id"] for c in found] == [str(contact.pk)]


# --- /contacts/filter ------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """A settable now() for the services' timestamps."""

    class Clock:
        now = datetime(2026, 8, 21, 13, 48, 35, tzinfo=UTC)

        def advance(self, delta: timedelta) -> None:
            self.now += delta

    value = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: value.now)
    return value


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()]


def test_returns_only_contacts_updated_after_given_datetime(api, administration, clock):
    early = services.contact_create(administration=administration, actor=None, lastname="foo")
    clock.advance(timedelta(seconds=10))
    late = services.contact_create(administration=administration, actor=None, lastname="bar")
    clock.advance(timedelta(seconds=10))
    services.contact_update(contact=early, actor=None, changes={"city": "Amsterdam"})
    response = api.get("contacts/filter", {"filter": "updated_after:2026-08-21 13:48:40 UTC"})
    assert ids(response) == [str(early.pk), str(late.pk)]
    response = api.get("contacts/filter", {"filter": "updated_after:2026-08-21 13:48:50 UTC"})
    assert ids(response) == [str(early.pk)]


def test_returns_all_contacts_created_after_given_datetime(api, administration, clock):
    before = services.contact_create(administration=administration, actor=None, lastname="a")
    clock.advance(timedelta(days=1))
    after = [
        services.contact_create(administration=administration, actor=None, lastname=name)
        for name in ("b", "c")
    ]
    response = api.get("contacts/filter.json", {"filter": "created_after:2026-08-21 13:48:35 UTC"})
    assert ids(response) == [str(c.pk) for c in after]
    # Exclusive, and an ISO 8601 time with an offset works too.
    response = api.get("contacts/filter", {"filter": "created_after:2026-08-21T15:48:34+02:00"})
    assert ids(response) == [str(c.pk) for c in (before, *after)]


def test_allows_filtering_by_firstname(api, administration):
    piet = services.contact_create(
        administration=administration, actor=None, company_name="Relation 1", firstname="Piet"
    )
    services.contact_create(administration=administration, actor=None, firstname="Pieter")
    assert ids(api.get("contacts/filter", {"filter": "first_name:piet"})) == [str(piet.pk)]
    body = api.get("contacts/filter", {"filter": "first_name:piet"}).json()
    assert body[0]["firstname"] == "Piet" and body[0]["contact_people"] == []


def test_filter_by_last_name_type_and_delivery_method(api, administration):
    company = services.contact_create(
        administration=administration, actor=None, company_name="Acme", lastname="Jansen"
    )
    person = services.contact_create(
        administration=administration,
        actor=None,
        firstname="Ann",
        lastname="jansen",
        delivery_method="Post",
    )
    both = sorted([str(company.pk), str(person.pk)])
    assert sorted(ids(api.get("contacts/filter", {"filter": "last_name:JANSEN"}))) == both
    assert ids(api.get("contacts/filter", {"filter": "contact_type:company"})) == [str(company.pk)]
    only_person = {"filter": "contact_type:private_individual"}
    assert ids(api.get("contacts/filter", only_person)) == [str(person.pk)]
    assert sorted(ids(api.get("contacts/filter", {"filter": "contact_type:all"}))) == both
    assert ids(api.get("contacts/filter", {"filter": "delivery_method:post"})) == [str(person.pk)]
    assert ids(api.get("contacts/filter", {"filter": "delivery_method:email"})) == [str(company.pk)]
    combined = {"filter": "last_name:jansen,contact_type:company"}
    assert ids(api.get("contacts/filter", combined)) == [str(company.pk)]
    assert ids(api.get("contacts/filter", {"filter": "trusted_type:trusted"})) == []
    assert sorted(ids(api.get("contacts/filter", {"filter": "trusted_type:not_trusted"}))) == both
    assert ids(api.get("contacts/filter", {"filter": "invoice_workflow_id:12"})) == []


def test_filter_with_query_archived_and_paging(api, administration):
    contacts = [
        services.contact_create(administration=administration, actor=None, company_name=name)
        for name in ("Alpha", "Beta", "Gamma")
    ]
    services.contact_archive(contact=contacts[0], actor=None)
    assert ids(api.get("contacts/filter")) == [str(c.pk) for c in contacts[1:]]
    every = {"include_archived": "true"}
    assert ids(api.get("contacts/filter", every)) == [str(c.pk) for c in contacts]
    assert ids(api.get("contacts/filter", {"query": "gamma"})) == [str(contacts[2].pk)]
    response = api.get("contacts/filter", {"per_page": 1, "page": 2})
    assert ids(response) == [str(contacts[2].pk)]
    assert "Link" in response


@pytest.mark.parametrize(
    "value",
    [
        "shoe_size:44",
        "created_after:yesterday",
        "contact_type:robot",
        "delivery_method:pigeon",
        "trusted_type:maybe",
        "invoice_workflow_id:abc",
        "first_name",
    ],
)
def test_a_bad_filter_is_400(api, value):
    response = api.get("contacts/filter", {"filter": value})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "symbolic"} and body["symbolic"] == {"filter": "invalid"}


def test_the_filter_never_shows_another_administrations_contacts(api, administration):
    mine = services.contact_create(administration=administration, actor=None, firstname="Piet")
    other = AdministrationFactory(name="Other")
    services.contact_create(administration=other, actor=None, firstname="Piet")
    assert ids(api.get("contacts/filter", {"filter": "first_name:piet"})) == [str(mine.pk)]


# --- the admin ------------------------------------------------------------------------------


PERSON_FORM = {"firstname": "Jo", "lastname": "Doe", "phone": "", "email": "", "department": ""}


def test_admin_add_change_delete_go_through_the_services(admin_client, admin_user, contact):
    base = "/admin/administrations/contactperson/"
    response = admin_client.post(f"{base}add/", {**PERSON_FORM, "contact": contact.pk})
    assert response.status_code == 302, response.content
    person = ContactPerson.objects.get()
    assert person.administration == contact.administration
    response = admin_client.post(f"{base}{person.pk}/change/", {**PERSON_FORM, "lastname": "Roe"})
    assert response.status_code == 302
    response = admin_client.post(f"{base}{person.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ContactPerson.objects.exists()
    actions = list(
        Event.objects.filter(link_entity_id=person.pk).order_by("id").values_list("action", "user")
    )
    assert actions == [
        ("contact_person_created", admin_user.pk),
        ("contact_person_updated", admin_user.pk),
        ("contact_person_destroyed", admin_user.pk),
    ]


def test_admin_errors_come_back_on_the_form(admin_client, contact):
    response = admin_client.post(
        "/admin/administrations/contactperson/add/",
        {**PERSON_FORM, "contact": contact.pk, "lastname": "", "email": "nope"},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "lastname" in form.errors and "email" in form.errors
    assert not ContactPerson.objects.exists()


def test_the_contacts_admin_page_shows_its_people(admin_client, contact, appleseed):
    response = admin_client.get(f"/admin/administrations/contact/{contact.pk}/change/")
    assert response.status_code == 200
    assert b"Appleseed" in response.content


def test_another_member_sees_the_people(api, administration, contact, appleseed):
    colleague = member(administration)
    from tests.conftest import Api

    other = Api(administration, colleague, TokenFactory(user=colleague))
    assert other.get(people_url(contact, appleseed)).status_code == 200
