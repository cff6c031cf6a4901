"""Idempotency keys on creates: a repeated ``Idempotency-Key`` replays the first answer.

The create and the key row are written in one transaction, so of two requests
racing with the same key only one record survives: the loser's insert of the
key fails, its create rolls back, and it replays the winner's answer.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from kizuna.api.errors import InvalidParameter
from kizuna.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def _body_hash(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    request,
    create: Callable[[], tuple[int, dict[str, Any]]],
    respond: Callable[[int, dict[str, Any]], HttpResponse],
) -> HttpResponse:
    """Run ``create`` once per key; ``respond`` turns its (status, data) into a response."""
    key = request.headers.get(HEADER)
    if key is None:
        return respond(*create())
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidParameter(
            "header",
            HEADER,
            _("An idempotency key has 1 to %(max)d characters.") % {"max": MAX_KEY_LENGTH},
        )
    lookup = {
        "user": request.auth,
        "key": key,
        "endpoint": f"{request.method} {request.path}"[:200],
    }
    digest = _body_hash(request.body)
    try:
        with transaction.atomic():
            stored = IdempotencyKey.objects.select_for_update().filter(**lookup).first()
            if stored is None:
                status, data = create()
                IdempotencyKey.objects.create(
                    **lookup, request_hash=digest, status_code=status, response=data
                )
                return respond(status, data)
    except IntegrityError:
        stored = IdempotencyKey.objects.filter(**lookup).first()
        if stored is None:
            raise
    if stored.request_hash != digest:
        raise InvalidParameter(
            "header",
            HEADER,
            _("This idempotency key was already used with a different request body."),
        )
    response = respond(stored.status_code, stored.response)
    response["Idempotent-Replayed"] = "true"
    return response


# The OpenAPI description of the header, for operations that take it.
IDEMPOTENCY_KEY = {
    "parameters": [
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
            "description": "Repeating a request with the same key and body replays the first "
            "answer instead of creating again; the same key with another body is refused.",
        }
    ]
}
