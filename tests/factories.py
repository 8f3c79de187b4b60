"""Factories that build state through the services, so test data carries its events exactly
as real data does."""

from datetime import UTC, datetime, timedelta

import factory

from administrations import services as admin_services
from administrations.models import Administration, ApiToken, Contact, Membership, Project
from invoices import services as invoice_services
from invoices.models import SalesInvoice
from notes import services as note_services
from notes.models import Note
from timeentries import services as time_entry_services
from timeentries.models import TimeEntry


class ServiceFactory(factory.Factory):
    """factory_boy front for a service function: `_create` calls the service."""

    class Meta:
        abstract = True

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("build through the services: use create()")


class AdministrationFactory(ServiceFactory):
    class Meta:
        model = Administration

    name = factory.Sequence(lambda n: f"Administration {n}")
    time_zone = "Europe/Amsterdam"
    currency = "EUR"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return admin_services.administration_create(**kwargs)


class MembershipFactory(ServiceFactory):
    class Meta:
        model = Membership

    administration = factory.SubFactory(AdministrationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "member"
    password = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return admin_services.member_add(actor=None, **kwargs)


def member(administration: Administration, **kwargs):
    """A user who belongs to `administration`."""
    return MembershipFactory(administration=administration, **kwargs).user


class TokenFactory(ServiceFactory):
    """Creates a token; the secret is on `token.secret` (it is stored only as a hash)."""

    class Meta:
        model = ApiToken

    user = None
    scopes = ("time_entries", "settings", "sales_invoices")
    name = "test"
    administration = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        token, secret = admin_services.token_create(**kwargs)
        token.secret = secret
        return token


class ContactFactory(ServiceFactory):
    class Meta:
        model = Contact

    administration = factory.SubFactory(AdministrationFactory)
    company_name = factory.Sequence(lambda n: f"Company {n} B.V.")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return admin_services.contact_create(actor=None, **kwargs)


class ProjectFactory(ServiceFactory):
    class Meta:
        model = Project

    administration = factory.SubFactory(AdministrationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return admin_services.project_create(actor=None, **kwargs)


class TimeEntryFactory(ServiceFactory):
    class Meta:
        model = TimeEntry

    administration = factory.SubFactory(AdministrationFactory)
    actor = None
    user_id = None
    started_at = factory.LazyFunction(
        lambda: datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    )
    ended_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=1))
    description = factory.Sequence(lambda n: f"Work item {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        if kwargs.get("user_id") is None and kwargs.get("actor") is None:
            kwargs["user_id"] = member(kwargs["administration"]).pk
        return time_entry_services.time_entry_create(**kwargs)


class NoteFactory(ServiceFactory):
    class Meta:
        model = Note

    administration = None
    entity = None
    actor = None
    note = factory.Sequence(lambda n: f"Note {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        kwargs["administration"] = kwargs["administration"] or kwargs["entity"].administration
        return note_services.note_create(**kwargs)


class SalesInvoiceFactory(ServiceFactory):
    """A draft invoice for a new contact; pass state="open" with an invoice_id for a sent one."""

    class Meta:
        model = SalesInvoice

    administration = factory.SubFactory(AdministrationFactory)
    actor = None
    contact_id = factory.LazyAttribute(lambda o: ContactFactory(administration=o.administration).pk)
    invoice_id = None
    state = "draft"
    invoice_date = None
    due_date = factory.LazyFunction(lambda: datetime.now(UTC).date() + timedelta(days=14))

    @classmethod
    def _create(cls, model_class, **kwargs):
        return invoice_services.sales_invoice_create(**kwargs)
