"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for every POST, PATCH and DELETE
of both dialects, in one place: IdempotentViewMixin, under each dialect's base view.

A request with the header runs in one transaction that also inserts the key's row with the
answer, so the key exists exactly when the write does. A repeat (same user, administration and
key; same method, path and body) gets the stored answer with `Idempotent-Replayed: true` and
writes nothing; the same key with another method, path or body is a 422. Two at once: the second
insert of the key waits on the unique index for the first transaction; on PostgreSQL only
briefly (lock_timeout), then it is a 409 to retry; on SQLite a write transaction excludes the
other writers anyway. Answers that are not the outcome of the write (401, 403, 429, 5xx) are not
stored, so the request can be retried with the same key. Keys expire after
IDEMPOTENCY_KEY_TTL_HOURS; prune_idempotency_keys deletes them."""

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from common.exceptions import BadRequest, Conflict, ValidationFailed
from common.ids import new_id

HEADER = "Idempotency-Key"
UNSAFE = ("POST", "PATCH", "PUT", "DELETE")
# Answers a retry may change: not the outcome of the write, so never stored.
NOT_STORED = (401, 403, 429)
# Headers a replay repeats.
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")
# How long a repeat waits for the first request (PostgreSQL) before it is told 409.
WAIT = "200ms"
# SQLite: how long a claim of a request that never finished (its process died) blocks its key.
CLAIM_LEASE = timedelta(minutes=5)
# SQLite: the status of a claimed key whose request is still running.
IN_PROGRESS = 0


def _model():
    # The table belongs to the idempotency app; common imports no app, so it is looked up.
    return apps.get_model("idempotency", "IdempotencyKey")


def ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None or request.method not in UNSAFE:
        return None
    if not 1 <= len(key) <= 255 or not (key.isascii() and key.isprintable()):
        raise BadRequest(
            f"{HEADER} must be 1 to 255 printable ASCII characters", field=HEADER, code="invalid"
        )
    return key


def _claim(row: Any) -> Any:
    """Insert `row` unless the key is taken: None when inserted, else the row that has it. A
    concurrent first request holds the unique index entry until it ends: wait for it briefly,
    then Conflict."""
    _model().objects.filter(
        user_id=row.user_id,
        administration_id=row.administration_id,
        key=row.key,
        created_at__lt=timezone.now() - ttl(),
    ).delete()
    postgres = connection.vendor == "postgresql"
    try:
        with transaction.atomic():
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{WAIT}'")
            _model().objects.bulk_create([row], ignore_conflicts=True)
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    except OperationalError:
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry later", field=HEADER
        ) from None
    found = _model().objects.get(
        user_id=row.user_id, administration_id=row.administration_id, key=row.key
    )
    return None if found.pk == row.pk else found


def _in_progress() -> Conflict:
    return Conflict(
        f"A request with this {HEADER} is still being processed; retry later", field=HEADER
    )


def _claim_sqlite(row: Any) -> Any:
    """SQLite has one writer at a time: a repeat could not even begin its transaction (it waits
    for the write lock) while the first request runs, and would only see the finished answer.
    So the key is claimed first in a short transaction of its own (status IN_PROGRESS), which a
    repeat reads without taking the write lock, and the write's own transaction then stores the
    answer in that row: the answer is still stored with the write, or not at all. A claim whose
    request died holds the key for CLAIM_LEASE. None when claimed, else the row that has it."""
    model = _model()
    mine = {"user_id": row.user_id, "administration_id": row.administration_id, "key": row.key}
    found = model.objects.filter(**mine).first()
    now = timezone.now()
    if found is not None and found.status == IN_PROGRESS and found.created_at >= now - CLAIM_LEASE:
        raise _in_progress()
    with transaction.atomic():
        model.objects.filter(**mine, created_at__lt=now - ttl()).delete()
        model.objects.filter(**mine, status=IN_PROGRESS, created_at__lt=now - CLAIM_LEASE).delete()
        model.objects.bulk_create([row], ignore_conflicts=True)
        found = model.objects.get(**mine)
    if found.pk == row.pk:
        return None
    if found.status == IN_PROGRESS:
        raise _in_progress()
    return found


def _forget_itself(response: Response) -> None:
    # Response.rendered_content puts the response itself into its renderer context.
    context = getattr(response, "renderer_context", None)  # set by finalize_response
    if context is not None:
        context.pop("response", None)


def _replay(stored: Any) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status)
    for name, value in stored.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


if TYPE_CHECKING:  # the mixin's super() is the APIView it is mixed into
    from rest_framework.views import APIView as _ViewBase
else:
    _ViewBase = object


class IdempotentViewMixin(_ViewBase):
    """For a dialect's base view (an APIView that sets `self.administration` in initial)."""

    administration: Any  # the tenant app's Administration (common.tenancy), or None

    def dispatch(self, request, *args: Any, **kwargs: Any):
        # DRF's APIView.dispatch, with the handler of a keyed unsafe request run by _idempotent.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        # Read before anything parses the body (it is a stream only read once).
        self._body_hash = (
            hashlib.sha256(request._request.body).hexdigest()
            if request.method in UNSAFE and HEADER in request.headers
            else ""
        )
        try:
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            key = _key(request)
            administration = getattr(self, "administration", None)
            if key is None or administration is None:
                response = handler(request, *args, **kwargs)
            else:
                response = self._idempotent(key, administration, handler, request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        # Unlike DRF's dispatch, the response is not kept on the view (see finalize_response).
        return self.finalize_response(request, response, *args, **kwargs)

    def finalize_response(self, request, response, *args: Any, **kwargs: Any):
        # DRF's response keeps itself in its renderer context once rendered. Either that or the
        # view keeping it puts the response, and all it holds (a page, a report), in a
        # reference cycle, which only the cyclic collector frees, long after the response was
        # sent; freed when it is sent, a large response no longer adds to the next one's memory.
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and not response.is_rendered:
            response.add_post_render_callback(_forget_itself)
        return response

    def _idempotent(
        self,
        key: str,
        administration: Any,
        handler,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ):
        row = _model()(
            id=new_id(),
            # initial() has authenticated the request: there is a user.
            user_id=request.user.pk,
            administration_id=administration.pk,
            key=key,
            method=str(request.method),
            path=request.get_full_path(),
            body_hash=self._body_hash,
            status=0,
        )
        if connection.vendor == "sqlite":
            row.status = IN_PROGRESS
            stored = _claim_sqlite(row)
            if stored is None:
                try:
                    return self._write(row, handler, request, *args, **kwargs)
                finally:
                    # Unless the write stored its answer in the claim, free the key for a retry.
                    _model().objects.filter(pk=row.pk, status=IN_PROGRESS).delete()
            return self._check_and_replay(row, stored)
        with transaction.atomic():
            stored = _claim(row)
            if stored is not None:
                return self._check_and_replay(row, stored)
            return self._run(row, handler, request, *args, **kwargs)

    def _write(self, row: Any, handler, request: Request, *args: Any, **kwargs: Any):
        with transaction.atomic():
            return self._run(row, handler, request, *args, **kwargs)

    def _check_and_replay(self, row: Any, stored: Any) -> HttpResponse:
        if (stored.method, stored.path, stored.body_hash) != (row.method, row.path, row.body_hash):
            raise ValidationFailed.single(
                HEADER, "reused", "was already used for another request (method, path or body)"
            )
        return _replay(stored)

    def _run(self, row: Any, handler, request: Request, *args: Any, **kwargs: Any):
        """The handler and its stored answer, inside the caller's transaction."""
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        if response.status_code in NOT_STORED or response.status_code >= 500:
            # Roll back whatever the handler wrote along with the key: a retry runs anew.
            transaction.set_rollback(True)
            return response
        response = self.finalize_response(request, response, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse):  # not an answer rendered already
            response.render()
        row.status = response.status_code
        row.body = response.content
        row.headers = {
            name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
        }
        row.save(update_fields=["status", "body", "headers"])
        return response


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    # What _key checks: printable ASCII, 1 to 255 characters.
    {"type": "string", "pattern": "^[ -~]{1,255}$"},
    OpenApiParameter.HEADER,
    description="1-255 printable characters naming this request: a repeat within "
    "IDEMPOTENCY_KEY_TTL_HOURS (24) gets the first answer again with `Idempotent-Replayed: true` "
    "and writes nothing; the same key with another method, path or body is a 422; while the "
    "first is still running, a 409.",
)
