"""Cursor pagination for every list: ``?limit=`` and an opaque ``?cursor=``.

A list is ordered by id, and the cursor holds the last id of the page, so a
page never repeats or skips a record when others are added meanwhile.
"""

import base64
import binascii
import json

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema

from kizuna.api.errors import InvalidParameter
from kizuna.core.queries import first_rows

DEFAULT_LIMIT = 50


class PageQuery(Schema):
    limit: int | None = None
    cursor: str | None = None


def page_schema(item: type[Schema]) -> type[Schema]:
    """``{"items": [...], "next_cursor": ...}`` of ``item``, named after it."""
    name = item.__name__.removesuffix("Out") + "Page"
    return type(
        name,
        (Schema,),
        {
            "__annotations__": {"items": list[item], "next_cursor": str | None},  # type: ignore[valid-type]
            "__module__": item.__module__,
        },
    )


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"id": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        last_id = data["id"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        last_id = None
    if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 <= last_id < 2**63:
        raise InvalidParameter("query", "cursor", _("This cursor is not valid."))
    return last_id


def clean_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    maximum = settings.KIZUNA_API_MAX_PAGE_SIZE
    if not 1 <= limit <= maximum:
        raise InvalidParameter(
            "query",
            "limit",
            _("Ensure this value is between %(min)d and %(max)d.") % {"min": 1, "max": maximum},
        )
    return limit


def paginate(queryset: QuerySet, page: PageQuery) -> dict:
    limit = clean_limit(page.limit)
    queryset = queryset.order_by("pk")
    if page.cursor:
        queryset = queryset.filter(pk__gt=decode_cursor(page.cursor))
    if queryset.query.select_related:
        items = first_rows(queryset, limit + 1)
    else:
        items = list(queryset[: limit + 1])
    next_cursor = encode_cursor(items[limit - 1].pk) if len(items) > limit else None
    return {"items": items[:limit], "next_cursor": next_cursor}
