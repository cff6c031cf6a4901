"""Optimistic concurrency: ``ETag: "<version>"`` out, ``If-Match`` in, 409 when stale."""

import re

from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.api.errors import InvalidParameter
from kizuna.core import records

_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def etag(obj) -> str:
    return f'"{obj.version}"'


def expected_version(request, body_version: int | None = None) -> int | None:
    """The version the client last read: ``If-Match`` or the body's ``version``."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return body_version
    match = _ETAG_RE.match(header)
    if match is None:
        raise InvalidParameter("header", "If-Match", _("Send the ETag of the record, e.g. “3”."))
    version = int(match.group(1))
    if body_version is not None and body_version != version:
        raise InvalidParameter(
            "header", "If-Match", _("If-Match and the version in the body differ.")
        )
    return version


@transaction.atomic
def delete_checked(*, actor, obj, version: int | None, delete) -> None:
    """Delete through the service ``delete`` unless the record changed since ``version``."""
    locked = records.lock(type(obj), obj.pk)
    records.require_edit(actor, locked)
    records.check_version(locked, version)
    delete(actor=actor, **{locked.access_object_type: locked})


# The OpenAPI description of the header, for operations that take it.
IF_MATCH = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": 'The ETag of the record as read, e.g. "3"; 409 when it changed since.',
        }
    ]
}
