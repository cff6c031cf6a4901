"""Logins, logouts and failed logins go to the audit log."""

from django.contrib.auth import signals
from django.dispatch import receiver

from kizuna.core import audit
from kizuna.core.models import AuditEntry


@receiver(signals.user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(actor=user, action=AuditEntry.Action.LOGIN, obj=user)


@receiver(signals.user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action=AuditEntry.Action.LOGOUT, obj=user)


@receiver(signals.user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        actor=None,
        action=AuditEntry.Action.LOGIN_FAILED,
        object_type="user",
        object_repr=username,
    )
