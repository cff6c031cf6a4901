import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from kizuna.iam.models import ApiToken, Role, Team, User

TOKEN_PREFIX = "kz_"


def subordinate_user_ids(user: User) -> set[int]:
    """Users whose role is below ``user``'s role in the hierarchy."""
    if user.role_id is None:
        return set()
    children: dict[int | None, list[int]] = {}
    for role_id, parent_id in Role.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(role_id)
    below: set[int] = set()
    stack = list(children.get(user.role_id, []))
    while stack:
        role_id = stack.pop()
        if role_id not in below:
            below.add(role_id)
            stack.extend(children.get(role_id, []))
    if not below:
        return set()
    return set(User.objects.filter(role_id__in=below).values_list("id", flat=True))


def managers_of(user: User) -> list[User]:
    """The active users in the nearest role above ``user``'s role that has any.

    A rep whose manager role is vacant goes to the role above that, so an
    escalation always reaches someone while the hierarchy has people in it.
    """
    if user.role_id is None:
        return []
    parents = dict(Role.objects.values_list("id", "parent_id"))
    role_id = parents.get(user.role_id)
    seen: set[int] = set()
    while role_id is not None and role_id not in seen:
        seen.add(role_id)
        managers = list(
            User.objects.filter(role_id=role_id, is_active=True).exclude(pk=user.pk).order_by("id")
        )
        if managers:
            return managers
        role_id = parents.get(role_id)
    return []


def user_list() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("team", "role")


def team_list() -> QuerySet[Team]:
    return Team.objects.all()


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_for_token(key: str) -> User | None:
    """The active user a token key belongs to, or None."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_list(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
