"""What the administrations commands share: turning service errors and bad arguments into a
CommandError (a message on stderr and exit status 1, never a traceback) and resolving the
administration and user named on the command line."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from administrations.models import Administration, User
from common.exceptions import NotFound, ValidationFailed
from common.ids import parse_id


def _describe(field: str, message: str) -> str:
    return message if field == "base" else f"{field}: {message}"


@contextmanager
def service_errors() -> Iterator[None]:
    """Run service calls; their ValidationFailed / NotFound become one CommandError naming every
    field and message."""
    try:
        yield
    except ValidationFailed as exc:
        raise CommandError(
            "; ".join(
                _describe(field, error.message)
                for field, errors in exc.errors.items()
                for error in errors
            )
        ) from None
    except NotFound as exc:
        raise CommandError(_describe(exc.field, exc.message)) from None


def administration_get(value: object, *, field: str = "administration_id") -> Administration:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise CommandError(f"{field}: {value!r} is not a number") from None
    pk = parse_id(number)
    administration = Administration.objects.filter(pk=pk).first() if pk is not None else None
    if administration is None:
        raise CommandError(f"{field}: no administration with id {value}")
    return administration


def email_clean(value: object, *, field: str = "email") -> str:
    """The address, stripped and lower-cased, checked as user_get_or_create checks it (Django's
    validate_email); checked here first so that the error names the option (--owner, ...) and
    quotes the address as typed."""
    email = str(value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise CommandError(f"{field}: {value!r} is not a valid email address") from None
    return email


def user_get(email: object, *, field: str = "email") -> User:
    address = email_clean(email, field=field)
    user = User.objects.filter(email=address).first()
    if user is None:
        raise CommandError(f"{field}: no user with email {address} (add one with add_member)")
    return user
