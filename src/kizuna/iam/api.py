"""Users and teams, read only."""

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.iam import selectors

router = Router(tags=["users and teams"])


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    team: int | None
    language: str
    timezone: str

    @staticmethod
    def resolve_display_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_team(obj) -> int | None:
        return obj.team_id


class TeamOut(Schema):
    id: int
    name: str


class UserFilters(Schema):
    team: int | None = None


@router.get("/users", response=page_schema(UserOut))
def list_users(request, filters: Query[UserFilters], page: Query[PageQuery]):
    qs = selectors.user_list()
    if filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    return paginate(qs, page)


@router.get("/users/{int:user_id}", response=UserOut)
def get_user(request, user_id: int):
    return get_object_or_404(selectors.user_list(), pk=user_id)


@router.get("/teams", response=page_schema(TeamOut))
def list_teams(request, page: Query[PageQuery]):
    return paginate(selectors.team_list(), page)


@router.get("/teams/{int:team_id}", response=TeamOut)
def get_team(request, team_id: int):
    return get_object_or_404(selectors.team_list(), pk=team_id)
