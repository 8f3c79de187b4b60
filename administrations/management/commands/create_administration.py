"""Create an administration (optionally with its owner) and print its id, alone on stdout."""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from administrations.management.base import email_clean, service_errors
from administrations.services import administration_create, member_add

# administration_create checks every attribute (and upper-cases the country); this check comes
# first only so that the message quotes the code as it was typed.
_COUNTRY = re.compile(r"[A-Za-z]{2}")


class Command(BaseCommand):
    help = "Create an administration and print its id."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code (default EUR)")
        parser.add_argument("--time-zone", default="Europe/Amsterdam", help="IANA time zone")
        parser.add_argument("--language", default="nl")
        parser.add_argument("--country", default="NL", help="ISO 3166 two-letter code")
        parser.add_argument("--owner", metavar="EMAIL", help="add this user (created if needed)")
        parser.add_argument(
            "--prevent-overlapping-entries",
            action="store_true",
            help="refuse time entries that overlap another entry of the same person",
        )

    def handle(self, *args, name, currency, time_zone, language, country, owner, **options):
        prevent_overlaps = options["prevent_overlapping_entries"]
        if not _COUNTRY.fullmatch(country or ""):
            raise CommandError(f"country: {country!r} is not a two-letter country code")
        owner_email = email_clean(owner, field="owner") if owner is not None else None
        # One transaction around both services: a refused owner leaves no administration behind.
        with service_errors(), transaction.atomic():
            administration = administration_create(
                name=name,
                currency=currency,
                time_zone=time_zone,
                language=language,
                country=country,
                prevent_overlapping_entries=prevent_overlaps,
            )
            if owner_email is not None:
                member_add(
                    administration=administration, actor=None, email=owner_email, role="owner"
                )
        self.stdout.write(str(administration.pk))
