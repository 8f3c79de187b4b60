"""The Moneybird contacts API at the HTTP layer: every example Moneybird's OpenAPI gives for the
operations served (bodies asserted whole), search, archiving, synchronization, notes, events,
scopes, tenant isolation, bad input and the list's query count.

Where a body differs from the OpenAPI's example on purpose, the test says so: contacts made
through the API have "" (not null) for text they were not given, as the OpenAPI's own
CreateANewContact example shows; custom fields and workflows do not exist here. Contact people
have their own module (test_moneybird_contact_people.py).
"""

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from administrations import services
from administrations.models import Contact
from notes.models import Event, Note
from tests.factories import (
    AdministrationFactory,
    NoteFactory,
    ProjectFactory,
    TokenFactory,
    member,
)
from tests.timeentries.moneybird_support import (
    EVENT_KEYS,
    NOT_FOUND,
    NOTE_KEYS,
    call,
    expected_event,
    make_entry,
    not_found,
    ts,
    unprocessable,
)

# The OpenAPI's contact examples were recorded at about this instant.
NOW = datetime(2026, 8, 21, 13, 48, 37, 645000, tzinfo=UTC)
SCOPES = ("estimates", "sales_invoices", "documents", "bank", "settings")
NO_ACCESS = {"error": "No access to sales_invoices"}
CONTACT_REQUIRED = {"error": "Contact is required", "symbolic": {"contact": "required"}}
NAME_REQUIRED = {
    "error": {
        "firstname": ["is required"],
        "lastname": ["is required"],
        "company_name": ["is required"],
    },
    "details": {
        "firstname": [{"error": "is required"}],
        "lastname": [{"error": "is required"}],
        "company_name": [{"error": "is required"}],
    },
}

# The OpenAPI's CreateANewContact response, verbatim: every other example is this one with the
# values that example differs in.
CREATE_A_NEW_CONTACT: dict[str, Any] = {
    "id": "496081410950432183",
    "administration_id": 123,
    "company_name": "Test B.V.",
    "firstname": "",
    "lastname": "",
    "address1": "",
    "address2": "",
    "zipcode": "",
    "city": "",
    "country": "NL",
    "phone": "",
    "delivery_method": "Email",
    "customer_id": "3",
    "tax_number": "",
    "chamber_of_commerce": "",
    "bank_account": "",
    "is_trusted": False,
    "max_transfer_amount": None,
    "attention": "",
    "email": "",
    "email_ubl": True,
    "send_invoices_to_attention": "",
    "send_invoices_to_email": "",
    "send_estimates_to_attention": "",
    "send_estimates_to_email": "",
    "direct_debit": False,
    "sepa_active": False,
    "sepa_iban": "",
    "sepa_iban_account_name": "",
    "sepa_bic": "",
    "sepa_mandate_id": "",
    "sepa_mandate_date": None,
    "sepa_sequence_type": "RCUR",
    "credit_card_number": "",
    "credit_card_reference": "",
    "credit_card_type": None,
    "tax_number_validated_at": None,
    "tax_number_valid": None,
    "invoice_workflow_id": None,
    "estimate_workflow_id": None,
    "si_identifier": "",
    "si_identifier_type": None,
    "moneybird_payments_mandate": False,
    "created_at": "2026-08-21T13:48:42.191Z",
    "updated_at": "2026-08-21T13:48:42.191Z",
    "version": 1787320122,
    "sales_invoices_url": "https://moneybird.dev/123/sales_invoices/89b7cbb044e26a3dedcf934e11b52a281b6b29ee7c007308995d351b78c93bbb/all",
    "notes": [],
    "custom_fields": [],
    "contact_people": [],
    "archived": False,
    "events": [
        {
            "administration_id": 123,
            "user_id": "496081346724103269",
            "action": "contact_created",
            "link_entity_id": None,
            "link_entity_type": None,
            "data": {},
            "created_at": "2026-08-21T13:48:42.195Z",
            "updated_at": "2026-08-21T13:48:42.195Z",
        }
    ],
}
CONTACT_KEYS = list(CREATE_A_NEW_CONTACT)

# The attributes of the OpenAPI's fixture contacts, as the examples show them.
APPLESEED = {
    "company_name": "Foobar Holding B.V.",
    "lastname": "Appleseed",
    "address1": "Hoofdstraat 12",
    "zipcode": "1234 AB",
    "city": "Amsterdam",
    "customer_id": "1",
    "email": "info@example.com",
    "send_invoices_to_email": "info@example.com",
    "send_estimates_to_email": "info@example.com",
}
SEPA_CONTACT = {
    "company_name": "Foobar Holding B.V.",
    "address1": "1 Infinite Loop",
    "zipcode": "123456",
    "city": "Redmond",
    "customer_id": "2",
    "email": "info@example.com",
    "send_invoices_to_email": "info@example.com",
    "send_estimates_to_email": "info@example.com",
    "sepa_active": True,
    "sepa_iban": "NL50TEST0166567191",
    "sepa_iban_account_name": "Foobar Holding B.V.",
    "sepa_bic": "RABONL2U",
    "sepa_mandate_id": "MAN12313",
}


def example(**values: Any) -> dict[str, Any]:
    """An OpenAPI example body: CreateANewContact's with `values` (attributes as rendered)."""
    return {**CREATE_A_NEW_CONTACT, **values}


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """clock.set(instant) freezes "now" for views and services; clock.tick(seconds) moves it."""
    state = SimpleNamespace(now=NOW)

    def set_now(instant: datetime) -> None:
        state.now = instant

    def tick(seconds: float) -> None:
        state.now += timedelta(seconds=seconds)

    monkeypatch.setattr(timezone, "now", lambda: state.now)
    return SimpleNamespace(set=set_now, tick=tick)


@pytest.fixture(autouse=True)
def frozen(clock):
    return clock


def make_contact(administration, actor, **fields) -> Contact:
    """A contact made through the service, as `actor`."""
    if "sepa_mandate_date" in fields and isinstance(fields["sepa_mandate_date"], str):
        fields["sepa_mandate_date"] = datetime.fromisoformat(fields["sepa_mandate_date"]).date()
    return services.contact_create(administration=administration, actor=actor, **fields)


@pytest.fixture
def appleseed(administration, owner):
    return make_contact(administration, owner, **APPLESEED)


@pytest.fixture
def colleague(administration):
    return member(administration, name="Edwin Vlieg")


@pytest.fixture
def foreign(db):
    """Another administration with its own owner, a contact (customer id F-1) and its note."""
    administration = AdministrationFactory(name="Other")
    owner = member(administration, role="owner", name="Other owner")
    contact = make_contact(administration, owner, company_name="Foreign B.V.", customer_id="F-1")
    note = NoteFactory(entity=contact, actor=owner, note="Foreign note")
    return SimpleNamespace(administration=administration, owner=owner, contact=contact, note=note)


def contact_events(contact) -> list[dict[str, Any]]:
    """The contact's events as the API must render them (Moneybird nests a change's diff)."""
    events = []
    for event in Event.objects.filter(subject_type="Contact", entity_id=contact.pk).order_by("id"):
        rendered = expected_event(event)
        if event.action == "contact_changed":
            rendered["data"] = {"changes": event.data}
        events.append(rendered)
    return events


def url_pattern(contact) -> re.Pattern:
    return re.compile(
        rf"^http://testserver/{contact.administration_id}/sales_invoices/[a-f0-9]{{64}}/all$"
    )


def stored(body: dict[str, Any], contact, **extra: Any) -> dict[str, Any]:
    """An example body with the values only this database can know: ids, timestamps, version,
    the invoices link, events and notes."""
    contact = Contact.objects.get(pk=contact.pk)
    url = body["sales_invoices_url"]
    assert url_pattern(contact).match(url), url
    return {
        **body,
        "id": str(contact.pk),
        "administration_id": str(contact.administration_id),
        "created_at": ts(contact.created_at),
        "updated_at": ts(contact.updated_at),
        "version": int(contact.updated_at.timestamp()),
        "sales_invoices_url": url,
        "events": contact_events(contact),
        **extra,
    }


def assert_matches(response_body: dict[str, Any], expected: dict[str, Any], contact) -> None:
    """`response_body` is `expected` (an OpenAPI example) but for the stored values, and it has
    exactly the example's keys, in its order."""
    assert list(response_body) == CONTACT_KEYS
    url = response_body["sales_invoices_url"]
    assert response_body == stored({**expected, "sales_invoices_url": url}, contact)


def event_summary(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e["action"], e["data"]) for e in body["events"]]


def snapshot():
    """Everything a write could touch."""
    return (
        sorted(Contact.objects.values_list("pk", "company_name", "city", "archived", "updated_at")),
        sorted(Note.objects.values_list("pk", "note", "entity_id")),
        Event.objects.count(),
    )


# --- GET /contacts/{id} -------------------------------------------------------------------------


def test_get_a_contact_return_a_contact(api, appleseed):
    """ReturnAContact (the fixture's null firstname is "" here: see the module docstring)."""
    response = api.get(f"contacts/{appleseed.pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_matches(body, example(**APPLESEED), appleseed)
    assert event_summary(body) == [("contact_created", {})]
    assert body["events"][0]["user_id"] == str(api.user.pk)
    assert body["version"] == 1787320117
    assert body["created_at"] == body["updated_at"] == "2026-08-21T13:48:37.645Z"


def test_get_returns_sepa_iban_as_bank_account(api, administration, owner):
    """ReturnsSepaIbanAsBankAccount: bank_account shows the SEPA IBAN."""
    contact = make_contact(administration, owner, **APPLESEED, sepa_iban="NL50TEST0166567191")
    body = api.get(f"contacts/{contact.pk}").json()
    assert_matches(
        body,
        example(**APPLESEED, bank_account="NL50TEST0166567191", sepa_iban="NL50TEST0166567191"),
        contact,
    )


def test_bank_account_without_sepa_iban_is_the_bank_account(api, administration, owner):
    contact = make_contact(administration, owner, company_name="X", bank_account="DE123")
    body = api.get(f"contacts/{contact.pk}").json()
    assert (body["bank_account"], body["sepa_iban"]) == ("DE123", "")


@pytest.mark.parametrize("contact_id", ["34123123", "9999999999999999999"])
def test_get_unknown_contact_is_404(api, contact_id):
    """Returns404WhenContactDoesNotExist."""
    response = api.get(f"contacts/{contact_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


def test_get_an_archived_contact_needs_include_archived(api, appleseed, owner):
    services.contact_archive(contact=appleseed, actor=owner)
    assert api.get(f"contacts/{appleseed.pk}").status_code == 404
    assert api.get(f"contacts/{appleseed.pk}", {"include_archived": "false"}).status_code == 404
    for flag in ("true", "1"):
        response = api.get(f"contacts/{appleseed.pk}", {"include_archived": flag})
        assert response.status_code == 200
        assert response.json()["archived"] is True


def test_sales_invoices_url_is_stable_and_per_contact(api, administration, owner, appleseed):
    other = make_contact(administration, owner, company_name="Other")
    first = api.get(f"contacts/{appleseed.pk}").json()["sales_invoices_url"]
    assert api.get(f"contacts/{appleseed.pk}").json()["sales_invoices_url"] == first
    assert api.get(f"contacts/{other.pk}").json()["sales_invoices_url"] != first


# --- GET /contacts/customer_id/{customer_id} ----------------------------------------------------


def test_get_by_customer_id_return_a_contact(api, appleseed):
    """ReturnAContact, through the customer id."""
    response = api.get("contacts/customer_id/1.json")
    assert response.status_code == 200
    assert_matches(response.json(), example(**APPLESEED), appleseed)


def test_get_by_a_free_text_customer_id(api, administration, owner):
    contact = make_contact(
        administration, owner, company_name="Relation 1", customer_id="customer-2"
    )
    response = api.get("contacts/customer_id/customer-2")
    assert response.status_code == 200
    assert response.json()["id"] == str(contact.pk)


@pytest.mark.parametrize("customer_id", ["2", "34123123", "customer-9"])
def test_get_by_unknown_customer_id_is_404(api, appleseed, customer_id):
    """Returns404WhenContactDoesNotExist (customer id)."""
    response = api.get(f"contacts/customer_id/{customer_id}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "record not found",
        "symbolic": {"customer_id": "not_found"},
    }


def test_get_by_customer_id_of_an_archived_contact(api, appleseed, owner):
    services.contact_archive(contact=appleseed, actor=owner)
    assert api.get("contacts/customer_id/1").status_code == 404
    response = api.get("contacts/customer_id/1", {"include_archived": "true"})
    assert response.status_code == 200


# --- POST /contacts -----------------------------------------------------------------------------


@pytest.fixture
def two_earlier(administration, owner):
    """Customer ids 1 and 2 are taken, as in the OpenAPI's create examples."""
    make_contact(administration, owner, company_name="First")
    make_contact(administration, owner, company_name="Second")


def created(response) -> Contact:
    assert response.status_code == 201, response.content
    return Contact.objects.get(pk=int(response.json()["id"]))


def test_create_a_new_contact(api, two_earlier):
    """CreateANewContact."""
    response = api.post("contacts.json", {"contact": {"company_name": "Test B.V."}})
    contact = created(response)
    assert_matches(response.json(), example(), contact)
    assert event_summary(response.json()) == [("contact_created", {})]
    assert response.json()["version"] == 1787320117


def test_create_a_new_contact_with_given_si_identifier(api, two_earlier):
    """CreateANewContactWithGivenSiIdentifier."""
    response = api.post(
        "contacts",
        {
            "contact": {
                "company_name": "Test B.V.",
                "si_identifier": "1234567",
                "si_identifier_type": "NL:KVK",
            }
        },
    )
    contact = created(response)
    assert_matches(
        response.json(), example(si_identifier="1234567", si_identifier_type="NL:KVK"), contact
    )


def test_create_a_new_contact_with_mandate_date_in_timezone_gap(api, clock, two_earlier):
    """CreateANewContactWithMandateDateInTimezoneGap: at 01:30 on 1 July in Amsterdam (still 30
    June in UTC) a mandate of 30 June is in the past. Moneybird also derives the BIC from a Dutch
    IBAN ("ABNANL2A"); Uurwerk does not, so sepa_bic stays empty."""
    clock.set(datetime(2017, 6, 30, 23, 30, 0, 13000, tzinfo=UTC))
    response = api.post(
        "contacts",
        {
            "contact": {
                "company_name": "Test B.V.",
                "sepa_active": True,
                "sepa_iban": "NL91ABNA0417164300",
                "sepa_iban_account_name": "Foo Bar",
                "sepa_mandate_date": "2017-6-30",
                "sepa_mandate_id": "NL123214",
            }
        },
    )
    contact = created(response)
    body = response.json()
    assert_matches(
        body,
        example(
            bank_account="NL91ABNA0417164300",
            sepa_active=True,
            sepa_iban="NL91ABNA0417164300",
            sepa_iban_account_name="Foo Bar",
            sepa_bic="",  # Moneybird: "ABNANL2A"
            sepa_mandate_id="NL123214",
            sepa_mandate_date="2017-06-30",
        ),
        contact,
    )
    assert (body["created_at"], body["version"]) == ("2017-06-30T23:30:00.013Z", 1498865400)


def test_create_with_mandate_date_in_the_future_is_422(api, clock):
    """DoesNotCreateContactWhenMandateDateIsFutureInAdministrationTimezone: 2 July is the future
    at 01:30 on 1 July in Amsterdam; 1 July is not, though it still is in UTC."""
    clock.set(datetime(2017, 6, 30, 23, 30, tzinfo=UTC))
    body = {"company_name": "Test B.V.", "sepa_mandate_date": "2017-7-2"}
    response = api.post("contacts", {"contact": body})
    assert response.status_code == 422
    assert response.json() == {
        "error": {"sepa_mandate_date": ["cannot be in the future"]},
        "details": {"sepa_mandate_date": [{"error": "not_in_future"}]},
    }
    assert not Contact.objects.exists()
    response = api.post("contacts", {"contact": {**body, "sepa_mandate_date": "2017-07-01"}})
    assert response.status_code == 201


def test_create_with_custom_fields_is_404(api):
    """AddingValuesForCustomFields / ReturnsAnErrorWhenCustomFieldCannotBeFound: Uurwerk has no
    custom fields, so any custom field id is unknown."""
    response = api.post(
        "contacts",
        {
            "contact": {
                "company_name": "Test B.V.",
                "custom_fields_attributes": {"0": {"id": 1234, "value": "Field value"}},
            }
        },
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": "Custom field with id 1234 not found for administration",
        "symbolic": {"custom_fields_attributes": "not_found"},
    }
    response = api.post(
        "contacts",
        {"contact": {"company_name": "X", "custom_fields_attributes": [{"id": "77", "value": ""}]}},
    )
    assert response.status_code == 404
    assert not Contact.objects.exists()


@pytest.mark.parametrize("value", [{}, []])
def test_create_with_no_custom_fields_is_fine(api, value):
    response = api.post(
        "contacts", {"contact": {"company_name": "X", "custom_fields_attributes": value}}
    )
    assert response.status_code == 201
    assert response.json()["custom_fields"] == []


@pytest.mark.parametrize("body", [{}, {"phone": "0612345678"}, {"company_name": "  "}])
def test_create_without_a_name_is_422(api, body):
    """ReturnsAnErrorWhenRecordIsInvalid."""
    response = api.post("contacts", {"contact": {**body, "firstname": "", "lastname": None}})
    assert response.status_code == 422
    assert response.json() == NAME_REQUIRED
    assert not Contact.objects.exists()
    assert not Event.objects.filter(action="contact_created").exists()


@pytest.mark.parametrize(
    "body",
    [{"firstname": "Piet"}, {"lastname": "Bird"}, {"firstname": "Money", "lastname": "Bird"}],
)
def test_create_a_person(api, body):
    response = api.post("contacts", {"contact": body})
    assert response.status_code == 201
    assert response.json()["company_name"] == ""
    for key, value in body.items():
        assert response.json()[key] == value


def test_create_without_a_name_reports_other_errors_too(api):
    response = api.post("contacts", {"contact": {"email": "nope", "country": "Netherlands"}})
    assert response.status_code == 422
    assert response.json()["error"] == {
        **NAME_REQUIRED["error"],
        "country": ["must be a two-letter ISO 3166 code"],
        "email": ["is invalid"],
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"company_name": "Unwrapped"},
        {"contact": None},
        {"contact": {}},
        {"contact": "Test B.V."},
        {"contact": ["Test B.V."]},
        {"contacts": {"company_name": "Test B.V."}},
        [],
        [{"contact": {"company_name": "Test B.V."}}],
        "contact",
        None,
    ],
)
def test_create_without_the_contact_wrapper_is_400(api, body):
    """ReturnsAnErrorWhenFieldsAreNotProvided."""
    response = api.client.post(
        api.url("contacts"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == CONTACT_REQUIRED
    assert not Contact.objects.exists()


def test_create_with_an_empty_body_is_400(api):
    response = api.client.post(api.url("contacts"), "", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == CONTACT_REQUIRED


def test_create_defaults(api, administration):
    """Customer ids number on from the highest numeric one; the country is the administration's;
    an email address is also where invoices go."""
    services.administration_update(
        administration=administration, actor=None, changes={"country": "BE"}
    )
    make_contact(administration, None, company_name="A", customer_id="41")
    make_contact(administration, None, company_name="B", customer_id="customer-99")
    response = api.post("contacts", {"contact": {"company_name": "C", "email": "a@example.com"}})
    body = response.json()
    assert (body["customer_id"], body["country"]) == ("42", "BE")
    assert (body["email"], body["send_invoices_to_email"]) == ("a@example.com", "a@example.com")
    assert body["send_estimates_to_email"] == ""


def test_create_with_invoices_address_fills_email(api):
    response = api.post(
        "contacts",
        {
            "contact": {
                "company_name": "C",
                "send_invoices_to_email": "a@example.com, b@example.com",
            }
        },
    )
    body = response.json()
    assert body["email"] == "a@example.com"
    assert body["send_invoices_to_email"] == "a@example.com, b@example.com"


def test_create_with_every_attribute(api):
    attributes = {
        "company_name": "Moneybird B.V.",
        "firstname": "Money",
        "lastname": "Bird",
        "attention": "Finance",
        "address1": "Hoofdstraat 12",
        "address2": "3rd floor",
        "zipcode": "1234 AB",
        "city": "Amsterdam",
        "country": "de",
        "phone": "020-1234567",
        "delivery_method": "Peppol",
        "customer_id": "K-7",
        "tax_number": "NL123456789B01",
        "chamber_of_commerce": "12345678",
        "bank_account": "NL91ABNA0417164300",
        "email": "info@example.com",
        "email_ubl": "false",
        "send_invoices_to_attention": "Finance",
        "send_invoices_to_email": "finance@example.com,boss@example.com",
        "send_estimates_to_attention": "Sales",
        "send_estimates_to_email": "sales@example.com",
        "direct_debit": True,
        "sepa_active": "true",
        "sepa_iban": "nl50 test 0166 5671 91",
        "sepa_iban_account_name": "Moneybird B.V.",
        "sepa_bic": "rabonl2u",
        "sepa_mandate_id": "MAN1",
        "sepa_mandate_date": "2014-01-01",
        "sepa_sequence_type": "FRST",
        "si_identifier": "1234567",
        "si_identifier_type": "0106",
        "invoice_workflow_id": "",
        "estimate_workflow_id": None,
    }
    response = api.post("contacts", {"contact": attributes})
    contact = created(response)
    assert_matches(
        response.json(),
        example(
            **{
                **{k: v for k, v in attributes.items() if not k.endswith("workflow_id")},
                "country": "DE",
                "email_ubl": False,
                "sepa_active": True,
                "sepa_iban": "NL50TEST0166567191",
                "bank_account": "NL50TEST0166567191",
                "sepa_bic": "RABONL2U",
            }
        ),
        contact,
    )


@pytest.mark.parametrize("field", ["invoice_workflow_id", "estimate_workflow_id"])
def test_create_with_a_workflow_is_404(api, field):
    """Uurwerk has no workflows: any workflow id is unknown, like any unknown id."""
    response = api.post("contacts", {"contact": {"company_name": "X", field: "458026356994737217"}})
    assert response.status_code == 404
    assert response.json() == not_found(field)
    assert not Contact.objects.exists()


def test_create_ignores_attributes_it_does_not_know(api):
    response = api.post(
        "contacts",
        {"contact": {"company_name": "X", "id": 5, "archived": True, "contact_person": {}}},
    )
    assert response.status_code == 201
    assert response.json()["archived"] is False
    assert response.json()["id"] != "5"


# --- PATCH /contacts/{id} -----------------------------------------------------------------------


def test_update_a_contact(api, appleseed):
    """UpdateAContact (the example's second contact person is Moneybird's own; see the module
    docstring)."""
    response = api.patch(
        f"contacts/{appleseed.pk}.json", {"contact": {"company_name": "Test B.V."}}
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches(body, example(**{**APPLESEED, "company_name": "Test B.V."}), appleseed)
    assert event_summary(body) == [
        ("contact_created", {}),
        ("contact_changed", {"changes": {"company_name": ["Foobar Holding B.V.", "Test B.V."]}}),
    ]


def test_update_a_contact_that_has_sepa_activated(api, administration, owner):
    """UpdateAContactThatHasSepaActivated."""
    contact = make_contact(administration, owner, **SEPA_CONTACT, sepa_mandate_date="2014-01-01")
    response = api.patch(f"contacts/{contact.pk}", {"contact": {"company_name": "Test B.V."}})
    assert response.status_code == 200
    body = response.json()
    assert_matches(
        body,
        example(
            **{**SEPA_CONTACT, "company_name": "Test B.V."},
            bank_account="NL50TEST0166567191",
            sepa_mandate_date="2014-01-01",
        ),
        contact,
    )
    assert event_summary(body)[1] == (
        "contact_changed",
        {"changes": {"company_name": ["Foobar Holding B.V.", "Test B.V."]}},
    )


def test_update_the_sepa_sequence_type(api, administration, owner):
    """UpdateTheSepaSequenceType."""
    contact = make_contact(administration, owner, **SEPA_CONTACT, sepa_mandate_date="2014-01-01")
    response = api.patch(f"contacts/{contact.pk}", {"contact": {"sepa_sequence_type": "FNAL"}})
    assert response.status_code == 200
    body = response.json()
    assert_matches(
        body,
        example(
            **SEPA_CONTACT,
            bank_account="NL50TEST0166567191",
            sepa_mandate_date="2014-01-01",
            sepa_sequence_type="FNAL",
        ),
        contact,
    )
    assert event_summary(body)[1] == (
        "contact_changed",
        {"changes": {"sepa_sequence_type": ["RCUR", "FNAL"]}},
    )


def test_update_a_contact_with_given_si_identifier(api, appleseed):
    """UpdatesAContactWithGivenSiIdentifier (Uurwerk's change also lists si_identifier_type)."""
    response = api.patch(
        f"contacts/{appleseed.pk}",
        {"contact": {"si_identifier": "1234567", "si_identifier_type": "NL:KVK"}},
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches(
        body,
        example(**APPLESEED, si_identifier="1234567", si_identifier_type="NL:KVK"),
        appleseed,
    )
    assert event_summary(body)[1] == (
        "contact_changed",
        {"changes": {"si_identifier": ["", "1234567"], "si_identifier_type": ["", "NL:KVK"]}},
    )


def test_update_names_of_a_company(api, administration, owner):
    """CreatesAContactPersonWhenCompanyNameFirstnameAndLastnameExistTogether: the names change;
    Uurwerk has no contact people, so none is made."""
    contact = make_contact(
        administration,
        owner,
        company_name="Moneybird B.V.",
        customer_id="customer-1",
        email="contact1@example.com",
        email_ubl=False,
    )
    response = api.patch(
        f"contacts/{contact.pk}", {"contact": {"firstname": "Money", "lastname": "Bird"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches(
        body,
        example(
            company_name="Moneybird B.V.",
            firstname="Money",
            lastname="Bird",
            customer_id="customer-1",
            email="contact1@example.com",
            send_invoices_to_email="contact1@example.com",
            email_ubl=False,
        ),
        contact,
    )
    assert event_summary(body)[1] == (
        "contact_changed",
        {"changes": {"firstname": ["", "Money"], "lastname": ["", "Bird"]}},
    )


@pytest.mark.parametrize("value", [True, "true", "1"])
def test_update_cannot_make_a_contact_trusted(api, appleseed, value):
    """DoesNotAllowMakingTheContactTrustedThroughTheApi."""
    before = snapshot()
    response = api.patch(
        f"contacts/{appleseed.pk}", {"contact": {"is_trusted": value, "city": "Gent"}}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "An contact can only be trusted during the approval of a payment.",
        "symbolic": {"is_trusted": "permission"},
    }
    assert snapshot() == before


def test_update_is_trusted_false_is_fine(api, appleseed):
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {"is_trusted": False}})
    assert response.status_code == 200
    assert response.json()["is_trusted"] is False


def test_update_unknown_contact_is_404(api):
    """ReturnsA404StatusWhenTheContactIsNotFound."""
    response = api.patch("contacts/34123123", {"contact": {"company_name": "Test B.V."}})
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


@pytest.mark.parametrize(
    "changes",
    [
        {"company_name": ""},
        {"company_name": "   "},
        {"company_name": None},
        {"company_name": "", "lastname": ""},
    ],
)
def test_update_removing_every_name_is_422(api, administration, owner, changes):
    """ReturnsAnErrorWhenRecordIsInvalid."""
    contact = make_contact(administration, owner, company_name="Test B.V.")
    before = snapshot()
    response = api.patch(f"contacts/{contact.pk}", {"contact": changes})
    assert response.status_code == 422
    assert response.json() == NAME_REQUIRED
    assert snapshot() == before


def test_update_removes_attributes_given_as_empty_strings(api, administration, owner):
    contact = make_contact(
        administration,
        owner,
        **SEPA_CONTACT,
        sepa_mandate_date="2014-01-01",
        delivery_method="Post",
        sepa_sequence_type="FRST",
        country="DE",
    )
    response = api.patch(
        f"contacts/{contact.pk}",
        {
            "contact": {
                "address1": "",
                "sepa_active": False,
                "sepa_iban": "",
                "sepa_bic": "",
                "sepa_mandate_date": "",
                "delivery_method": "",
                "sepa_sequence_type": None,
                "country": "",
            }
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["address1"], body["sepa_iban"], body["bank_account"], body["sepa_bic"]) == (
        "",
        "",
        "",
        "",
    )
    assert (body["sepa_mandate_date"], body["delivery_method"]) == (None, "Email")
    assert (body["sepa_sequence_type"], body["country"]) == ("RCUR", "NL")


def test_update_without_changes_records_no_event(api, appleseed):
    before = snapshot()
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {"city": "Amsterdam"}})
    assert response.status_code == 200
    assert snapshot() == before


def test_update_with_put(api, appleseed):
    response = api.client.put(
        api.url(f"contacts/{appleseed.pk}"), {"contact": {"city": "Gent"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["city"] == "Gent"


def test_update_an_archived_contact(api, appleseed, owner):
    services.contact_archive(contact=appleseed, actor=owner)
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {"city": "Gent"}})
    assert response.status_code == 200
    assert (response.json()["city"], response.json()["archived"]) == ("Gent", True)


def test_update_the_customer_id(api, administration, owner, appleseed):
    make_contact(administration, owner, company_name="Other", customer_id="7")
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {"customer_id": "7"}})
    assert response.status_code == 422
    assert response.json() == unprocessable(customer_id=("taken", "has already been taken"))
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {"customer_id": ""}})
    assert response.status_code == 200
    assert response.json()["customer_id"] == "8"  # empty: the next free number
    assert event_summary(response.json())[-1] == (
        "contact_changed",
        {"changes": {"customer_id": ["1", "8"]}},
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, CONTACT_REQUIRED),
        ({"contact": None}, CONTACT_REQUIRED),
        ({"contact": {}}, CONTACT_REQUIRED),
        ({"contact": "x"}, CONTACT_REQUIRED),
        ({"company_name": "Unwrapped"}, CONTACT_REQUIRED),
        ([], CONTACT_REQUIRED),
    ],
)
def test_update_without_the_contact_wrapper_is_400(api, appleseed, body, expected):
    before = snapshot()
    url = api.url(f"contacts/{appleseed.pk}")
    response = api.client.patch(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected
    assert snapshot() == before


# --- validation ---------------------------------------------------------------------------------

WRONG_TYPES = [
    ("company_name", {"name": "x"}, "invalid", "Not a valid string."),
    ("company_name", ["x"], "invalid", "Not a valid string."),
    ("firstname", True, "invalid", "Not a valid string."),
    ("email_ubl", "maybe", "invalid", "Must be a valid boolean."),
    ("email_ubl", None, "null", "This field may not be null."),
    ("sepa_active", [], "invalid", "Must be a valid boolean."),
    ("direct_debit", {"x": 1}, "invalid", "Must be a valid boolean."),
    ("sepa_mandate_date", "yesterday", "invalid", "is not a valid date"),
    ("sepa_mandate_date", "2014-02-30", "invalid", "is not a valid date"),
    ("sepa_mandate_date", "01-01-2014", "invalid", "is not a valid date"),
    ("sepa_mandate_date", 20140101, "invalid", "is not a valid date"),
    ("invoice_workflow_id", "abc", "invalid", "is not a valid id"),
    ("estimate_workflow_id", -1, "invalid", "is not a valid id"),
    ("custom_fields_attributes", "x", "invalid", "is invalid"),
    ("custom_fields_attributes", [{"value": "no id"}], "invalid", "is invalid"),
    ("is_trusted", "perhaps", "invalid", "Must be a valid boolean."),
]


@pytest.mark.parametrize(("field", "value", "code", "message"), WRONG_TYPES)
def test_create_with_wrong_types_is_422(api, field, value, code, message):
    response = api.post("contacts", {"contact": {"company_name": "X", field: value}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert not Contact.objects.exists()


@pytest.mark.parametrize(("field", "value", "code", "message"), WRONG_TYPES)
def test_update_with_wrong_types_is_422(api, appleseed, field, value, code, message):
    before = snapshot()
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": {field: value}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert snapshot() == before


RULES = [
    ({"email": "not-an-address"}, "email", "invalid", "is invalid"),
    (
        {"send_invoices_to_email": "a@example.com, nope"},
        "send_invoices_to_email",
        "invalid",
        "should be one or more valid email addresses",
    ),
    (
        {"send_estimates_to_email": "@"},
        "send_estimates_to_email",
        "invalid",
        "should be one or more valid email addresses",
    ),
    ({"country": "NLD"}, "country", "invalid", "must be a two-letter ISO 3166 code"),
    ({"country": "1A"}, "country", "invalid", "must be a two-letter ISO 3166 code"),
    ({"delivery_method": "Pigeon"}, "delivery_method", "inclusion", "is not included in the list"),
    ({"delivery_method": "email"}, "delivery_method", "inclusion", "is not included in the list"),
    (
        {"sepa_sequence_type": "ONCE"},
        "sepa_sequence_type",
        "inclusion",
        "is not included in the list",
    ),
    ({"sepa_iban": "NL00TEST0166567191"}, "sepa_iban", "invalid", "is not a valid IBAN"),
    ({"sepa_iban": "12345"}, "sepa_iban", "invalid", "is not a valid IBAN"),
    ({"sepa_bic": "RABO"}, "sepa_bic", "invalid", "is not a valid BIC"),
    (
        {"company_name": "x" * 256},
        "company_name",
        "too_long",
        "is too long (maximum is 255 characters)",
    ),
    (
        {"customer_id": "9" * 65},
        "customer_id",
        "too_long",
        "is too long (maximum is 64 characters)",
    ),
    ({"phone": "1" * 65}, "phone", "too_long", "is too long (maximum is 64 characters)"),
    (
        {"si_identifier_type": "x" * 17},
        "si_identifier_type",
        "too_long",
        "is too long (maximum is 16 characters)",
    ),
]


@pytest.mark.parametrize(("values", "field", "code", "message"), RULES)
def test_create_breaking_a_rule_is_422(api, values, field, code, message):
    response = api.post("contacts", {"contact": {"company_name": "X", **values}})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert not Contact.objects.exists()
    assert not Event.objects.filter(action="contact_created").exists()


@pytest.mark.parametrize(("values", "field", "code", "message"), RULES)
def test_update_breaking_a_rule_is_422(api, appleseed, values, field, code, message):
    before = snapshot()
    response = api.patch(f"contacts/{appleseed.pk}", {"contact": values})
    assert response.status_code == 422, response.content
    assert response.json() == unprocessable(**{field: (code, message)})
    assert snapshot() == before


def test_sepa_active_requires_the_mandate(api):
    response = api.post("contacts", {"contact": {"company_name": "X", "sepa_active": True}})
    assert response.status_code == 422
    blank = ("blank", "can't be blank")
    assert response.json() == unprocessable(
        sepa_iban=blank,
        sepa_iban_account_name=blank,
        sepa_mandate_id=blank,
        sepa_mandate_date=blank,
    )


def test_sepa_mandate_id_is_unique_in_the_administration(api, administration, owner, foreign):
    mandate = {
        "sepa_active": True,
        "sepa_iban": "NL91ABNA0417164300",
        "sepa_iban_account_name": "X",
        "sepa_mandate_id": "MAN1",
        "sepa_mandate_date": "2014-01-01",
    }
    assert api.post("contacts", {"contact": {"company_name": "A", **mandate}}).status_code == 201
    response = api.post("contacts", {"contact": {"company_name": "B", **mandate}})
    assert response.status_code == 422
    assert response.json() == unprocessable(sepa_mandate_id=("taken", "has already been taken"))
    # Another administration's mandates are its own business.
    make_contact(foreign.administration, None, company_name="C", sepa_mandate_id="MAN2")
    mandate["sepa_mandate_id"] = "MAN2"
    assert api.post("contacts", {"contact": {"company_name": "D", **mandate}}).status_code == 201


def test_customer_id_is_unique_in_the_administration(api, appleseed, foreign):
    response = api.post("contacts", {"contact": {"company_name": "B", "customer_id": "1"}})
    assert response.status_code == 422
    assert response.json() == unprocessable(customer_id=("taken", "has already been taken"))
    response = api.post("contacts", {"contact": {"company_name": "B", "customer_id": "F-1"}})
    assert response.status_code == 201


def test_text_is_trimmed_and_numbers_become_text(api):
    response = api.post(
        "contacts", {"contact": {"company_name": "  Test B.V.  ", "customer_id": 42, "phone": 612}}
    )
    body = response.json()
    assert (body["company_name"], body["customer_id"], body["phone"]) == ("Test B.V.", "42", "612")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "contacts"),
        ("patch", "contacts/{id}"),
        ("post", "contacts/{id}/notes"),
        ("post", "contacts/synchronization"),
    ],
)
@pytest.mark.parametrize("raw", ["{bad", '{"contact": {"company_name": "x",}}', "nul"])
def test_invalid_json_is_400(api, appleseed, method, path, raw):
    before = snapshot()
    url = api.url(path.format(id=appleseed.pk))
    response = getattr(api.client, method)(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith("Invalid request body: JSON parse error")
    assert snapshot() == before


def test_form_encoded_body_is_rejected_not_crashed(api):
    response = api.client.post(
        api.url("contacts"),
        "contact[company_name]=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert set(response.json()) == {"error"}
    assert not Contact.objects.exists()


# --- DELETE and archive -------------------------------------------------------------------------


def test_delete_a_contact(api, appleseed, owner):
    NoteFactory(entity=appleseed, actor=owner)
    response = api.delete(f"contacts/{appleseed.pk}.json")
    assert response.status_code == 204
    assert response.content == b""
    assert not Contact.objects.exists()
    assert not Note.objects.exists()
    destroyed = Event.objects.get(action="contact_destroyed")
    assert (destroyed.entity_id, destroyed.user_id) == (appleseed.pk, owner.pk)
    assert destroyed.data == {"customer_id": "1", "name": "Foobar Holding B.V."}
    again = api.delete(f"contacts/{appleseed.pk}")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_delete_unknown_contact_is_404(api):
    """ReturnsA404StatusWhenTheContactIsNotFound."""
    response = api.delete("contacts/34123123")
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


def test_delete_an_archived_contact(api, appleseed, owner):
    services.contact_archive(contact=appleseed, actor=owner)
    assert api.delete(f"contacts/{appleseed.pk}").status_code == 204
    assert not Contact.objects.exists()


def in_use(message: str) -> dict[str, Any]:
    return unprocessable(base=("contact_in_use", message))


def test_delete_a_contact_with_time_entries_is_422(api, administration, owner, appleseed):
    make_entry(administration, owner, NOW - timedelta(hours=2), contact_id=appleseed.pk)
    before = snapshot()
    response = api.delete(f"contacts/{appleseed.pk}")
    assert response.status_code == 422
    assert response.json() == in_use("Contact has time entries; archive it instead")
    assert snapshot() == before
    assert not Event.objects.filter(action="contact_destroyed").exists()


def test_delete_a_contact_with_projects_is_422(api, administration, appleseed):
    ProjectFactory(administration=administration, contact_id=appleseed.pk)
    before = snapshot()
    response = api.delete(f"contacts/{appleseed.pk}")
    assert response.status_code == 422
    assert response.json() == in_use("Contact has projects; archive it instead")
    assert snapshot() == before
    # Archiving is the way out.
    assert api.patch(f"contacts/{appleseed.pk}/archive").status_code == 204


def test_delete_names_every_kind_of_record_that_keeps_the_contact(
    api, administration, owner, appleseed
):
    ProjectFactory(administration=administration, contact_id=appleseed.pk)
    make_entry(administration, owner, NOW - timedelta(hours=2), contact_id=appleseed.pk)
    response = api.delete(f"contacts/{appleseed.pk}")
    assert response.status_code == 422
    assert response.json() == in_use("Contact has projects and time entries; archive it instead")


def test_delete_racing_a_new_reference_is_422_not_500(
    api, administration, owner, appleseed, monkeypatch
):
    """A time entry made between the check and the delete: the database's refusal is a 422."""
    make_entry(administration, owner, NOW - timedelta(hours=2), contact_id=appleseed.pk)
    monkeypatch.setattr("administrations.services.contacts._contact_kept_by", lambda contact: [])
    before = snapshot()
    response = api.delete(f"contacts/{appleseed.pk}")
    assert response.status_code == 422
    assert response.json() == in_use("Contact is in use; archive it instead")
    assert snapshot() == before


def test_archive_a_contact(api, appleseed, owner):
    response = api.patch(f"contacts/{appleseed.pk}/archive.json")
    assert response.status_code == 204
    assert response.content == b""
    appleseed.refresh_from_db()
    assert appleseed.archived
    archived = Event.objects.get(action="contact_archived")
    assert (archived.entity_id, archived.user_id) == (appleseed.pk, owner.pk)
    assert archived.data == {"archived": [False, True]}
    body = api.get(f"contacts/{appleseed.pk}", {"include_archived": "true"}).json()
    assert body["archived"] is True
    assert event_summary(body)[-1] == ("contact_archived", {"archived": [False, True]})


def test_archive_an_archived_contact_is_400(api, appleseed):
    """ReturnsA400StatusWhenTheContactIsAlreadyArchived."""
    assert api.patch(f"contacts/{appleseed.pk}/archive").status_code == 204
    before = snapshot()
    response = api.patch(f"contacts/{appleseed.pk}/archive")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Contact can not be archived",
        "symbolic": {"id": "can_not_be_archived"},
    }
    assert snapshot() == before


def test_archive_unknown_contact_is_404(api):
    """ReturnsA404StatusWhenTheContactIsNotFound."""
    response = api.patch("contacts/34123123/archive")
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


# --- GET /contacts ------------------------------------------------------------------------------


@pytest.fixture
def three(administration, owner):
    """The OpenAPI's list examples' contacts: Appleseed (customer 1), the SEPA contact
    (customer 2), and a plain one (customer-1), made in this order."""
    return [
        make_contact(administration, owner, **APPLESEED),
        make_contact(administration, owner, **SEPA_CONTACT, sepa_mandate_date="2014-01-01"),
        make_contact(
            administration,
            owner,
            company_name="Foobar Holding B.V.",
            address1="Hoofdstraat 12",
            zipcode="1234AB",
            city="Amsterdam",
            customer_id="customer-1",
            email="info@example.com",
            send_estimates_to_email="info@example.com",
        ),
    ]


def list_examples(three) -> list[dict[str, Any]]:
    appleseed, sepa, plain = three
    return [
        (example(**APPLESEED), appleseed),
        (
            example(
                **SEPA_CONTACT,
                bank_account="NL50TEST0166567191",
                sepa_mandate_date="2014-01-01",
            ),
            sepa,
        ),
        (
            example(
                company_name="Foobar Holding B.V.",
                address1="Hoofdstraat 12",
                zipcode="1234AB",
                city="Amsterdam",
                customer_id="customer-1",
                email="info@example.com",
                send_invoices_to_email="info@example.com",
                send_estimates_to_email="info@example.com",
            ),
            plain,
        ),
    ]


def test_return_a_list_of_contacts(api, three):
    """ReturnAListOfContacts."""
    response = api.get("contacts.json")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "3"
    assert "Link" not in response
    body = response.json()
    assert [item["id"] for item in body] == [str(c.pk) for c in three]
    for item, (expected, contact) in zip(body, list_examples(three), strict=True):
        assert_matches(item, expected, contact)


def test_returns_paginated_contacts(api, three):
    """ReturnsPaginatedContactsOnPage1 and ReturnsPaginatedContactsOnPage2."""
    examples = list_examples(three)
    first = api.get("contacts", {"per_page": "1", "page": "1"})
    assert first.status_code == 200
    assert len(first.json()) == 1
    assert_matches(first.json()[0], *examples[0])
    base = f"http://testserver/api/v2/{api.administration.pk}/contacts"
    assert first["Link"] == f'<{base}?page=2&per_page=1>; rel="next"'

    second = api.get("contacts", {"per_page": "1", "page": "2"})
    assert len(second.json()) == 1
    assert_matches(second.json()[0], *examples[1])
    assert second["Link"] == (
        f'<{base}?page=3&per_page=1>; rel="next", <{base}?page=1&per_page=1>; rel="prev"'
    )
    assert api.get("contacts", {"per_page": "1", "page": "4"}).json() == []


def test_allows_filtering_by_name(api, administration, owner, three):
    """AllowsFilteringByName, ReturnsEmptyListWhenNoMatchesWithFilter and
    AllowsFilteringByNameInCombinationWithPagination."""
    response = api.get("contacts", {"query": "Appleseed"})
    assert [item["id"] for item in response.json()] == [str(three[0].pk)]
    assert_matches(response.json()[0], *list_examples(three)[0])
    assert response["X-Total-Count"] == "1"
    assert api.get("contacts", {"query": "Nobody"}).json() == []
    assert api.get("contacts", {"query": "Appleseed", "page": "2", "per_page": "1"}).json() == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("appleseed", [0]),
        ("REDMOND", [1]),
        ("hoofdstraat", [0, 2]),
        ("Hoofdstraat 1234AB", [2]),  # every word must match
        ("1234", [0, 1, 2]),  # 1234 AB, 123456, 1234AB
        ("customer-1", [2]),
        ("NL50TEST", [1]),  # the SEPA IBAN is the bank account
        ("info@example", [0, 1, 2]),
        ("foobar", [0, 1, 2]),
        ("NL", [0, 1, 2]),  # the country
        ("MAN12313", []),  # not a searched field
        ("   ", [0, 1, 2]),
    ],
)
def test_query_searches_the_documented_fields(api, three, query, expected):
    response = api.get("contacts", {"query": query})
    assert [item["id"] for item in response.json()] == [str(three[i].pk) for i in expected]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("attention", "Finance dept"),
        ("firstname", "Pieterjan"),
        ("address2", "Unit 9"),
        ("phone", "0201234567"),
        ("tax_number", "NL123456789B01"),
        ("chamber_of_commerce", "87654321"),
        ("bank_account", "DE89370400440532013000"),
    ],
)
def test_query_searches_each_field(api, administration, owner, field, value):
    make_contact(administration, owner, company_name="Decoy")
    contact = make_contact(administration, owner, company_name="Target", **{field: value})
    response = api.get("contacts", {"query": value[2:-1].lower()})
    assert [item["id"] for item in response.json()] == [str(contact.pk)]


def test_archived_contacts_are_listed_only_with_include_archived(api, owner, three):
    services.contact_archive(contact=three[1], actor=owner)
    listed = api.get("contacts")
    assert [i["id"] for i in listed.json()] == [str(three[0].pk), str(three[2].pk)]
    assert listed["X-Total-Count"] == "2"
    response = api.get("contacts", {"include_archived": "true"})
    assert [i["id"] for i in response.json()] == [str(c.pk) for c in three]
    assert [i["archived"] for i in response.json()] == [False, True, False]
    response = api.get("contacts", {"include_archived": "true", "query": "Redmond"})
    assert [i["id"] for i in response.json()] == [str(three[1].pk)]


@pytest.mark.parametrize(
    "path", ["contacts", "contacts/synchronization", "contacts/{id}", "contacts/customer_id/1"]
)
def test_bad_include_archived_is_400(api, appleseed, path):
    response = api.get(path.format(id=appleseed.pk), {"include_archived": "maybe"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "include_archived does not have a valid value",
        "symbolic": {"include_archived": "invalid"},
    }


def test_too_many_contacts_requested_is_400(api):
    """ReturnsAnErrorWhenTooManyContactsAreRequested."""
    response = api.get("contacts", {"per_page": "101"})
    assert response.status_code == 400
    assert response.json()["error"] == "per_page does not have a valid value"


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"per_page": "0"}])
def test_bad_paging_is_400(api, params):
    response = api.get("contacts", params)
    assert response.status_code == 400
    assert response.json()["error"].endswith("does not have a valid value")


def test_the_list_shows_notes_and_events(api, administration, owner, colleague, appleseed):
    services.contact_update(contact=appleseed, actor=colleague, changes={"city": "Gent"})
    note = NoteFactory(entity=appleseed, actor=owner, note="Call back", assignee_id=colleague.pk)
    [item] = api.get("contacts").json()
    assert item["notes"] == [
        {
            "id": str(note.pk),
            "administration_id": str(administration.pk),
            "entity_id": str(appleseed.pk),
            "entity_type": "Contact",
            "user_id": str(owner.pk),
            "assignee_id": str(colleague.pk),
            "todo": True,
            "note": "Call back",
            "completed_at": None,
            "completed_by_id": None,
            "todo_type": None,
            "data": {},
            "created_at": ts(NOW),
            "updated_at": ts(NOW),
        }
    ]
    assert event_summary(item) == [
        ("contact_created", {}),
        ("contact_changed", {"changes": {"city": ["Amsterdam", "Gent"]}}),
        ("note_created", {"note": "Call back", "todo": True}),
    ]
    assert [e["user_id"] for e in item["events"]] == [
        str(owner.pk),
        str(colleague.pk),
        str(owner.pk),
    ]
    assert item["events"][2]["link_entity_id"] == str(note.pk)
    assert item["events"][2]["link_entity_type"] == "Note"
    for event in item["events"]:
        assert set(event) == EVENT_KEYS
    assert set(item["notes"][0]) == NOTE_KEYS


# --- query count --------------------------------------------------------------------------------


@pytest.fixture
def hundred(administration, owner):
    """100 contacts, each changed once and carrying a note."""
    for n in range(100):
        contact = make_contact(administration, owner, company_name=f"Company {n}")
        services.contact_update(contact=contact, actor=owner, changes={"city": f"City {n}"})
        NoteFactory(entity=contact, actor=owner)


def test_list_query_count_does_not_grow_with_the_page(api, hundred, django_assert_max_num_queries):
    counts = {}
    for per_page in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("contacts", {"per_page": per_page})
        assert response.status_code == 200
        assert len(response.json()) == per_page
        counts[per_page] = len(queries)
    assert counts[10] == counts[100]
    # The token, the administration, the count and the page.
    with django_assert_max_num_queries(4):
        response = api.get("contacts", {"per_page": 100, "query": "Company"})
    for item in response.json():
        assert [e["action"] for e in item["events"]] == [
            "contact_created",
            "contact_changed",
            "note_created",
        ]
        assert len(item["notes"]) == 1


def test_synchronization_query_counts_are_constant(api, hundred, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        versions = api.get("contacts/synchronization").json()
    assert len(versions) == 100
    with django_assert_max_num_queries(3):
        response = api.post("contacts/synchronization", {"ids": [v["id"] for v in versions]})
    assert len(response.json()) == 100


# --- synchronization ----------------------------------------------------------------------------


def test_list_ids_and_versions(api, administration, owner):
    """ReturnAListOfIdSAndVersionIdS."""
    first = make_contact(administration, owner, company_name="A")
    second = make_contact(administration, owner, company_name="B")
    response = api.get("contacts/synchronization.json")
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(first.pk), "version": 1787320117},
        {"id": str(second.pk), "version": 1787320117},
    ]


def test_version_changes_with_an_update(api, clock, appleseed, owner):
    clock.tick(65)
    services.contact_update(contact=appleseed, actor=owner, changes={"city": "Gent"})
    assert api.get("contacts/synchronization").json() == [
        {"id": str(appleseed.pk), "version": 1787320117 + 65}
    ]
    assert api.get(f"contacts/{appleseed.pk}").json()["version"] == 1787320117 + 65
    # Through the API as well; an update without changes keeps the version.
    clock.tick(10)
    api.patch(f"contacts/{appleseed.pk}", {"contact": {"city": "Gent"}})
    assert api.get("contacts/synchronization").json()[0]["version"] == 1787320117 + 65
    api.patch(f"contacts/{appleseed.pk}", {"contact": {"city": "Brugge"}})
    assert api.get("contacts/synchronization").json()[0]["version"] == 1787320117 + 75


def test_synchronization_leaves_out_archived_contacts_unless_asked(api, owner, three, foreign):
    services.contact_archive(contact=three[0], actor=owner)
    ids = [item["id"] for item in api.get("contacts/synchronization").json()]
    assert ids == [str(three[1].pk), str(three[2].pk)]
    response = api.get("contacts/synchronization", {"include_archived": "true"})
    assert [item["id"] for item in response.json()] == [str(c.pk) for c in three]


def test_fetch_contacts_with_given_ids(api, administration, owner):
    """ReturnAListOfGivenIds."""
    common = {
        "address1": "Hoofdstraat 12",
        "zipcode": "1234AB",
        "city": "Amsterdam",
        "email": "info@example.com",
        "send_invoices_to_email": "info@example.com",
        "send_estimates_to_email": "info@example.com",
    }
    make_contact(administration, owner, company_name="Other")
    bar_foo = make_contact(administration, owner, company_name="Bar Foo", customer_id="3", **common)
    foo_bar = make_contact(administration, owner, company_name="Foo Bar", customer_id="4", **common)
    response = api.post(
        "contacts/synchronization.json", {"ids": [int(bar_foo.pk), str(foo_bar.pk)]}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body] == [str(bar_foo.pk), str(foo_bar.pk)]
    assert_matches(body[0], example(company_name="Bar Foo", customer_id="3", **common), bar_foo)
    assert_matches(body[1], example(company_name="Foo Bar", customer_id="4", **common), foo_bar)


@pytest.mark.parametrize(
    "body", [{}, {"ids": None}, {"ids": []}, {"ids": ""}, {"id": [1]}, [], None]
)
def test_fetch_without_ids_is_400(api, body):
    """ReturnsA400StatusWhenIdsAreNotProvided."""
    url = api.url("contacts/synchronization")
    response = api.client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is required", "symbolic": {"ids": "required"}}


@pytest.mark.parametrize("ids", ["123", 123, {"0": 123}, True])
def test_fetch_with_ids_that_are_not_a_list_is_400(api, ids):
    response = api.post("contacts/synchronization", {"ids": ids})
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is invalid", "symbolic": {"ids": "invalid"}}


def test_fetch_skips_ids_of_no_contact_here(api, appleseed, foreign):
    response = api.post(
        "contacts/synchronization",
        {
            "ids": [
                str(foreign.contact.pk),
                foreign.contact.pk,
                "abc",
                -5,
                0,
                1.5,
                True,
                None,
                {"id": appleseed.pk},
                "9999999999999999999",
                34123123,
                appleseed.pk,
                str(appleseed.pk),
            ]
        },
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [str(appleseed.pk)]


def test_fetch_returns_at_most_100_contacts(api, administration, owner, hundred):
    extra = make_contact(administration, owner, company_name="Number 101")
    ids = [item["id"] for item in api.get("contacts/synchronization").json()]
    assert len(ids) == 101 and ids[-1] == str(extra.pk)
    response = api.post("contacts/synchronization", {"ids": ids})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == ids[:100]
    # The first 100 distinct ids given count: the 101st contact, asked first, is returned.
    response = api.post("contacts/synchronization", {"ids": [ids[-1], *ids[:99], ids[99]]})
    assert [item["id"] for item in response.json()] == sorted(ids[-1:] + ids[:99])


def test_fetch_returns_archived_contacts_asked_for(api, appleseed, owner):
    services.contact_archive(contact=appleseed, actor=owner)
    response = api.post("contacts/synchronization", {"ids": [appleseed.pk]})
    assert [item["archived"] for item in response.json()] == [True]


# --- notes --------------------------------------------------------------------------------------


def test_create_a_note(api, administration, owner, colleague, appleseed):
    """CreateANote."""
    response = api.post(
        f"contacts/{appleseed.pk}/notes.json",
        {"note": {"note": "Text of the note", "assignee_id": colleague.pk, "todo": True}},
    )
    assert response.status_code == 201
    note = Note.objects.get()
    body = response.json()
    assert body == {
        "id": str(note.pk),
        "administration_id": str(administration.pk),
        "entity_id": str(appleseed.pk),
        "entity_type": "Contact",
        "user_id": str(owner.pk),
        "assignee_id": str(colleague.pk),
        "todo": True,
        "note": "Text of the note",
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": "2026-08-21T13:48:37.645Z",
        "updated_at": "2026-08-21T13:48:37.645Z",
    }
    shown = api.get(f"contacts/{appleseed.pk}").json()
    assert shown["notes"] == [body]
    assert shown["events"][-1] == {
        "administration_id": str(administration.pk),
        "user_id": str(owner.pk),
        "action": "note_created",
        "link_entity_id": str(note.pk),
        "link_entity_type": "Note",
        "data": {"note": "Text of the note", "todo": True},
        "created_at": "2026-08-21T13:48:37.645Z",
        "updated_at": "2026-08-21T13:48:37.645Z",
    }


@pytest.mark.parametrize("text", ["", "   ", None])
def test_create_a_blank_note_is_422(api, appleseed, text):
    """ReturnsA422StatusWhenWrongParamsAreProvided (Uurwerk has no to-do types, so only the
    note is reported)."""
    response = api.post(f"contacts/{appleseed.pk}/notes", {"note": {"note": text}})
    assert response.status_code == 422
    assert response.json() == unprocessable(note=("blank", "can't be blank"))
    assert not Note.objects.exists()


def test_create_a_note_for_an_unknown_contact_is_404(api):
    """Moneybird's ReturnsA400StatusWhenAWrongContactIdIsProvided: Uurwerk answers an unknown
    contact as it answers every unknown id, 404."""
    response = api.post("contacts/34123123/notes", {"note": {"note": "x"}})
    assert response.status_code == 404
    assert response.json() == not_found("contact_id")


@pytest.mark.parametrize("body", [{}, {"note": None}, {"note": "Text"}])
def test_create_a_note_without_the_note_wrapper_is_400(api, appleseed, body):
    response = api.post(f"contacts/{appleseed.pk}/notes", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "param is missing or the value is empty: note",
        "symbolic": {"note": "missing"},
    }


def test_destroy_a_note(api, administration, owner, appleseed):
    note = NoteFactory(entity=appleseed, actor=owner)
    response = api.delete(f"contacts/{appleseed.pk}/notes/{note.pk}.json")
    assert response.status_code == 204
    assert response.content == b""
    assert not Note.objects.exists()
    shown = api.get(f"contacts/{appleseed.pk}").json()
    assert shown["notes"] == []
    assert [e["action"] for e in shown["events"]] == [
        "contact_created",
        "note_created",
        "note_destroyed",
    ]
    again = api.delete(f"contacts/{appleseed.pk}/notes/{note.pk}")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_destroy_a_note_through_another_contact_is_404(api, administration, owner, appleseed):
    other = make_contact(administration, owner, company_name="Other")
    note = NoteFactory(entity=appleseed, actor=owner)
    response = api.delete(f"contacts/{other.pk}/notes/{note.pk}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Note.objects.filter(pk=note.pk).exists()


def test_destroy_a_time_entry_note_through_a_contact_is_404(api, administration, owner, appleseed):
    entry = make_entry(administration, owner, NOW - timedelta(hours=2))
    note = NoteFactory(entity=entry, actor=owner)
    # Same number, other kind of record: a contact with the entry's id has no such note.
    response = api.delete(f"contacts/{entry.pk}/notes/{note.pk}")
    assert response.status_code == 404
    assert Note.objects.filter(pk=note.pk).exists()


# --- events -------------------------------------------------------------------------------------


def test_every_write_records_its_event(api, owner):
    response = api.post("contacts", {"contact": {"company_name": "Test B.V."}})
    contact_id = int(response.json()["id"])
    api.patch(f"contacts/{contact_id}", {"contact": {"city": "Gent", "email_ubl": False}})
    note_id = api.post(f"contacts/{contact_id}/notes", {"note": {"note": "Hi"}}).json()["id"]
    api.delete(f"contacts/{contact_id}/notes/{note_id}")
    api.patch(f"contacts/{contact_id}/archive")
    api.delete(f"contacts/{contact_id}")
    events = Event.objects.filter(entity_id=contact_id).order_by("id")
    assert [(e.action, e.user_id, e.subject_type) for e in events] == [
        ("contact_created", owner.pk, "Contact"),
        ("contact_changed", owner.pk, "Contact"),
        ("note_created", owner.pk, "Contact"),
        ("note_destroyed", owner.pk, "Contact"),
        ("contact_archived", owner.pk, "Contact"),
        ("contact_destroyed", owner.pk, "Contact"),
    ]
    assert events[1].data == {"city": ["", "Gent"], "email_ubl": [True, False]}
    assert not Contact.objects.exists()


def test_refused_writes_record_nothing(api, appleseed):
    before = snapshot()
    api.post("contacts", {"contact": {"phone": "1"}})
    api.patch(f"contacts/{appleseed.pk}", {"contact": {"email": "nope", "city": "Gent"}})
    api.post(f"contacts/{appleseed.pk}/notes", {"note": {"note": ""}})
    api.patch("contacts/34123123/archive")
    assert snapshot() == before


# --- scopes -------------------------------------------------------------------------------------


@pytest.fixture
def own(administration, owner):
    """A contact (customer id 1) with a note, in the token's own administration."""
    contact = make_contact(administration, owner, **APPLESEED)
    note = NoteFactory(entity=contact, actor=owner)
    return contact, note


def routes(contact, note, customer_id="1") -> list[tuple[str, str, str, Any, int]]:
    """(name, method, path, body, success status) for every contacts route."""
    c, n = contact.pk, note.pk
    return [
        ("list", "get", "contacts", None, 200),
        ("create", "post", "contacts", {"contact": {"company_name": "Routed"}}, 201),
        ("get", "get", f"contacts/{c}", None, 200),
        ("by_customer_id", "get", f"contacts/customer_id/{customer_id}", None, 200),
        ("sync_list", "get", "contacts/synchronization", None, 200),
        ("sync_fetch", "post", "contacts/synchronization", {"ids": [str(c)]}, 200),
        ("update", "patch", f"contacts/{c}", {"contact": {"city": "Hijack"}}, 200),
        ("note_create", "post", f"contacts/{c}/notes", {"note": {"note": "Hijack"}}, 201),
        ("note_delete", "delete", f"contacts/{c}/notes/{n}", None, 204),
        ("archive", "patch", f"contacts/{c}/archive", None, 204),
        ("delete", "delete", f"contacts/{c}", None, 204),
    ]


ROUTE_NAMES = [name for name, *_ in routes(SimpleNamespace(pk=1), SimpleNamespace(pk=2))]


def route(name, contact, note, **kwargs):
    return next(r for r in routes(contact, note, **kwargs) if r[0] == name)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_each_scope_reaches_every_route(make_api, administration, owner, own, scope, name):
    limited = make_api(administration, owner, scopes=(scope,))
    _, method, path, body, status = route(name, *own)
    response = call(limited, method, path, body)
    assert response.status_code == status, response.content


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_token_without_the_scopes_is_401(make_api, administration, owner, own, name):
    limited = make_api(administration, owner, scopes=("time_entries",))
    before = snapshot()
    _, method, path, body, _ = route(name, *own)
    response = call(limited, method, path, body)
    assert response.status_code == 401
    assert response.json() == NO_ACCESS
    assert snapshot() == before


@pytest.mark.parametrize("name", ["list", "create", "delete"])
def test_a_missing_token_is_401(administration, own, name):
    before = snapshot()
    _, method, path, body, _ = route(name, *own)
    client = SimpleNamespace(client=APIClient(), url=lambda p: f"/api/v2/{administration.pk}/{p}")
    response = call(client, method, path, body)
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided"}
    assert snapshot() == before


# --- tenants ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_another_administrations_url_is_404_on_every_route(api, foreign, name):
    before = snapshot()
    _, method, path, body, _ = route(name, foreign.contact, foreign.note, customer_id="F-1")
    response = call(api, method, f"/api/v2/{foreign.administration.pk}/{path}", body)
    assert response.status_code == 404
    assert response.json() == not_found("administration_id")
    assert snapshot() == before


FOREIGN_ID_ANSWERS = {
    "get": NOT_FOUND,
    "by_customer_id": not_found("customer_id"),
    "update": NOT_FOUND,
    "note_create": not_found("contact_id"),
    "note_delete": NOT_FOUND,
    "archive": NOT_FOUND,
    "delete": NOT_FOUND,
}


@pytest.mark.parametrize("name", list(FOREIGN_ID_ANSWERS))
def test_foreign_ids_under_own_administration_are_404_on_every_route(api, own, foreign, name):
    """Our administration in the URL, the other administration's contact (and note) ids."""
    before = snapshot()
    _, method, path, body, _ = route(name, foreign.contact, foreign.note, customer_id="F-1")
    response = call(api, method, path, body)
    assert response.status_code == 404
    assert response.json() == FOREIGN_ID_ANSWERS[name]
    assert snapshot() == before


def test_foreign_note_under_own_contact_is_404(api, own, foreign):
    before = snapshot()
    contact, _ = own
    response = api.delete(f"contacts/{contact.pk}/notes/{foreign.note.pk}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert snapshot() == before


def test_foreign_contacts_never_show(api, own, foreign):
    contact, _ = own
    params = {"include_archived": "true"}
    assert [i["id"] for i in api.get("contacts", params).json()] == [str(contact.pk)]
    assert [i["id"] for i in api.get("contacts", {"query": "Foreign"}).json()] == []
    sync = api.get("contacts/synchronization", params).json()
    assert [i["id"] for i in sync] == [str(contact.pk)]
    fetched = api.post("contacts/synchronization", {"ids": [foreign.contact.pk]}).json()
    assert fetched == []


def test_foreign_contact_stays_as_it_was(api, foreign):
    """After a round of foreign calls on every route, the foreign contact renders unchanged to
    its own administration."""
    theirs = TokenFactory(user=foreign.owner)
    own_view = APIClient()
    own_view.credentials(HTTP_AUTHORIZATION=f"Bearer {theirs.secret}")
    url = f"/api/v2/{foreign.administration.pk}/contacts/{foreign.contact.pk}"
    before = own_view.get(url).json()
    for _, method, path, body, _ in routes(foreign.contact, foreign.note, customer_id="F-1"):
        call(api, method, path, body)
    assert own_view.get(url).json() == before


def test_a_note_assigned_to_another_administrations_user_is_404(api, own, foreign):
    before = snapshot()
    contact, _ = own
    response = api.post(
        f"contacts/{contact.pk}/notes",
        {"note": {"note": "Do this", "todo": True, "assignee_id": foreign.owner.pk}},
    )
    assert response.status_code == 404
    assert response.json() == not_found("assignee_id")
    assert snapshot() == before
