"""Error bodies: every error is JSON with a ``detail``.

Field errors use ninja's own 422 shape, so that a client handles a wrong type
caught by the schema and a rule broken in a service the same way::

    {"detail": [{"loc": ["body", "name"], "msg": "...", "type": "validation_error"}]}
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from kizuna.core.records import ConflictError


class InvalidParameter(Exception):
    """A query parameter or header the schema could not check (cursor, If-Match …)."""

    def __init__(self, source: str, name: str, message: str):
        super().__init__(message)
        self.loc = [source, name]
        self.message = message


def field_errors(exc: DjangoValidationError, source: str = "body") -> list[dict]:
    """A Django ValidationError as ninja's list of errors; ``a.b`` keys become nested locs."""
    if not hasattr(exc, "error_dict"):
        return [{"loc": [source], "msg": m, "type": "validation_error"} for m in exc.messages]
    errors: list[dict[str, Any]] = []
    for field, messages in exc.message_dict.items():
        loc = [source] if field == "__all__" else [source, *field.split(".")]
        errors.extend({"loc": loc, "msg": m, "type": "validation_error"} for m in messages)
    return errors


def _loc(loc) -> list:
    # ninja names the body parameter ("body", "payload", "name"); a service
    # error says ("body", "name"), and clients should see one form.
    loc = list(loc)
    if loc[:2] == ["body", "payload"]:
        del loc[1]
    return loc


def _schema_errors(errors: list[dict]) -> list[dict]:
    # Pydantic's messages are English only; the common "missing" one is
    # Django's, so that it comes back in the user's language.
    required = _("This field is required.")
    return [
        {
            "loc": _loc(e.get("loc", [])),
            "msg": required if e.get("type") == "missing" else e.get("msg", ""),
            "type": e.get("type", "validation_error"),
        }
        for e in errors
    ]


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request, exc):
        return api.create_response(request, {"detail": field_errors(exc)}, status=422)

    @api.exception_handler(ValidationError)
    def schema_validation_error(request, exc):
        return api.create_response(request, {"detail": _schema_errors(exc.errors)}, status=422)

    @api.exception_handler(InvalidParameter)
    def invalid_parameter(request, exc):
        error = {"loc": exc.loc, "msg": exc.message, "type": "validation_error"}
        return api.create_response(request, {"detail": [error]}, status=422)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        message = str(exc) or _("You may not change this record.")
        return api.create_response(request, {"detail": message}, status=403)

    @api.exception_handler(ConflictError)
    def conflict(request, exc):
        body = {
            "detail": _("The record was changed by someone else; reload it and try again."),
            "current_version": exc.current_version,
        }
        response = api.create_response(request, body, status=409)
        response["ETag"] = f'"{exc.current_version}"'
        return response

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        message = exc.message
        if message == "Unauthorized":
            message = _("Authentication required: send the header “Authorization: Bearer <token>”.")
        response = api.create_response(request, {"detail": message}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="kizuna"'
        return response
