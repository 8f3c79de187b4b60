"""Register an OAuth2 application (authorization code + PKCE) and print its client_id, and its
secret for a confidential client: the secret is stored only as a hash and cannot be shown
again."""

from django.core.management.base import BaseCommand

from administrations.management.base import service_errors
from administrations.services import oauth_application_create


class Command(BaseCommand):
    help = "Register an OAuth2 application and print its client_id (and secret, shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="shown to users on the consent page")
        parser.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="append",
            required=True,
            metavar="URI",
            help="where users return with the code (repeat for more than one)",
        )
        parser.add_argument(
            "--confidential",
            action="store_true",
            help="a server-side client that can keep a secret (default: public, PKCE required)",
        )

    def handle(self, *args, name, redirect_uris, confidential, **options):
        with service_errors():
            application, secret = oauth_application_create(
                name=name, redirect_uris=redirect_uris, confidential=confidential
            )
        self.stdout.write(f"client_id: {application.client_id}")
        if secret is not None:
            self.stdout.write(f"client_secret: {secret}")
            self.stderr.write("The secret is stored only as a hash: keep it now.")
