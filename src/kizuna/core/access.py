"""The one access gate.

Every list, detail, search, count, export, report and API operation asks this
module which records the acting user may see or edit. A record is visible
when the org default for its type allows it, when its owner is the user or
someone below the user in the role hierarchy, when it belongs to the user's
team (team level and up), or when it has been shared with the user or their
team.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import AccessLevel, AccessPolicy, Share

DEFAULT_LEVEL = AccessLevel.TEAM


@dataclass
class Viewer:
    user_id: int
    team_id: int | None
    is_admin: bool
    # The user and everyone below them in the role hierarchy.
    user_ids: frozenset[int]
    levels: dict[str, str] = field(default_factory=dict)

    def level(self, object_type: str) -> str:
        return self.levels.get(object_type, DEFAULT_LEVEL)


def viewer_for(user) -> Viewer:
    """Who ``user`` is for the gate; computed once per user object."""
    cached = getattr(user, "_kizuna_viewer", None)
    if cached is not None:
        return cached
    from kizuna.iam.selectors import subordinate_user_ids

    viewer = Viewer(
        user_id=user.pk,
        team_id=user.team_id,
        is_admin=bool(user.is_superuser or user.is_org_admin),
        user_ids=frozenset({user.pk, *subordinate_user_ids(user)}),
        levels=dict(AccessPolicy.objects.values_list("object_type", "level")),
    )
    user._kizuna_viewer = viewer
    return viewer


def _object_type(model: type[models.Model]) -> str:
    object_type = getattr(model, "access_object_type", "")
    if not object_type:
        raise TypeError(f"{model.__name__} is not governed by the access gate")
    return object_type


def _grant_q(viewer: Viewer, object_type: str, *, edit: bool, team_level: bool) -> Q:
    q = Q(owner_id__in=viewer.user_ids)
    if team_level and viewer.team_id is not None:
        q |= Q(team_id=viewer.team_id)
    shares = Share.objects.filter(object_type=object_type).filter(
        Q(user_id=viewer.user_id) | Q(team_id=viewer.team_id)
        if viewer.team_id is not None
        else Q(user_id=viewer.user_id)
    )
    if edit:
        shares = shares.filter(can_edit=True)
    return q | Q(pk__in=shares.values("object_id"))


def visible(queryset: models.QuerySet, user) -> models.QuerySet:
    """The records of ``queryset`` that ``user`` may see."""
    return _restrict(queryset, user, edit=False)


def editable(queryset: models.QuerySet, user) -> models.QuerySet:
    """The records of ``queryset`` that ``user`` may change."""
    return _restrict(queryset, user, edit=True)


def _restrict(queryset: models.QuerySet, user, *, edit: bool) -> models.QuerySet:
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    viewer = viewer_for(user)
    if viewer.is_admin:
        return queryset
    object_type = _object_type(queryset.model)
    level = viewer.level(object_type)
    if level == AccessLevel.EDIT_ALL or (level == AccessLevel.READ_ALL and not edit):
        return queryset
    team_level = level != AccessLevel.PRIVATE
    return queryset.filter(_grant_q(viewer, object_type, edit=edit, team_level=team_level))


def can_view(user, obj: models.Model) -> bool:
    return visible(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def can_edit(user, obj: models.Model) -> bool:
    return editable(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def get_visible_or_404(queryset: models.QuerySet, user, **lookup):
    """One visible record; a record the user may not see is reported as missing."""
    try:
        return visible(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and viewer_for(user).is_admin)


ADMIN_PAGE = _("Only administrators may open this page.")


def require_admin(user, message=None) -> None:
    """Refuse a user who is not an org admin, with ``message`` or a general one."""
    if not is_admin(user):
        raise PermissionDenied(message or _("Only administrators may change this."))
