from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.activities.selectors import activity_list, open_tasks
from kizuna.core import access, services, ui
from kizuna.core.models import (
    AccessLevel,
    AccessPolicy,
    AuditEntry,
    CustomFieldDefinition,
    ObjectType,
)
from kizuna.customers import selectors as customer_selectors
from kizuna.iam.models import Team, User
from kizuna.iam.selectors import team_list, user_list


@login_required
def home(request):
    today = timezone.localdate()
    tasks = open_tasks(user=request.user)
    mine = {"owner": request.user.pk}
    due = {**mine, "next_action_due_before": today + timezone.timedelta(days=7)}
    return render(
        request,
        "core/home.html",
        {
            "today": today,
            "tasks": tasks[:20],
            "overdue_count": tasks.filter(due_date__lt=today).count(),
            "companies_due": customer_selectors.company_list(
                user=request.user, filters=due
            ).order_by("next_action_due")[:10],
            "contacts_due": customer_selectors.contact_list(
                user=request.user, filters=due
            ).order_by("next_action_due")[:10],
            "recent": activity_list(user=request.user).filter(owner=request.user)[:10],
            "new_leads": customer_selectors.lead_list(
                user=request.user, filters={**mine, "status": "new"}
            )[:10],
        },
    )


@login_required
def search(request):
    q = request.GET.get("q", "").strip()
    results = customer_selectors.global_search(user=request.user, q=q, limit=8)
    template = "core/_search_results.html" if request.htmx else "core/search.html"
    return render(request, template, {"q": q, **results})


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", "---------"), *AuditEntry.Action.choices],
    )
    actor = forms.ModelChoiceField(User.objects.all(), label=gettext_lazy("User"), required=False)
    object_type = forms.CharField(label=gettext_lazy("Object type"), required=False)
    day = forms.DateField(
        label=gettext_lazy("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@login_required
def audit_log(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    form = AuditFilterForm(request.GET)
    entries = AuditEntry.objects.select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["actor"]:
            entries = entries.filter(actor=data["actor"])
        if data["object_type"]:
            entries = entries.filter(object_type=data["object_type"])
        if data["day"]:
            entries = entries.filter(at__date=data["day"])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {"form": form, "page": ui.paginate(request, entries), "query": query.urlencode()},
    )


class CustomFieldForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For select and multi-select: one choice per line."),
    )

    class Meta:
        model = CustomFieldDefinition
        fields = [
            "object_type",
            "key",
            "label",
            "label_ja",
            "label_ko",
            "field_type",
            "currency",
            "required",
            "show_in_list",
            "position",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["choices_text"] = "\n".join(self.instance.choices)
            for name in ("object_type", "key", "field_type"):
                self.fields[name].disabled = True

    def _post_clean(self):
        # The service validates the model; the form only checks types.
        pass

    def service_kwargs(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["choices"] = [
            line.strip() for line in self.cleaned_data["choices_text"].splitlines() if line.strip()
        ]
        return data

    def add_service_errors(self, exc):
        for field, errors in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


@login_required
def customfield_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    return render(
        request,
        "core/customfield_list.html",
        {"definitions": CustomFieldDefinition.objects.all()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def customfield_edit(request, pk=None):
    access.require_admin(request.user, access.ADMIN_PAGE)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk) if pk else None
    form = CustomFieldForm(request.POST or None, instance=definition)

    def save(kwargs):
        if definition is None:
            return services.customfield_create(actor=request.user, **kwargs)
        return services.customfield_update(actor=request.user, definition=definition, **kwargs)

    return ui.record_form_page(
        request,
        form=form,
        save=save,
        success_url=lambda d: reverse("core:customfield_list"),
        template="core/record_form.html",
        context={
            "title": _("Custom field") if definition is None else str(definition),
            "back_url": reverse("core:customfield_list"),
        },
    )


@login_required
@require_POST
def customfield_delete(request, pk):
    access.require_admin(request.user, access.ADMIN_PAGE)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    services.customfield_delete(actor=request.user, definition=definition)
    messages.success(request, _("Deleted %(name)s.") % {"name": definition})
    return redirect("core:customfield_list")


@login_required
@require_http_methods(["GET", "POST"])
def access_settings(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    levels = dict(AccessPolicy.objects.values_list("object_type", "level"))
    if request.method == "POST":
        for object_type in ObjectType.values:
            level = request.POST.get(object_type)
            if level in AccessLevel.values:
                services.access_policy_set(actor=request.user, object_type=object_type, level=level)
        messages.success(request, _("Saved."))
        return redirect("core:access_settings")
    rows = [
        (value, label, levels.get(value, access.DEFAULT_LEVEL))
        for value, label in ObjectType.choices
    ]
    return render(
        request, "core/access_settings.html", {"rows": rows, "levels": AccessLevel.choices}
    )


@login_required
@require_http_methods(["GET", "POST"])
def share(request, object_type, pk):
    """Share a record with a user or a team (GET: the form, for the record's editors)."""
    detail = {
        "company": customer_selectors.company_detail,
        "contact": customer_selectors.contact_detail,
        "lead": customer_selectors.lead_detail,
    }.get(object_type)
    if detail is None:
        raise PermissionDenied
    obj = detail(user=request.user, pk=pk)
    if request.method == "GET":
        if not access.can_edit(request.user, obj):
            raise PermissionDenied(_("You may not share this record."))
        return render(
            request,
            "core/_share_form.html" if request.htmx else "core/share.html",
            {"object": obj, "users": user_list(), "teams": team_list()},
        )
    kind, _sep, grantee_id = request.POST.get("grantee", "").partition(":")
    user = team = None
    if kind == "user" and grantee_id.isdigit():
        user = get_object_or_404(User, pk=grantee_id, is_active=True)
    elif kind == "team" and grantee_id.isdigit():
        team = get_object_or_404(Team, pk=grantee_id)
    try:
        services.share_create(
            actor=request.user,
            obj=obj,
            user=user,
            team=team,
            can_edit=request.POST.get("can_edit") == "1",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Shared."))
    return redirect(f"customers:{object_type}_detail", pk=pk)
