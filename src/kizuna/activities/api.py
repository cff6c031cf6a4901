"""The API of the timeline: calls, meetings, visits, e-mails, notes and tasks."""

import datetime

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from kizuna.activities import selectors, services
from kizuna.activities.models import Activity
from kizuna.api.concurrency import IF_MATCH, delete_checked, expected_version
from kizuna.api.idempotency import IDEMPOTENCY_KEY, idempotent
from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.api.records import custom_filters, dump, many, respond, with_etag, write_args
from kizuna.api.schemas import RecordIn, RecordOut, VersionIn
from kizuna.core import access
from kizuna.customers.selectors import company_list, contact_list, lead_list
from kizuna.iam.selectors import user_list

router = Router(tags=["activities"])


class ActivityOut(RecordOut):
    kind: str
    subject: str
    body: str
    occurred_at: datetime.datetime
    duration_minutes: int | None
    company: int | None
    contact: int | None
    lead: int | None
    participants: list[int]
    participant_users: list[int]
    assignee: int | None
    due_date: datetime.date | None
    done: bool

    @staticmethod
    def resolve_occurred_at(obj) -> datetime.datetime:
        return timezone.localtime(obj.occurred_at)

    @staticmethod
    def resolve_company(obj) -> int | None:
        return obj.company_id

    @staticmethod
    def resolve_contact(obj) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_lead(obj) -> int | None:
        return obj.lead_id

    @staticmethod
    def resolve_assignee(obj) -> int | None:
        return obj.assignee_id

    @staticmethod
    def resolve_participants(obj) -> list[int]:
        return sorted(p.pk for p in obj.participants.all())

    @staticmethod
    def resolve_participant_users(obj) -> list[int]:
        return sorted(u.pk for u in obj.participant_users.all())

    @staticmethod
    def resolve_done(obj) -> bool:
        return obj.done_at is not None


class ActivityFields(RecordIn):
    kind: str | None = None
    subject: str | None = None
    body: str | None = None
    occurred_at: datetime.datetime | None = None
    duration_minutes: int | None = None
    company: int | None = None
    contact: int | None = None
    lead: int | None = None
    participants: list[int] | None = None
    participant_users: list[int] | None = None
    assignee: int | None = None
    due_date: datetime.date | None = None


class ActivityIn(ActivityFields):
    kind: str
    subject: str
    # Also sets the next action of the company, contact or lead it is about.
    next_action: str | None = None
    next_action_due: datetime.date | None = None


class ActivityPatch(ActivityFields, VersionIn):
    done: bool | None = None


class ActivityFilters(Schema):
    q: str | None = None
    kind: str | None = None
    owner: int | None = None
    team: int | None = None
    assignee: int | None = None
    company: int | None = None
    contact: int | None = None
    lead: int | None = None
    tag: str | None = None
    done: bool | None = None


def _args(request, data: dict) -> dict:
    user = request.auth
    if data.get("occurred_at") and timezone.is_naive(data["occurred_at"]):
        # A time without an offset is in the user's time zone.
        data["occurred_at"] = timezone.make_aware(data["occurred_at"])
    data["participants"] = many(contact_list(user=user), data.get("participants"), "participants")
    data["participant_users"] = many(
        user_list(), data.get("participant_users"), "participant_users"
    )
    related = {
        "company": company_list(user=user),
        "contact": contact_list(user=user),
        "lead": lead_list(user=user),
        "assignee": user_list(),
    }
    return write_args(Activity, data, related)


def _filtered(request, filters: ActivityFilters):
    f = filters.dict(exclude_none=True) | {"custom": custom_filters(request, "activity")}
    qs = selectors.activity_list(user=request.auth, filters=f)
    return qs.prefetch_related("tags", "participants", "participant_users")


@router.get("/activities", response=page_schema(ActivityOut))
def list_activities(request, filters: Query[ActivityFilters], page: Query[PageQuery]):
    return paginate(_filtered(request, filters), page)


def _detail(request, activity_id: int) -> Activity:
    return access.get_visible_or_404(
        selectors.activity_list(user=request.auth).prefetch_related(
            "tags", "participants", "participant_users"
        ),
        request.auth,
        pk=activity_id,
    )


@router.post("/activities", response={201: ActivityOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_activity(request, payload: ActivityIn):
    def create():
        args = _args(request, payload.dict(exclude_unset=True))
        activity = services.activity_create(actor=request.auth, **args)
        return 201, dump(ActivityOut, _detail(request, activity.pk))

    return idempotent(request, create, respond)


@router.get("/activities/{int:activity_id}", response=ActivityOut)
def get_activity(request, activity_id: int, response: HttpResponse):
    return with_etag(response, _detail(request, activity_id))


@router.patch("/activities/{int:activity_id}", response=ActivityOut, openapi_extra=IF_MATCH)
def update_activity(request, activity_id: int, payload: ActivityPatch, response: HttpResponse):
    activity = _detail(request, activity_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    services.activity_update(
        actor=request.auth, activity=activity, version=version, **_args(request, data)
    )
    return with_etag(response, _detail(request, activity_id))


@router.delete("/activities/{int:activity_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_activity(request, activity_id: int):
    activity = _detail(request, activity_id)
    delete_checked(
        actor=request.auth,
        obj=activity,
        version=expected_version(request),
        delete=services.activity_delete,
    )
    return HttpResponse(status=204)
