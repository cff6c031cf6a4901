from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.activities.models import Activity
from kizuna.activities.selectors import record_timeline
from kizuna.automation import sla
from kizuna.core import access, customfields, ui
from kizuna.core.models import Share
from kizuna.core.queries import first_rows
from kizuna.core.tables import Column, custom_field_columns
from kizuna.core.validators import format_phone
from kizuna.customers import selectors, services
from kizuna.customers.forms import (
    PREFECTURE_SUGGESTIONS,
    CompanyFilterForm,
    CompanyForm,
    ContactFilterForm,
    ContactForm,
    LeadConvertForm,
    LeadFilterForm,
    LeadForm,
)
from kizuna.customers.models import Company


def _url(name: str):
    return lambda obj: reverse(name, args=[obj.pk]) if obj is not None else ""


def _next_action(obj) -> str:
    if not obj.next_action:
        return ""
    due = f" ({obj.next_action_due:%Y-%m-%d})" if obj.next_action_due else ""
    return obj.next_action + due


def company_columns() -> list[Column]:
    return [
        Column("name", _("Name"), lambda c: c.name, _url("customers:company_detail"), "name"),
        Column("name_reading", _("Reading"), lambda c: c.name_reading, optional=True, listed=False),
        Column("kind", _("Kind"), lambda c: c.get_kind_display(), optional=True),
        Column(
            "parent",
            _("Part of"),
            lambda c: c.parent,
            lambda c: _url("customers:company_detail")(c.parent),
            optional=True,
        ),
        Column("prefecture", _("Prefecture / province"), lambda c: c.prefecture, sort="prefecture"),
        Column("city", _("City"), lambda c: c.city, optional=True, listed=False),
        Column("industry", _("Industry"), lambda c: c.get_industry_display(), optional=True),
        Column(
            "corporate_number",
            _("Corporate number"),
            lambda c: c.corporate_number,
            optional=True,
            listed=False,
        ),
        Column(
            "phone",
            _("Main phone"),
            lambda c: format_phone(c.phone) if c.phone else "",
            optional=True,
            listed=False,
        ),
        Column("owner", _("Owner"), lambda c: c.owner),
        Column("team", _("Team"), lambda c: c.team, optional=True, listed=False),
        Column("next_action", _("Next action"), _next_action, optional=True),
        *custom_field_columns("company"),
    ]


def contact_columns() -> list[Column]:
    return [
        Column("name", _("Name"), lambda c: c.full_name, _url("customers:contact_detail"), "name"),
        Column("reading", _("Reading"), lambda c: c.reading, optional=True, listed=False),
        Column(
            "company",
            _("Company"),
            lambda c: c.company,
            lambda c: _url("customers:company_detail")(c.company),
        ),
        Column("department", _("Department"), lambda c: c.department, optional=True),
        Column("title", _("Title"), lambda c: c.title, optional=True),
        Column("email", _("E-mail"), lambda c: ", ".join(e.email for e in c.emails.all())),
        Column(
            "phone",
            _("Phone"),
            lambda c: ", ".join(format_phone(p.number) for p in c.phones.all()),
            optional=True,
        ),
        Column("owner", _("Owner"), lambda c: c.owner, optional=True),
        Column("next_action", _("Next action"), _next_action, optional=True),
        *custom_field_columns("contact"),
    ]


def lead_columns() -> list[Column]:
    return [
        Column(
            "name", _("Name"), lambda lead: lead.full_name, _url("customers:lead_detail"), "name"
        ),
        Column("company_name", _("Company"), lambda lead: lead.company_name),
        Column("channel", _("Channel"), lambda lead: lead.get_channel_display()),
        Column("campaign", _("Campaign"), lambda lead: lead.campaign, optional=True, listed=False),
        Column("status", _("Status"), lambda lead: lead.get_status_display()),
        Column("email", _("E-mail"), lambda lead: lead.email, optional=True),
        Column(
            "prefecture",
            _("Prefecture / province"),
            lambda lead: lead.prefecture,
            optional=True,
            listed=False,
        ),
        Column("owner", _("Owner"), lambda lead: lead.owner, optional=True),
        Column(
            "created",
            _("Received"),
            lambda lead: lead.created_at.date(),
            sort="-created",
            optional=True,
        ),
        sla.lead_column(),
        *custom_field_columns("lead"),
    ]


# Lists -------------------------------------------------------------------


@login_required
def company_list(request):
    form = CompanyFilterForm(request.GET)
    return ui.list_page(
        request,
        title=_("Companies"),
        object_type="company",
        filter_form=form,
        queryset=selectors.company_list(user=request.user, filters=form.filters()),
        columns=company_columns(),
        create_url=reverse("customers:company_create"),
        extra={"prefectures": PREFECTURE_SUGGESTIONS},
    )


@login_required
def contact_list(request):
    form = ContactFilterForm(request.GET)
    return ui.list_page(
        request,
        title=_("Contacts"),
        object_type="contact",
        filter_form=form,
        queryset=selectors.contact_list(user=request.user, filters=form.filters()),
        columns=contact_columns(),
        create_url=reverse("customers:contact_create"),
    )


@login_required
def lead_list(request):
    form = LeadFilterForm(request.GET)
    return ui.list_page(
        request,
        title=_("Leads"),
        object_type="lead",
        filter_form=form,
        queryset=selectors.lead_list(user=request.user, filters=form.filters()),
        columns=lead_columns(),
        create_url=reverse("customers:lead_create"),
        extra={"prefectures": PREFECTURE_SUGGESTIONS},
    )


# Details -----------------------------------------------------------------


def _custom_values(obj):
    users = None
    values = []
    for d in customfields.definitions(obj.access_object_type):
        value = obj.custom_field_data.get(d.key)
        if d.field_type == "user" and value:
            from kizuna.iam.models import User

            users = users or dict((u.pk, str(u)) for u in User.objects.all())
        values.append((d.display_label(), customfields.display_value(d, value, users)))
    return values


def _detail_context(request, obj):
    timeline = ui.paginate(
        request,
        record_timeline(
            user=request.user, record=obj, kind=request.GET.get("kind")
        ).prefetch_related("participants"),
        per_page=25,
    )
    return {
        "object": obj,
        "custom_values": _custom_values(obj),
        "tags": sorted(t.name for t in obj.tags.all()),
        "can_edit": access.can_edit(request.user, obj),
        "timeline": timeline,
        "timeline_kind": request.GET.get("kind", ""),
        "timeline_url": request.path,
        "activity_kinds": Activity.Kind.choices,
        "today": timezone.localdate(),
        "shares": Share.objects.filter(
            object_type=obj.access_object_type, object_id=obj.pk
        ).select_related("user", "team"),
    }


def _duplicates(request, obj) -> dict:
    """How many open duplicate pairs the record is in (one query)."""
    from kizuna.dedup.selectors import open_candidates_for

    entity = obj.access_object_type
    count = open_candidates_for(user=request.user, entity=entity, record_id=obj.pk).count()
    return {
        "duplicate_count": count,
        "duplicates_url": f"{reverse('dedup:queue')}?entity={entity}&record={obj.pk}",
    }


def _timeline_partial(request, context):
    return render(request, "activities/_timeline.html", context)


@login_required
def company_detail(request, pk):
    company = selectors.company_detail(user=request.user, pk=pk)
    context = _detail_context(request, company)
    if request.htmx and request.htmx.target == "timeline":
        return _timeline_partial(request, context)
    context.update(
        ancestors=selectors.company_ancestors(user=request.user, company=company),
        children=selectors.company_children(user=request.user, company=company),
        contacts=selectors.company_contacts(user=request.user, company=company)[:100],
        deals=_company_deals(request.user, company),
        phone=format_phone(company.phone) if company.phone else "",
        **_duplicates(request, company),
    )
    return render(request, "customers/company_detail.html", context)


def _company_deals(user, company):
    from kizuna.sales.selectors import deal_list

    subtree = Company.objects.filter(company.subtree_q()).values("id")
    return deal_list(user=user, filters={"status": "open"}).filter(company_id__in=subtree)[:20]


@login_required
def contact_detail(request, pk):
    contact = selectors.contact_detail(user=request.user, pk=pk)
    context = _detail_context(request, contact)
    if request.htmx and request.htmx.target == "timeline":
        return _timeline_partial(request, context)
    context.update(
        phones=[format_phone(p.number) for p in contact.phones.all()],
        employments=contact.employments.select_related("company"),
        **_duplicates(request, contact),
    )
    return render(request, "customers/contact_detail.html", context)


@login_required
def lead_detail(request, pk):
    lead = selectors.lead_detail(user=request.user, pk=pk)
    context = _detail_context(request, lead)
    if request.htmx and request.htmx.target == "timeline":
        return _timeline_partial(request, context)
    contact, company, matched_by = services.conversion_matches(lead)
    context.update(
        match_contact=contact if contact and access.can_view(request.user, contact) else None,
        match_company=company if company and access.can_view(request.user, company) else None,
        phone=format_phone(lead.phone) if lead.phone else "",
        convert_form=LeadConvertForm(),
        **_duplicates(request, lead),
    )
    return render(request, "customers/lead_detail.html", context)


# Create and edit ---------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    form: type
    detail: Callable[..., Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any] | None
    new_title: Any


RECORD_KINDS = {
    "company": RecordKind(
        CompanyForm,
        selectors.company_detail,
        services.company_create,
        services.company_update,
        services.company_delete,
        gettext_lazy("New company"),
    ),
    "contact": RecordKind(
        ContactForm,
        selectors.contact_detail,
        services.contact_create,
        services.contact_update,
        services.contact_delete,
        gettext_lazy("New contact"),
    ),
    "lead": RecordKind(
        LeadForm,
        selectors.lead_detail,
        services.lead_create,
        services.lead_update,
        services.lead_delete,
        gettext_lazy("New lead"),
    ),
}


def _record_form(request, object_type: str, instance):
    kind = RECORD_KINDS[object_type]
    data = request.POST if request.method == "POST" else None
    initial = {k: v for k, v in request.GET.items() if k in ("parent", "company", "kind")}
    if instance is None:
        initial.update(owner=request.user.pk, team=request.user.team_id)
        title = str(kind.new_title)
        back = reverse(f"customers:{object_type}_list")
        hint_url = f"{reverse('dedup:hint')}?entity={object_type}"

        def save(kwargs):
            return kind.create(actor=request.user, **kwargs)
    else:
        ui.require_edit(request, instance)
        title = _("Edit %(name)s") % {"name": instance}
        back = reverse(f"customers:{object_type}_detail", args=[instance.pk])
        hint_url = ""

        def save(kwargs):
            return kind.update(actor=request.user, **{object_type: instance}, **kwargs)

    return ui.record_form_page(
        request,
        form=kind.form(data, instance=instance, initial=initial),
        save=save,
        success_url=lambda obj: reverse(f"customers:{object_type}_detail", args=[obj.pk]),
        template="core/record_form.html",
        context={
            "title": title,
            "back_url": back,
            "object": instance,
            "prefectures": PREFECTURE_SUGGESTIONS,
            "hint_url": hint_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_create(request, object_type):
    return _record_form(request, object_type, None)


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request, object_type, pk):
    instance = RECORD_KINDS[object_type].detail(user=request.user, pk=pk)
    return _record_form(request, object_type, instance)


@login_required
@require_POST
def lead_convert(request, pk):
    lead = selectors.lead_detail(user=request.user, pk=pk)
    form = LeadConvertForm(request.POST)
    if not form.is_valid():
        return redirect("customers:lead_detail", pk=lead.pk)
    try:
        result = services.lead_convert(
            actor=request.user, lead=lead, company=form.cleaned_data.get("company")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:lead_detail", pk=lead.pk)
    if result.contact_created:
        messages.success(request, _("The lead is now a contact."))
    else:
        messages.success(request, _("The lead was linked to an existing contact."))
    return redirect("customers:contact_detail", pk=result.contact.pk)


# Delete, history, pickers ------------------------------------------------


@login_required
@require_POST
def record_delete(request, object_type, pk):
    kind = RECORD_KINDS[object_type]
    obj = kind.detail(user=request.user, pk=pk)
    ui.require_edit(request, obj)
    try:
        kind.delete(actor=request.user, **{object_type: obj})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"customers:{object_type}_detail", pk=pk)
    messages.success(request, _("Deleted %(name)s.") % {"name": obj})
    return redirect(f"customers:{object_type}_list")


@login_required
def record_history(request, object_type, pk):
    obj = RECORD_KINDS[object_type].detail(user=request.user, pk=pk)
    return ui.history_page(
        request, obj, back_url=reverse(f"customers:{object_type}_detail", args=[pk])
    )


PICK_LISTS = {
    "company": selectors.company_list,
    "contact": selectors.contact_list,
    "lead": selectors.lead_list,
}


@login_required
def record_pick(request, object_type):
    """Matches for a record picker's search box."""
    q = request.GET.get("q", "").strip()
    results = []
    if q:
        found = PICK_LISTS[object_type](user=request.user, filters={"q": q})
        results = first_rows(found, 15)
    return render(request, "core/_pick_results.html", {"results": results})
