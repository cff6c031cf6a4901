from django.db.models import Count, QuerySet

from kizuna.automation.models import JobRun, Notification
from kizuna.core import access


def job_list(*, user, status: str | None = None) -> QuerySet[JobRun]:
    """Jobs for the admin page; nothing for anyone else."""
    if not access.is_admin(user):
        return JobRun.objects.none()
    qs = JobRun.objects.defer("payload", "traceback")
    if status in JobRun.Status.values:
        qs = qs.filter(status=status)
    return qs


def job_counts(*, user) -> dict[str, int]:
    if not access.is_admin(user):
        return {}
    return dict(
        JobRun.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )


def notification_list(*, user, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return notification_list(user=user, unread=True).count()
