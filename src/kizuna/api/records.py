"""What the record routers share: turning ids into records, answering with an ETag."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.responses import NinjaJSONEncoder, Response

from kizuna.api.concurrency import etag
from kizuna.api.errors import InvalidParameter
from kizuna.core import customfields
from kizuna.iam.selectors import team_list, user_list


def _blank_nulls(model: type[models.Model], data: dict[str, Any]) -> None:
    # A null text field means "clear it"; text columns store "" for empty.
    for name, value in data.items():
        if value is not None:
            continue
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 (custom_fields, tags, emails …)
            continue
        if isinstance(field, models.CharField | models.TextField) and not field.null:
            data[name] = ""


def write_args(
    model: type[models.Model],
    data: dict[str, Any],
    related: dict[str, models.QuerySet] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a service from a request body.

    Ids in ``related`` fields become records of the given (access-gated)
    querysets; an id that does not exist and one the user may not see get the
    same error. ``owner`` and ``team`` come from the user and team lists.
    """
    data = dict(data)
    related = {"owner": user_list(), "team": team_list(), **(related or {})}
    for field in ("owner", "team"):
        if data.get(field, 0) is None:
            del data[field]
    errors: dict[str, list[str]] = {}
    for field, queryset in related.items():
        if data.get(field) is None:
            continue
        obj = queryset.filter(pk=data[field]).first()
        if obj is None:
            errors[field] = [_("Choose a record you have access to.")]
        data[field] = obj
    if errors:
        raise ValidationError(errors)
    _blank_nulls(model, data)
    return data


def many(queryset: models.QuerySet, ids: list[int] | None, field: str) -> list | None:
    """Records for a list of ids, all of which the user must be able to see."""
    if ids is None:
        return None
    found = list(queryset.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({field: [_("Choose a record you have access to.")]})
    return found


def dump(schema: type[Schema], obj) -> dict[str, Any]:
    """``obj`` as JSON-ready data, encoded exactly as ninja encodes a response."""
    return json.loads(json.dumps(schema.from_orm(obj).model_dump(), cls=NinjaJSONEncoder))


def respond(status: int, data: dict[str, Any]) -> HttpResponse:
    response = Response(data, status=status)
    if "version" in data:
        response["ETag"] = f'"{data["version"]}"'
    return response


def with_etag(response: HttpResponse, obj):
    response["ETag"] = etag(obj)
    return obj


def custom_filters(request, object_type: str):
    """The ``cf_<key>`` query parameters, checked against the field definitions."""
    values = {
        name[len(customfields.FORM_PREFIX) :]: value
        for name, value in request.GET.items()
        if name.startswith(customfields.FORM_PREFIX) and value != ""
    }
    if values:
        try:
            customfields.clean_values(object_type, values)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in values:
                    raise InvalidParameter(
                        "query", customfields.FORM_PREFIX + key, messages[0]
                    ) from exc
    return request.GET
