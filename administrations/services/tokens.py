"""Writes for API tokens and OAuth applications."""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from administrations.models import Administration, ApiToken, User
from administrations.services.base import _blank
from common.auth import DEFAULT_SCOPES, KNOWN_SCOPES, generate_token, hash_token
from common.exceptions import FieldError, ValidationFailed
from notes.services import event_record


@transaction.atomic
def token_create(
    *,
    user: User,
    actor: User | None = None,
    scopes: list[str] | tuple[str, ...] = DEFAULT_SCOPES,
    name: str = "",
    administration: Administration | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is not stored and cannot be shown again."""
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise ValidationFailed.single(
            "scopes", "inclusion", f"unknown scope(s): {', '.join(unknown)}"
        )
    if not scopes:
        raise _blank("scopes")
    if (
        administration is not None
        and not user.memberships.filter(administration=administration).exists()
    ):
        raise ValidationFailed.single(
            "administration", "invalid", "the user is not a member of this administration"
        )
    secret = generate_token()
    token = ApiToken.objects.create(
        user=user,
        administration=administration,
        name=name,
        key_hash=hash_token(secret),
        prefix=secret[:8],
        scopes=sorted(set(scopes)),
    )
    _token_event(
        token, "access_token_created", actor or user, {"name": name, "scopes": token.scopes}
    )
    return token, secret


def _token_event(token: ApiToken, action: str, actor: User | None, data: dict[str, Any]) -> None:
    """One event in each administration the token reaches; a user of none still gets one."""
    memberships = token.user.memberships.select_related("administration")
    if token.administration_id is not None:
        memberships = memberships.filter(administration_id=token.administration_id)
    administrations: list[Administration | None] = [m.administration for m in memberships]
    administrations = administrations or [None]
    for administration in administrations:
        event_record(
            administration=administration,
            actor=actor,
            action=action,
            entity=token.user,
            link=token,
            data=data,
        )


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _token_event(token, "access_token_revoked", actor, {"name": token.name})
    return token


# --- OAuth applications (the operators' registrations) --------------------------------------

if TYPE_CHECKING:
    from oauth2_provider.models import AbstractApplication


@transaction.atomic
def oauth_application_create(
    *,
    name: str,
    redirect_uris: list[str] | tuple[str, ...],
    confidential: bool = False,
    actor: User | None = None,
) -> tuple["AbstractApplication", str | None]:
    """Register an OAuth2 client for the authorization-code flow (PKCE is required of public
    clients). Returns the application and, for a confidential client, its secret: only a hash is
    stored, so this is the one time it can be shown. An application belongs to no administration
    (its users' consent decides what it reaches): its `oauth_application_created` event is in
    none, like a user's."""
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_application_model

    name = (name or "").strip()
    if not name:
        raise _blank("name")
    uris = [uri.strip() for uri in redirect_uris if uri and uri.strip()]
    if not uris:
        raise _blank("redirect_uris")
    model = get_application_model()
    # A public client is never told its secret: it identifies itself by client_id and PKCE.
    secret = generate_client_secret()
    application = model(
        name=name,
        redirect_uris=" ".join(uris),
        client_type=model.CLIENT_CONFIDENTIAL if confidential else model.CLIENT_PUBLIC,
        authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
    )
    try:
        application.full_clean(exclude=["user"])
    except DjangoValidationError as exc:
        raise ValidationFailed(
            {
                field: [FieldError("invalid", message) for message in messages]
                for field, messages in exc.message_dict.items()
            }
        ) from None
    application.save()
    event_record(
        administration=None,
        actor=actor,
        action="oauth_application_created",
        entity=_OAuthApplicationSubject(application.pk),
        data={
            "name": application.name,
            "client_id": application.client_id,
            "client_type": application.client_type,
            "redirect_uris": uris,
        },
    )
    return application, secret if confidential else None


class _OAuthApplicationSubject:
    """django-oauth-toolkit's Application, as an event addresses it (it has no entity_type)."""

    entity_type = "OAuthApplication"

    def __init__(self, pk: int):
        self.pk = pk
