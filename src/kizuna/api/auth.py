"""Token authentication: ``Authorization: Bearer kz_…``."""

from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from kizuna.core.middleware import activate_preferences
from kizuna.iam.selectors import user_for_token


class TokenAuth(HttpBearer):
    """Resolves a personal API token and acts in its user's language and time zone."""

    def __call__(self, request):
        header = request.headers.get(self.header)
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme.lower() != self.openapi_scheme or not key.strip():
            raise AuthenticationError(
                message=_("Malformed Authorization header: expected “Bearer <token>”.")
            )
        return self.authenticate(request, key.strip())

    def authenticate(self, request, token: str):
        user = user_for_token(token)
        if user is None:
            raise AuthenticationError(message=_("The API token is invalid or has been revoked."))
        request.user = user
        activate_preferences(request, user)
        return user
