"""Add a user (created when the email is new) to an administration and print the user id."""

from django.core.management.base import BaseCommand

from administrations.management.base import administration_get, email_clean, service_errors
from administrations.models import Membership, User
from administrations.services import member_add


class Command(BaseCommand):
    help = "Add a member to an administration (creating the user if needed); print the user id."

    def add_arguments(self, parser):
        parser.add_argument("administration_id")
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="name for a new user")
        parser.add_argument(
            "--role", default=Membership.Role.MEMBER, help="owner, admin or member (default)"
        )
        parser.add_argument("--password", default=None, help="password for a new user")

    def handle(self, *args, administration_id, email, name, role, password, **options):
        administration = administration_get(administration_id)
        address = email_clean(email)
        existing = User.objects.filter(email=address).first()
        with service_errors():
            membership = member_add(
                administration=administration,
                actor=None,
                email=address,
                name=name or "",
                role=role,
                password=password or None,
            )
        if existing is not None and ((name and name.strip() != existing.name) or password):
            # user_get_or_create leaves an existing user as it is: say so rather than pretend.
            self.stderr.write(f"{address} already exists: --name and --password were not applied")
        self.stdout.write(str(membership.user_id))
