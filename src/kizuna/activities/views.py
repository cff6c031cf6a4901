from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.activities import selectors, services
from kizuna.activities.forms import ActivityFilterForm, ActivityForm
from kizuna.activities.models import Activity
from kizuna.core import access, ui
from kizuna.core.tables import Column, custom_field_columns
from kizuna.customers import selectors as customer_selectors


def activity_columns() -> list[Column]:
    def about(a):
        return a.deal or a.contact or a.lead or a.company

    def about_url(a):
        if a.deal_id:
            return reverse("sales:deal_detail", args=[a.deal_id])
        if a.contact_id:
            return reverse("customers:contact_detail", args=[a.contact_id])
        if a.lead_id:
            return reverse("customers:lead_detail", args=[a.lead_id])
        if a.company_id:
            return reverse("customers:company_detail", args=[a.company_id])
        return ""

    def status(a):
        if a.kind != Activity.Kind.TASK:
            return ""
        if a.done_at:
            return _("Done")
        return _("Due %(date)s") % {"date": a.due_date} if a.due_date else _("Open")

    return [
        Column("occurred_at", _("When"), lambda a: a.occurred_at.strftime("%Y-%m-%d %H:%M")),
        Column("kind", _("Type"), lambda a: a.get_kind_display()),
        Column(
            "subject",
            _("Subject"),
            lambda a: a.subject,
            lambda a: reverse("activities:activity_detail", args=[a.pk]),
        ),
        Column("about", _("About"), about, about_url),
        Column("company", _("Company"), lambda a: a.company, optional=True, listed=False),
        Column("owner", _("Owner"), lambda a: a.owner, optional=True),
        Column("status", _("Task"), status),
        Column("body", _("Details"), lambda a: a.body, optional=True, listed=False),
        *custom_field_columns("activity"),
    ]


@login_required
def activity_list(request):
    form = ActivityFilterForm(request.GET)
    qs = selectors.activity_list(user=request.user, filters=form.filters())
    return ui.list_page(
        request,
        title=_("Activities"),
        object_type="activity",
        filter_form=form,
        queryset=qs,
        columns=activity_columns(),
        create_url=reverse("activities:activity_create"),
    )


def _about_from_query(request):
    """The record named by ?deal= / ?company= / ?contact= / ?lead=, if the user sees it."""
    from kizuna.sales import selectors as sales_selectors

    for key, detail in (
        ("deal", sales_selectors.deal_detail),
        ("contact", customer_selectors.contact_detail),
        ("lead", customer_selectors.lead_detail),
        ("company", customer_selectors.company_detail),
    ):
        value = request.GET.get(key) or request.POST.get(key)
        if value and value.isdigit():
            return key, detail(user=request.user, pk=int(value))
    return None, None


def _participant_choices(request, about_key, about):
    company = None
    if about_key == "company":
        company = about
    elif about_key in ("contact", "deal"):
        company = about.company
    if company is None:
        return [about] if about_key == "contact" else []
    return list(customer_selectors.company_contacts(user=request.user, company=company)[:200])


def _back_url(about_key, about) -> str:
    if about is None:
        return reverse("activities:activity_list")
    if about_key == "deal":
        return reverse("sales:deal_detail", args=[about.pk])
    return reverse(f"customers:{about_key}_detail", args=[about.pk])


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request):
    about_key, about = _about_from_query(request)
    initial = {
        "kind": request.GET.get("kind") or Activity.Kind.CALL,
        "owner": request.user.pk,
        "team": request.user.team_id,
    }
    if about is not None:
        initial[about_key] = about.pk
        if about_key in ("contact", "deal") and about.company_id:
            initial["company"] = about.company_id
    data = request.POST if request.method == "POST" else None
    form = ActivityForm(
        data, initial=initial, participant_choices=_participant_choices(request, about_key, about)
    )
    back = _back_url(about_key, about)
    return ui.record_form_page(
        request,
        form=form,
        save=lambda kwargs: services.activity_create(actor=request.user, **kwargs),
        success_url=lambda a: (
            back if about is not None else reverse("activities:activity_detail", args=[a.pk])
        ),
        template="core/record_form.html",
        context={"title": _("Log an activity"), "back_url": back},
    )


@login_required
def activity_detail(request, pk):
    activity = access.get_visible_or_404(
        Activity.objects.select_related(
            "owner", "team", "company", "contact", "lead", "deal", "assignee"
        ),
        request.user,
        pk=pk,
    )
    return render(
        request,
        "activities/activity_detail.html",
        {
            "object": activity,
            "can_edit": access.can_edit(request.user, activity),
            "participants": access.visible(activity.participants.all(), request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk):
    activity = access.get_visible_or_404(Activity.objects.all(), request.user, pk=pk)
    ui.require_edit(request, activity)
    about_key = (
        "deal"
        if activity.deal_id
        else "contact"
        if activity.contact_id
        else "lead"
        if activity.lead_id
        else "company"
    )
    about = activity.deal or activity.contact or activity.lead or activity.company
    data = request.POST if request.method == "POST" else None
    form = ActivityForm(
        data,
        instance=activity,
        participant_choices=_participant_choices(request, about_key, about),
    )
    return ui.record_form_page(
        request,
        form=form,
        save=lambda kwargs: services.activity_update(
            actor=request.user, activity=activity, **kwargs
        ),
        success_url=lambda a: reverse("activities:activity_detail", args=[a.pk]),
        template="core/record_form.html",
        context={
            "title": _("Edit %(name)s") % {"name": activity},
            "back_url": reverse("activities:activity_detail", args=[activity.pk]),
        },
    )


@login_required
@require_POST
def task_toggle(request, pk):
    activity = access.get_visible_or_404(Activity.objects.all(), request.user, pk=pk)
    ui.require_edit(request, activity)
    try:
        services.task_set_done(actor=request.user, activity=activity, done=activity.done_at is None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(request.POST.get("next") or reverse("activities:activity_detail", args=[pk]))


@login_required
@require_POST
def activity_delete(request, pk):
    activity = access.get_visible_or_404(Activity.objects.all(), request.user, pk=pk)
    ui.require_edit(request, activity)
    services.activity_delete(actor=request.user, activity=activity)
    messages.success(request, _("Deleted."))
    return redirect("activities:activity_list")


@login_required
def activity_history(request, pk):
    activity = access.get_visible_or_404(Activity.objects.all(), request.user, pk=pk)
    return ui.history_page(
        request, activity, back_url=reverse("activities:activity_detail", args=[pk])
    )


@login_required
def mention_candidates(request):
    """htmx: users to @mention, for the text box being typed in."""
    from kizuna.activities import mentions

    users = mentions.candidates(request.GET.get("q", ""))
    return render(request, "activities/_mention_candidates.html", {"users": users})
