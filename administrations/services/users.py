"""Writes for user accounts: found or created by email, and the admin's edits."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from administrations.models import User
from administrations.services.base import _blank
from common.diff import apply_diff
from common.exceptions import ValidationFailed
from notes.services import event_record

# --- users and administrations ---------------------------------------------------------------


@transaction.atomic
def user_get_or_create(
    *, email: str, name: str = "", password: str | None = None, actor: User | None = None
) -> tuple[User, bool]:
    """The user with this email, or a new one (recorded as `user_created`, in no
    administration: a person exists apart from any membership). An existing user is left as
    it is."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed.single("email", "invalid", "is not a valid email address") from None
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User(email=email, name=name.strip())
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(force_insert=True)
    event_record(
        administration=None,
        actor=actor,
        action="user_created",
        entity=user,
        # The password, if any, is never recorded, not even hashed.
        data={"email": user.email, "name": user.name},
    )
    return user, True


# --- user accounts (the admin's edits) ------------------------------------------------------

USER_FIELDS = ("name", "is_staff", "is_superuser", "is_active", "password")


@transaction.atomic
def user_update(*, user: User, actor: User | None, changes: dict[str, Any]) -> User:
    """Change a person's name, flags or password. A user belongs to no one administration, so
    the event has none; a password is recorded as changed, never with its value."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from common.exceptions import FieldError

    current = User.objects.select_for_update().get(pk=user.pk)
    diff: dict[str, list[Any]] = {}
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in USER_FIELDS:
            raise ValidationFailed.single(field, "unknown", "is not a field you can change")
        if field == "password":
            if not value:
                raise _blank("password")
            try:
                validate_password(value, current)
            except ValidationError as exc:
                raise ValidationFailed(
                    {"password": [FieldError("invalid", m) for m in exc.messages]}
                ) from None
            current.set_password(value)
            diff["password"] = ["[FILTERED]", "[FILTERED]"]
            continue
        values[field] = (value or "").strip() if field == "name" else bool(value)
    diff.update(apply_diff(current, values))
    if diff:
        current.save()
        event_record(
            administration=None, actor=actor, action="user_updated", entity=current, data=diff
        )
    return current
