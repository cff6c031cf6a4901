from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.core import access, customfields
from kizuna.core.search import filter_search
from kizuna.customers.models import Company


def activity_list(
    *, user, kind: str | None = None, filters: dict[str, Any] | None = None
) -> QuerySet[Activity]:
    f = filters or {}
    qs = access.visible(Activity.objects.all(), user)
    kind = kind or f.get("kind")
    if kind in Activity.Kind.values:
        qs = qs.filter(kind=kind)
    for name in ("owner", "team", "assignee", "company", "contact", "lead", "deal"):
        if f.get(name):
            qs = qs.filter(**{f"{name}_id": f[name]})
    if f.get("tag"):
        qs = qs.filter(tags__name=f["tag"])
    if f.get("done") is not None:
        qs = qs.filter(done_at__isnull=not f["done"])
    if f.get("open_tasks"):
        qs = qs.filter(kind=Activity.Kind.TASK, done_at__isnull=True).order_by("due_date", "id")
    if f.get("q"):
        qs = filter_search(qs, f["q"])
    if f.get("custom"):
        qs, _used = customfields.filter_queryset(qs, "activity", f["custom"])
    return qs.select_related(
        "owner", "company", "contact", "lead", "deal", "assignee", "email_message"
    )


def company_timeline(*, user, company: Company, kind: str | None = None) -> QuerySet[Activity]:
    """What happened with the company, its divisions and sites and their people."""
    subtree = Company.objects.filter(company.subtree_q()).values("id")
    return activity_list(user=user, kind=kind).filter(company_id__in=subtree)


def record_timeline(*, user, record, kind: str | None = None) -> QuerySet[Activity]:
    field = record.access_object_type
    if field == "company":
        return company_timeline(user=user, company=record, kind=kind)
    return activity_list(user=user, kind=kind).filter(**{field: record})


def open_tasks(*, user) -> QuerySet[Activity]:
    return (
        activity_list(user=user, kind=Activity.Kind.TASK)
        .filter(assignee=user, done_at__isnull=True)
        .order_by("due_date", "id")
    )


def overdue_count(*, user) -> int:
    return open_tasks(user=user).filter(due_date__lt=timezone.localdate()).count()
