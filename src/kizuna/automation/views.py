import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.automation import business_time, ics, selectors, services, sla
from kizuna.automation.models import (
    BusinessCalendar,
    CompanyDayOff,
    JobRun,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from kizuna.core import access, ui
from kizuna.iam.models import TIME_ZONE_CHOICES

JOB_TABS = [
    JobRun.Status.QUEUED,
    JobRun.Status.RUNNING,
    JobRun.Status.RETRYING,
    JobRun.Status.FAILED,
    JobRun.Status.SUCCEEDED,
]


@login_required
def job_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
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
    access.require_admin(request.user, access.ADMIN_PAGE)
    job = get_object_or_404(selectors.job_list(user=request.user).defer(None), pk=pk)
    return render(request, "automation/job_detail.html", {"job": job})


@login_required
@require_POST
def job_retry(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
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


# -- business calendar -------------------------------------------------------

WEEKDAYS = [
    (1, gettext_lazy("Monday")),
    (2, gettext_lazy("Tuesday")),
    (3, gettext_lazy("Wednesday")),
    (4, gettext_lazy("Thursday")),
    (5, gettext_lazy("Friday")),
    (6, gettext_lazy("Saturday")),
    (7, gettext_lazy("Sunday")),
]


class CalendarForm(forms.Form):
    country = forms.ChoiceField(
        label=gettext_lazy("Public holidays of"), choices=BusinessCalendar.Country.choices
    )
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=TIME_ZONE_CHOICES)
    work_start = forms.TimeField(
        label=gettext_lazy("Work starts"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    work_end = forms.TimeField(
        label=gettext_lazy("Work ends"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    workdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    lead_sla_hours = forms.IntegerField(
        label=gettext_lazy("First contact with a new lead within (business hours)"),
        min_value=1,
        max_value=2000,
        required=False,
    )


class DayOffForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    cal = business_time.load_calendar()
    form = CalendarForm(
        request.POST or None,
        initial={
            "country": cal.country,
            "time_zone": str(cal.tz),
            "work_start": cal.work_start,
            "work_end": cal.work_end,
            "workdays": sorted(cal.workdays),
            "lead_sla_hours": sla.sla_hours(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            hours = data.pop("lead_sla_hours")
            with transaction.atomic():
                services.calendar_update(actor=request.user, **data)
                if hours is not None:
                    services.lead_sla_set(actor=request.user, hours=hours)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:calendar_settings")
    today = timezone.localdate()
    upcoming = sorted(
        (day, name)
        for year in (today.year, today.year + 1)
        for day, name in business_time.public_holidays(cal.country, year).items()
        if day >= today
    )[:20]
    return render(
        request,
        "automation/calendar_settings.html",
        {
            "form": form,
            "day_off_form": DayOffForm(),
            "days_off": CompanyDayOff.objects.filter(date__gte=today - datetime.timedelta(days=30)),
            "upcoming": upcoming,
        },
    )


@login_required
@require_POST
def day_off_add(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    form = DayOffForm(request.POST)
    if form.is_valid():
        try:
            services.day_off_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The day off was added."))
    else:
        messages.error(request, _("Give a date and a name."))
    return redirect("automation:calendar_settings")


@login_required
@require_POST
def day_off_delete(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    day_off = get_object_or_404(CompanyDayOff, pk=pk)
    services.day_off_delete(actor=request.user, day_off=day_off)
    messages.success(request, _("The day off was removed."))
    return redirect("automation:calendar_settings")


# -- calendar feed -----------------------------------------------------------


@require_GET
def calendar_feed(request, token: str):
    """The ICS feed; the secret address is the only credential."""
    user = ics.feed_user(token)
    if user is None:
        raise Http404
    base_url = request.build_absolute_uri("/").rstrip("/")
    with translation.override(user.language):
        name = f"Kizuna · {user}"
        body = ics.render_feed(user=user, base_url=base_url, name=name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kizuna.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def calendar_feed_regenerate(request):
    services.calendar_feed_regenerate(user=request.user)
    messages.success(
        request, _("Your calendar address is ready. The previous one stopped working.")
    )
    return redirect("iam:profile")


@login_required
@require_POST
def calendar_feed_revoke(request):
    if services.calendar_feed_revoke(user=request.user):
        messages.success(request, _("The calendar address was revoked."))
    return redirect("iam:profile")


# -- webhooks ----------------------------------------------------------------


class WebhookForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    url = forms.URLField(label=gettext_lazy("Endpoint URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.webhook_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The webhook was created."))
            return redirect("automation:webhook_detail", pk=subscription.pk)
    return render(
        request,
        "automation/webhook_list.html",
        {"form": form, "webhooks": WebhookSubscription.objects.all()},
    )


@login_required
def webhook_detail(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    page = ui.paginate(request, subscription.deliveries.all())
    return render(
        request, "automation/webhook_detail.html", {"webhook": subscription, "page": page}
    )


@login_required
@require_POST
def webhook_toggle(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.webhook_set_active(
        actor=request.user, subscription=subscription, active=not subscription.is_active
    )
    return redirect("automation:webhook_detail", pk=pk)


@login_required
@require_POST
def webhook_delete(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.webhook_delete(actor=request.user, subscription=subscription)
    messages.success(request, _("The webhook was deleted."))
    return redirect("automation:webhook_list")


@login_required
@require_POST
def webhook_redeliver(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        services.webhook_redeliver(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The delivery was queued again."))
    return redirect("automation:webhook_detail", pk=delivery.subscription_id)
