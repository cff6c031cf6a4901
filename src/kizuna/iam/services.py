import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.models import AuditEntry
from kizuna.iam.models import ApiToken, Role, Team, User
from kizuna.iam.selectors import TOKEN_PREFIX, hash_token


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    display_name: str = "",
    team: Team | None = None,
    role: Role | None = None,
    language: str = "ja",
    timezone_name: str = "Asia/Tokyo",
    is_org_admin: bool = False,
    actor: User | None = None,
) -> User:
    user = User(
        username=username,
        email=email,
        display_name=display_name,
        team=team,
        role=role,
        language=language,
        timezone=timezone_name,
        is_org_admin=is_org_admin,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=user,
        changes=audit.snapshot(user, ["username", "email", "team", "role", "is_org_admin"]),
    )
    return user


@transaction.atomic
def user_update_preferences(*, user: User, language: str, timezone_name: str) -> User:
    before = audit.snapshot(user, ["language", "timezone"])
    user.language = language
    user.timezone = timezone_name
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language", "timezone"])
    changes = audit.diff(before, audit.snapshot(user, ["language", "timezone"]))
    if changes:
        audit.record(actor=user, action=AuditEntry.Action.UPDATE, obj=user, changes=changes)
    return user


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the key is returned once and never stored."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip() or "API", prefix=key[:10], key_hash=hash_token(key)
    )
    audit.record(
        actor=user, action=AuditEntry.Action.TOKEN, obj=token, changes={"created": token.prefix}
    )
    return token, key


@transaction.atomic
def token_revoke(*, user: User, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=user,
            action=AuditEntry.Action.TOKEN,
            obj=token,
            changes={"revoked": token.prefix},
        )


@transaction.atomic
def user_set_away(*, user: User, until: datetime.date | None) -> User:
    """Mark the user away until a day (round-robin skips them), or back."""
    if until is not None and until < timezone.localdate():
        raise ValidationError({"away_until": _("Choose today or a later day.")})
    before = audit.snapshot(user, ["away_until"])
    user.away_until = until
    user.save(update_fields=["away_until"])
    changes = audit.diff(before, audit.snapshot(user, ["away_until"]))
    if changes:
        audit.record(actor=user, action=AuditEntry.Action.UPDATE, obj=user, changes=changes)
    return user
