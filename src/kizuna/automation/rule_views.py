"""Admin pages for automation rules, assignment rules and the away toggle."""

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.automation import rules, services
from kizuna.automation.models import AssignmentRule, Rule, WebhookSubscription
from kizuna.core import access, ui
from kizuna.customers.forms import PREFECTURE_SUGGESTIONS
from kizuna.customers.models import CompanySize, Industry
from kizuna.iam.models import Team, User

COND_KEYS = ("field", "op", "value")
ACT_KEYS = (
    "type",
    "subject",
    "assignee",
    "user",
    "team",
    "due_days",
    "mode",
    "to",
    "message",
    "field",
    "value",
    "url",
    "subscription",
    "template",
)
RULE_KEYS = (
    "name",
    "object_type",
    "trigger",
    "trigger_field",
    "trigger_value",
    "stage",
    "offset_days",
    "hours",
    "match",
)


def _rows(data, prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows posted as ``<prefix>-<n>-<key>``, in the order of ``n``."""
    indices = sorted(
        {
            int(name.split("-")[1])
            for name in data
            if name.startswith(f"{prefix}-") and name.split("-")[1].isdigit()
        }
    )
    return [{k: data.get(f"{prefix}-{i}-{k}", "") for k in keys} for i in indices]


def _rule_data(rule: Rule | None, object_type: str = "lead") -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "object_type": object_type,
            "trigger": Rule.Trigger.CREATED,
            "trigger_field": "",
            "trigger_value": "",
            "stage": "",
            "offset_days": "0",
            "hours": "24",
            "match": Rule.Match.ALL,
            "conditions": [],
            "actions": [{"type": "create_task", "assignee": "owner", "due_days": "2"}],
        }
    return {
        **{k: getattr(rule, k) for k in RULE_KEYS if k != "stage"},
        "stage": rule.stage_id or "",
        "conditions": [{k: str(c.get(k, "")) for k in COND_KEYS} for c in rule.conditions],
        "actions": [
            {k: str(a.get(k, "")) for k in ACT_KEYS if a.get(k) is not None} for a in rule.actions
        ],
    }


def _posted(request) -> dict[str, Any]:
    data = {k: request.POST.get(k, "") for k in RULE_KEYS}
    data["conditions"] = _rows(request.POST, "cond", COND_KEYS)
    data["actions"] = _rows(request.POST, "act", ACT_KEYS)
    op = request.POST.get("_op", "")
    if op == "add_condition":
        data["conditions"].append({"field": "", "op": "eq", "value": ""})
    elif op == "add_action":
        data["actions"].append({"type": "notify", "to": "owner"})
    elif op.startswith("remove_cond_"):
        i = int(op.rsplit("_", 1)[1])
        data["conditions"] = [c for n, c in enumerate(data["conditions"]) if n != i]
    elif op.startswith("remove_act_"):
        i = int(op.rsplit("_", 1)[1])
        data["actions"] = [a for n, a in enumerate(data["actions"]) if n != i]
    return data


def _choices_context(data: dict[str, Any]) -> dict[str, Any]:
    from kizuna.sales.models import Stage

    object_type = data["object_type"] if data["object_type"] in rules.MODELS else "lead"
    catalogue = rules.field_catalogue(object_type)
    users = list(User.objects.filter(is_active=True).order_by("display_name", "username"))
    teams = list(Team.objects.all())
    stages = list(Stage.objects.select_related("pipeline").order_by("pipeline", "position"))
    for c in data["conditions"]:
        info = catalogue.get(c.get("field", ""))
        c["info"] = info
        c["ops"] = [(k, rules.OPS[k]) for k in rules.OPS_BY_KIND[info.kind]] if info else []
        if c["ops"] and c.get("op") not in dict(c["ops"]):
            c["op"] = c["ops"][0][0]
    for a in data["actions"]:
        a["info"] = catalogue.get(a.get("field", ""))
    action_types = list(rules.ACTION_TYPES.items())
    templates: list[Any] = []
    if rules.mail_available():
        from kizuna.mail.models import EmailTemplate

        action_types.append(("send_email", gettext_lazy("Send a template e-mail")))
        templates = list(EmailTemplate.objects.all())
    return {
        "data": data,
        "object_types": Rule.ObjectType.choices,
        "triggers": Rule.Trigger.choices,
        "matches": Rule.Match.choices,
        "fields": list(catalogue.values()),
        "writable_fields": [
            f for f in catalogue.values() if f.writable and f.kind not in ("tags", "datetime")
        ],
        "timed_fields": [f for f in catalogue.values() if f.timed],
        "users": users,
        "teams": teams,
        "stages": stages,
        "action_types": action_types,
        "task_assignees": list(rules.TASK_ASSIGNEES.items()),
        "notify_targets": list(rules.NOTIFY_TARGETS.items()),
        "assign_modes": list(rules.ASSIGN_MODES.items()),
        "subscriptions": list(WebhookSubscription.objects.filter(is_active=True)),
        "templates": templates,
    }


def _errors_onto(data: dict[str, Any], exc: ValidationError) -> list[str]:
    """Put row errors on their rows; return the others."""
    general: list[str] = []
    data["errors"] = {}
    for key, messages_ in exc.message_dict.items():
        if key.startswith(("conditions.", "actions.")):
            kind, _dot, index = key.partition(".")
            rows = data[kind]
            if index.isdigit() and int(index) < len(rows):
                rows[int(index)]["error"] = " ".join(messages_)
                continue
        if key in RULE_KEYS or key == "actions":
            data["errors"][key] = " ".join(messages_)
            continue
        general.extend(messages_)
    return general


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip() or default)
    except ValueError:
        return default


def _save(request, rule: Rule | None, data: dict[str, Any]) -> Rule:
    from kizuna.sales.models import Stage

    stage = Stage.objects.filter(pk=_int(data["stage"])).first() if data["stage"] else None
    return services.rule_save(
        actor=request.user,
        rule=rule,
        name=data["name"],
        object_type=data["object_type"],
        trigger=data["trigger"],
        trigger_field=data["trigger_field"],
        trigger_value=data["trigger_value"],
        stage=stage,
        offset_days=_int(data["offset_days"]),
        hours=_int(data["hours"]),
        match=data["match"] or Rule.Match.ALL,
        conditions=[{k: c.get(k, "") for k in COND_KEYS} for c in data["conditions"]],
        actions=[
            {k: v for k, v in a.items() if k in ACT_KEYS and v != ""} for a in data["actions"]
        ],
        is_active=rule.is_active if rule is not None else True,
    )


def _rule_form(request, rule: Rule | None):
    access.require_admin(request.user, access.ADMIN_PAGE)
    general: list[str] = []
    if request.method == "POST":
        data = _posted(request)
        if request.POST.get("_op") in (None, "", "save"):
            try:
                saved = _save(request, rule, data)
            except ValidationError as exc:
                general = _errors_onto(data, exc)
            else:
                messages.success(request, _("The rule was saved."))
                url = reverse("automation:rule_detail", args=[saved.pk])
                if request.htmx:
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
    else:
        data = _rule_data(rule, request.GET.get("object_type", "lead"))
    context = {"rule": rule, "general_errors": general, **_choices_context(data)}
    template = "automation/_rule_form.html" if request.htmx else "automation/rule_form.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    return _rule_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    return _rule_form(request, get_object_or_404(Rule, pk=pk))


@login_required
def rule_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    return render(
        request,
        "automation/rule_list.html",
        {"rules": Rule.objects.select_related("stage")},
    )


@login_required
def rule_detail(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    rule = get_object_or_404(Rule.objects.select_related("stage", "created_by"), pk=pk)
    page = ui.paginate(request, rule.runs.all())
    catalogue = rules.field_catalogue(rule.object_type)

    def label(key: str) -> str:
        info = catalogue.get(key)
        return info.label if info else key

    conditions = [
        (label(c["field"]), rules.OPS.get(c["op"], c["op"]), c.get("value", ""))
        for c in rule.conditions
    ]
    labels = {**rules.ACTION_TYPES, "send_email": gettext_lazy("Send a template e-mail")}
    actions = [(labels.get(a["type"], a["type"]), a) for a in rule.actions]
    return render(
        request,
        "automation/rule_detail.html",
        {
            "rule": rule,
            "page": page,
            "conditions": conditions,
            "actions": actions,
            "trigger_field_label": label(rule.trigger_field) if rule.trigger_field else "",
            "users": {u.pk: u for u in User.objects.all()},
        },
    )


@login_required
@require_POST
def rule_toggle(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    rule = get_object_or_404(Rule, pk=pk)
    try:
        services.rule_set_active(actor=request.user, rule=rule, active=not rule.is_active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("automation:rule_detail", pk=pk)


@login_required
@require_POST
def rule_delete(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    services.rule_delete(actor=request.user, rule=get_object_or_404(Rule, pk=pk))
    messages.success(request, _("The rule was deleted."))
    return redirect("automation:rule_list")


# -- assignment --------------------------------------------------------------


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    team = forms.ModelChoiceField(Team.objects.all(), label=gettext_lazy("Team"))
    prefectures = forms.CharField(
        label=gettext_lazy("Prefectures / provinces"),
        required=False,
        help_text=gettext_lazy("Separated by commas, e.g. 大阪府, 京都府, 兵庫県. Empty: any."),
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Industries"),
        choices=Industry.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sizes = forms.MultipleChoiceField(
        label=gettext_lazy("Company sizes"),
        choices=CompanySize.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    form = AssignmentRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        places = [p.strip() for p in data["prefectures"].replace("、", ",").split(",")]
        try:
            services.assignment_rule_create(
                actor=request.user,
                name=data["name"],
                team=data["team"],
                prefectures=[p for p in places if p],
                industries=data["industries"],
                sizes=data["sizes"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The assignment rule was added."))
            return redirect("automation:assignment_list")
    assignment_rules = list(AssignmentRule.objects.select_related("team"))
    today = datetime.date.today()
    by_team: dict[int, list] = {}
    for m in User.objects.filter(is_active=True, team__isnull=False).order_by("id"):
        by_team.setdefault(m.team_id, []).append(
            (m, m.away_until is not None and m.away_until >= today)
        )
    teams = [(team, by_team.get(team.pk, [])) for team in Team.objects.all()]
    industries = dict(Industry.choices)
    sizes = dict(CompanySize.choices)
    for r in assignment_rules:
        r.industry_labels = [industries.get(i, i) for i in r.industries]
        r.size_labels = [sizes.get(s, s) for s in r.sizes]
    return render(
        request,
        "automation/assignment_list.html",
        {
            "form": form,
            "assignment_rules": assignment_rules,
            "teams": teams,
            "prefectures": PREFECTURE_SUGGESTIONS,
        },
    )


@login_required
@require_POST
def assignment_toggle(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    rule = get_object_or_404(AssignmentRule, pk=pk)
    services.assignment_rule_set_active(actor=request.user, rule=rule, active=not rule.is_active)
    return redirect("automation:assignment_list")


@login_required
@require_POST
def assignment_delete(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    services.assignment_rule_delete(
        actor=request.user, rule=get_object_or_404(AssignmentRule, pk=pk)
    )
    messages.success(request, _("The assignment rule was deleted."))
    return redirect("automation:assignment_list")


@login_required
@require_POST
def away_set(request):
    """The profile page's "away until" toggle (round-robin skips the user)."""
    from kizuna.iam.services import user_set_away

    raw = request.POST.get("away_until", "").strip()
    until = None
    if raw and request.POST.get("back") != "1":
        try:
            until = datetime.date.fromisoformat(raw)
        except ValueError:
            messages.error(request, _("Enter a date as YYYY-MM-DD."))
            return redirect("iam:profile")
    try:
        user_set_away(user=request.user, until=until)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if until:
            messages.success(
                request,
                _("You are away until %(date)s; new leads go to your colleagues.")
                % {"date": until.isoformat()},
            )
        else:
            messages.success(request, _("Welcome back: you get new leads again."))
    return redirect("iam:profile")
