from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.automation import selectors, services
from kizuna.automation.models import JobRun
from kizuna.core import access, ui

JOB_TABS = [
    JobRun.Status.QUEUED,
    JobRun.Status.RUNNING,
    JobRun.Status.RETRYING,
    JobRun.Status.FAILED,
    JobRun.Status.SUCCEEDED,
]


def _require_admin(request) -> None:
    if not access.is_admin(request.user):
        raise PermissionDenied(_("Only administrators may open this page."))


@login_required
def job_list(request):
    _require_admin(request)
    status = request.GET.get("status") or JobRun.Status.FAILED
    page = ui.paginate(request, selectors.job_list(user=request.user, status=status))
    counts = selectors.job_counts(user=request.user)
    tabs = [(s.value, s.label, counts.get(s.value, 0)) for s in JOB_TABS]
    return render(
        request,
        "automation/job_list.html",
        {"page": page, "status": status, "tabs": tabs, "query": f"status={status}"},
    )


@login_required
def job_detail(request, pk: int):
    _require_admin(request)
    job = get_object_or_404(selectors.job_list(user=request.user).defer(None), pk=pk)
    return render(request, "automation/job_detail.html", {"job": job})


@login_required
@require_POST
def job_retry(request, pk: int):
    _require_admin(request)
    job = get_object_or_404(selectors.job_list(user=request.user), pk=pk)
    try:
        services.job_retry(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The job was queued again."))
    return redirect(f"{reverse('automation:job_list')}?status={JobRun.Status.FAILED}")


@login_required
def notification_list(request):
    unread = request.GET.get("unread") == "1"
    page = ui.paginate(request, selectors.notification_list(user=request.user, unread=unread))
    return render(
        request,
        "automation/notification_list.html",
        {
            "page": page,
            "unread": unread,
            "query": "unread=1" if unread else "",
            "unread_count": selectors.unread_count(user=request.user),
        },
    )


@login_required
def notification_badge(request):
    """The bell in the header; htmx polls it."""
    return render(
        request,
        "automation/_bell.html",
        {"unread_count": selectors.unread_count(user=request.user)},
    )


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark a notification read and go to what it is about."""
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("automation:notification_list")


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    return redirect("automation:notification_list")


@login_required
@require_POST
def notification_read_all(request):
    count = services.notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("automation:notification_list")
