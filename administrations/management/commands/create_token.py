"""Create an API token for a user and print its secret, alone on stdout: it is stored only as
a hash and cannot be shown again."""

from django.core.management.base import BaseCommand

from administrations.management.base import administration_get, service_errors, user_get
from administrations.services import DEFAULT_SCOPES, KNOWN_SCOPES, token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--scopes",
            default=",".join(DEFAULT_SCOPES),
            help=f"comma-separated, from: {', '.join(sorted(KNOWN_SCOPES))} "
            f"(default {','.join(DEFAULT_SCOPES)})",
        )
        parser.add_argument("--name", default="", help="a label for the token")
        parser.add_argument(
            "--administration", metavar="ID", help="restrict the token to this administration"
        )

    def handle(self, *args, email, scopes, name, administration, **options):
        user = user_get(email)
        target = administration_get(administration) if administration is not None else None
        if isinstance(scopes, str):
            scopes = scopes.split(",")
        scope_list = [s.strip() for s in scopes if s.strip()]
        with service_errors():
            _, secret = token_create(
                user=user, scopes=scope_list, name=name or "", administration=target
            )
        if target is None and not user.memberships.exists():
            self.stderr.write(
                f"{user.email} is not a member of any administration yet: "
                "the token reaches nothing until they are added"
            )
        self.stdout.write(secret)
