"""Every write to pipelines and deals."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.analytics import summary
from kizuna.automation import rules
from kizuna.core import access, audit, records
from kizuna.core.models import AuditEntry
from kizuna.sales import criteria
from kizuna.sales.models import (
    Deal,
    DealContact,
    HandoffTask,
    LossReason,
    Phase,
    Pipeline,
    Stage,
    StageChange,
)
from kizuna.sales.quotes import pricing

DEAL_FIELDS = [
    "name",
    "company",
    "pipeline",
    "amount",
    "currency",
    "expected_close_date",
    "channel",
    "source_lead",
    "probability",
    "probability_reason",
    "forecast_category",
    "budget_status",
    "budget_note",
    "authority_status",
    "authority_note",
    "need_status",
    "need_note",
    "timing_status",
    "timing_note",
    "first_reaction",
    "first_reaction_note",
    "competitor",
    "competitor_name",
    "hurdle",
    "hurdle_note",
    "next_step",
    "next_step_note",
    "loss_reason",
    "loss_note",
    "won_points",
    "won_terms",
    "handoff_notes",
    "next_action",
    "next_action_due",
]
OWNERSHIP = ["owner", "team"]
AUDITED = [*DEAL_FIELDS, "stage", "status", *OWNERSHIP]
PIPELINES_ADMIN_ONLY = gettext_lazy("Only administrators can change pipelines.")
CURRENCIES = pricing.MINOR_UNITS


class ExitCriteriaError(ValidationError):
    """A forward move refused because the stages being left are not complete."""

    def __init__(self, stage: Stage, missing: list[criteria.Missing]):
        self.stage = stage
        self.missing = missing
        items = "、".join(m.label for m in missing)
        super().__init__(
            _("Cannot move to %(stage)s yet. Missing: %(items)s")
            % {"stage": stage.label, "items": items},
            code="exit_criteria",
        )


# Money -------------------------------------------------------------------


def parse_amount(value: Any, currency: str = "JPY") -> Decimal:
    """A deal amount as people type it (see ``quotes.pricing.parse_amount``), never negative."""
    try:
        amount = pricing.parse_amount("0" if value in (None, "") else value, currency=currency)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.messages}) from exc
    if amount < 0:
        raise ValidationError({"amount": [_("The amount cannot be negative.")]})
    return amount


# Deals -------------------------------------------------------------------


def _stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.all())


def _passed_stages(stages: list[Stage], current: Stage | None, target: Stage) -> list[Stage]:
    """The open stages a forward move from ``current`` to ``target`` leaves behind."""
    start = current.position if current is not None else -1
    if target.outcome == Stage.Outcome.LOST:
        return []
    if current is not None and current.outcome != Stage.Outcome.OPEN:
        return []
    if target.position <= start:
        return []
    if current is None:
        return [s for s in stages if s.is_open and s.position < target.position]
    return [s for s in stages if s.is_open and start <= s.position < target.position]


def passed_stages(deal: Deal, target: Stage) -> list[Stage]:
    """The stages whose exit criteria a move of ``deal`` to ``target`` checks."""
    return _passed_stages(_stages(target.pipeline), deal.stage, target)


def check_exit_criteria(deal: Deal, target: Stage, *, from_stage: Stage | None) -> None:
    """Refuse a forward move from ``from_stage`` (None: a new deal) that leaves stages
    incomplete; every open stage passed over counts, so skipping a stage skips nothing."""
    stages = _stages(target.pipeline)
    passed = _passed_stages(stages, from_stage, target)
    missing = criteria.missing_items(deal, passed)
    if missing:
        raise ExitCriteriaError(target, missing)


def _clean(deal: Deal, actor) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    deal.currency = (deal.currency or "JPY").upper()
    if deal.currency not in CURRENCIES:
        errors["currency"] = [_("Choose a supported currency.")]
    else:
        try:
            deal.amount = parse_amount(deal.amount, deal.currency)
        except ValidationError as exc:
            errors |= exc.message_dict
    for field in ("company", "source_lead"):
        try:
            records.require_visible(actor, getattr(deal, field), field)
        except ValidationError as exc:
            errors |= exc.message_dict
    if deal.probability is not None and deal.probability > 100:
        errors["probability"] = [_("A probability is between 0 and 100.")]
    if (
        deal.probability is not None
        and deal.stage_id
        and deal.probability != deal.stage.probability
        and not deal.probability_reason
    ):
        errors["probability_reason"] = [_("Say why the probability differs from the stage's.")]
    if deal.next_action_due and not deal.next_action:
        errors["next_action"] = [_("Say what the next action is.")]
    if deal.competitor == Deal.Competitor.NO:
        deal.competitor_name = ""
    return errors


def _set_contacts(deal: Deal, actor, contacts: list[tuple[Any, str]] | None) -> None:
    if contacts is None:
        return
    errors = []
    for contact, role in contacts:
        if not access.can_view(actor, contact):
            errors.append(_("Choose a record you have access to."))
        if role not in DealContact.Role.values:
            errors.append(_("Choose a valid role."))
    if errors:
        raise ValidationError({"contacts": sorted(set(errors))})
    deal.deal_contacts.all().delete()
    DealContact.objects.bulk_create(
        [DealContact(deal=deal, contact=c, role=r) for c, r in dict(contacts).items()]
    )


def _snapshot(deal: Deal) -> dict[str, Any]:
    data = records.record_snapshot(deal, AUDITED)
    if deal.pk:
        data["contacts"] = sorted(f"{dc.contact_id}:{dc.role}" for dc in deal.deal_contacts.all())
    return data


@transaction.atomic
def deal_create(
    *,
    actor,
    owner=None,
    team=None,
    stage: Stage | None = None,
    contacts: list[tuple[Any, str]] | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Deal:
    deal = Deal(owner=owner or actor)
    deal.team = team or deal.owner.team
    records.assign_fields(deal, fields, DEAL_FIELDS)
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    if deal.pipeline_id is None:
        pipeline = Pipeline.objects.filter(is_active=True).first()
        if pipeline is None:
            raise ValidationError({"pipeline": [_("Create a pipeline first.")]})
        deal.pipeline = pipeline
    stages = _stages(deal.pipeline)
    if stage is None:
        stage = next((s for s in stages if s.is_open), None)
    if stage is None or stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": [_("Choose a stage of the deal's pipeline.")]})
    errors = _clean(deal, actor)
    errors |= records.clean_custom_fields(deal, custom_fields or {})
    records.validate(deal, errors, exclude=["stage"])
    deal.stage = stage
    deal.status = stage.outcome
    now = timezone.now()
    deal.stage_entered_at = deal.last_touched_at = now
    if stage.outcome != Stage.Outcome.OPEN:
        deal.closed_at = now
    deal.refresh_search_index()
    tracked = summary.track(leads=summary.source_leads(deal.source_lead_id))
    deal.save()
    _set_contacts(deal, actor, contacts)
    records.set_tags(deal, tags)
    check_exit_criteria(deal, stage, from_stage=None)
    StageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, actor=actor, at=now)
    records.audit_create(actor, deal, AUDITED)
    rules.record_event(obj=deal, event="created")
    if stage.outcome == Stage.Outcome.WON:
        _create_handoff_tasks(actor, deal)
    created = summary.deal_scope(deal.pk)
    tracked.done(deals=created["deals"], activities=created["activities"])
    from kizuna.automation.webhooks import emit_event

    emit_event(event="deal.created", payload=webhook_payload(deal))
    return deal


@transaction.atomic
def deal_update(
    *,
    actor,
    deal: Deal,
    version: int | None = None,
    owner=None,
    team=None,
    contacts: list[tuple[Any, str]] | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Deal:
    deal = records.lock(Deal, deal.pk)
    records.require_edit(actor, deal)
    records.check_version(deal, version)
    new_lead = fields.get("source_lead")
    tracked = summary.track(
        deals=Deal.objects.filter(pk=deal.pk),
        leads=summary.source_leads(deal.source_lead_id, getattr(new_lead, "pk", new_lead)),
    )
    before = _snapshot(deal)
    if "pipeline" in fields and fields["pipeline"] != deal.pipeline:
        raise ValidationError({"pipeline": [_("Move the deal to a stage to change pipelines.")]})
    fields.pop("pipeline", None)
    records.assign_fields(deal, fields, DEAL_FIELDS)
    if owner is not None:
        if not owner.is_active:
            raise ValidationError({"owner": [_("Choose an active user.")]})
        deal.owner = owner
    if team is not None:
        deal.team = team
    errors = _clean(deal, actor)
    if deal.status == Deal.Status.LOST and deal.loss_reason_id is None:
        errors["loss_reason"] = [_("Choose why the deal was lost.")]
    errors |= records.clean_custom_fields(deal, custom_fields)
    records.validate(deal, errors)
    deal.refresh_search_index()
    deal.version += 1
    deal.save()
    _set_contacts(deal, actor, contacts)
    records.set_tags(deal, tags)
    after = _snapshot(deal)
    records.audit_update(actor, deal, before, after)
    rules.record_event(obj=deal, event="updated", before=before, after=after)
    tracked.done()
    return deal


@transaction.atomic
def deal_move(
    *,
    actor,
    deal: Deal,
    stage: Stage,
    version: int | None = None,
    loss_reason: LossReason | None = None,
    loss_note: str | None = None,
) -> Deal:
    """Move a deal to ``stage``: forward only when the stages left are complete."""
    deal = records.lock(Deal, deal.pk)
    records.require_edit(actor, deal)
    records.check_version(deal, version)
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": [_("Choose a stage of the deal's pipeline.")]})
    if stage.pk == deal.stage_id:
        return deal
    if stage.outcome == Stage.Outcome.LOST:
        if loss_reason is not None:
            deal.loss_reason = loss_reason
        if loss_note is not None:
            deal.loss_note = loss_note.strip()
        if deal.loss_reason_id is None:
            raise ValidationError({"loss_reason": [_("Choose why the deal was lost.")]})
    check_exit_criteria(deal, stage, from_stage=deal.stage)
    tracked = summary.track(**summary.deal_scope(deal.pk))
    before = _snapshot(deal)
    now = timezone.now()
    previous = deal.stage
    StageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=stage,
        actor=actor,
        at=now,
        seconds_in_from=max(0, int((now - deal.stage_entered_at).total_seconds())),
    )
    was = deal.status
    deal.stage = stage
    deal.status = stage.outcome
    deal.stage_entered_at = deal.last_touched_at = now
    if deal.status == Deal.Status.OPEN:
        deal.closed_at = None
        deal.loss_reason = None
    elif was == Deal.Status.OPEN or deal.closed_at is None:
        deal.closed_at = now
    deal.version += 1
    deal.save()
    after = _snapshot(deal)
    records.audit_update(actor, deal, before, after)
    rules.record_event(obj=deal, event="stage_entered", before=before, after=after, stage=stage)
    _log_move(actor, deal, previous, stage, now)
    if deal.status == Deal.Status.WON and was != Deal.Status.WON:
        _create_handoff_tasks(actor, deal)
    tracked.done()
    _emit_move(deal, previous, was)
    return deal


def webhook_payload(deal: Deal) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "name": deal.name,
        "company": {"id": deal.company_id, "name": deal.company.name},
        "amount": str(deal.amount),
        "currency": deal.currency,
        "stage": {"id": deal.stage_id, "name": deal.stage.name},
        "status": deal.status,
        "owner": deal.owner_id,
        "team": deal.team_id,
        "expected_close_date": deal.expected_close_date,
        "closed_at": deal.closed_at,
    }


def _emit_move(deal: Deal, previous: Stage, was: str) -> None:
    from kizuna.automation.webhooks import emit_event

    payload = {**webhook_payload(deal), "from_stage": {"id": previous.pk, "name": previous.name}}
    emit_event(event="deal.stage_changed", payload=payload)
    if deal.status != was and deal.status in (Deal.Status.WON, Deal.Status.LOST):
        emit_event(event=f"deal.{deal.status}", payload=payload)


def _log_move(actor, deal: Deal, previous: Stage, stage: Stage, at: datetime.datetime) -> None:
    from kizuna.activities.models import Activity

    # The subject is written in the mover's language; the stage history keeps the stages.
    with translation.override(getattr(actor, "language", None) or translation.get_language()):
        subject = f"{previous.label} → {stage.label}"[:200]
    activity = Activity(
        kind=Activity.Kind.STAGE,
        subject=subject,
        body="",
        occurred_at=at,
        company=deal.company,
        deal=deal,
        owner=actor,
        team=deal.team,
    )
    activity.refresh_search_index()
    activity.save()


def _create_handoff_tasks(actor, deal: Deal) -> None:
    from kizuna.activities.models import Activity

    today = timezone.localdate()
    templates = HandoffTask.objects.filter(Q(pipeline=deal.pipeline) | Q(pipeline__isnull=True))
    for template in templates.select_related("assignee"):
        assignee = template.assignee if template.assignee and template.assignee.is_active else None
        assignee = assignee or deal.owner
        subject = template.subject
        language = getattr(assignee, "language", "") or "ja"
        subject = template.translations.get(language[:2]) or subject
        task = Activity(
            kind=Activity.Kind.TASK,
            subject=f"{subject}: {deal.name}"[:200],
            body=deal.handoff_notes,
            company=deal.company,
            deal=deal,
            owner=deal.owner,
            team=deal.team,
            assignee=assignee,
            due_date=today + datetime.timedelta(days=template.due_in_days),
        )
        task.refresh_search_index()
        task.save()
        records.audit_create(actor, task, ["kind", "subject", "assignee", "due_date", "deal"])


@transaction.atomic
def deal_bulk_move(*, actor, deals: list[Deal], stage: Stage) -> list[Deal]:
    """Move every deal or none: a refusal for one deal names it and what it lacks."""
    errors: list[str] = []
    moved = []
    for deal in deals:
        try:
            with transaction.atomic():
                moved.append(deal_move(actor=actor, deal=deal, stage=stage))
        except ExitCriteriaError as exc:
            items = "、".join(m.label for m in exc.missing)
            errors.append(_("%(deal)s: missing %(items)s") % {"deal": deal.name, "items": items})
        except ValidationError as exc:
            errors.append(f"{deal.name}: {' '.join(exc.messages)}")
        except PermissionDenied:
            errors.append(_("%(deal)s: you may not change this deal.") % {"deal": deal.name})
    if errors:
        raise ValidationError(errors)
    return moved


@transaction.atomic
def deal_set_checklist(*, actor, deal: Deal, stage: Stage, key: str, done: bool) -> Deal:
    deal = records.lock(Deal, deal.pk)
    records.require_edit(actor, deal)
    if stage.pipeline_id != deal.pipeline_id or key not in {i["key"] for i in stage.checklist}:
        raise ValidationError({"checklist": [_("Unknown checklist item.")]})
    ticked = set(deal.checklist_done.get(str(stage.pk), []))
    before = sorted(ticked)
    ticked.add(key) if done else ticked.discard(key)
    deal.checklist_done = {**deal.checklist_done, str(stage.pk): sorted(ticked)}
    deal.version += 1
    deal.save(update_fields=["checklist_done", "version", "updated_at"])
    records.audit_update(
        actor, deal, {f"checklist.{stage.pk}": before}, {f"checklist.{stage.pk}": sorted(ticked)}
    )
    return deal


@transaction.atomic
def deal_delete(*, actor, deal: Deal) -> None:
    deal = records.lock(Deal, deal.pk)
    records.require_edit(actor, deal)
    records.audit_delete(actor, deal, AUDITED)
    tracked = summary.track(**summary.deal_scope(deal.pk))
    deal.delete()
    tracked.done()


def deal_touch(*, deal_id: int, at: datetime.datetime) -> None:
    """An activity happened on the deal: it is not stalled as of ``at``."""
    Deal.objects.filter(pk=deal_id, last_touched_at__lt=at).update(last_touched_at=at)


# Pipelines (admins) ------------------------------------------------------


@transaction.atomic
def pipeline_install_template(*, actor, template: str) -> Pipeline:
    from kizuna.sales import presets

    access.require_admin(actor, PIPELINES_ADMIN_ONLY)
    if template not in presets.TEMPLATES:
        raise ValidationError({"template": [_("Unknown template.")]})
    position = Pipeline.objects.count()
    pipeline = presets.install_pipeline(
        template, Pipeline=Pipeline, Phase=Phase, Stage=Stage, position=position
    )
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        obj=pipeline,
        changes={"template": [None, template]},
    )
    return pipeline


def _translations(values: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if k in ("ja", "ko", "en") and v.strip()}


@transaction.atomic
def pipeline_save(
    *,
    actor,
    pipeline: Pipeline | None,
    name: str,
    translations: dict[str, str],
    kind: str,
    default_stall_days: int,
    is_active: bool,
    stages: list[dict[str, Any]],
) -> Pipeline:
    """Create or replace a pipeline's settings and its ordered stages.

    ``stages``: ``[{"id": existing id or None, "name", "translations", "phase" (a phase name
    or ""), "probability", "outcome", "stall_days", "required_fields", "checklist": [names]}]``.
    A stage that has deals cannot be removed.
    """
    access.require_admin(actor, PIPELINES_ADMIN_ONLY)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not any(s["outcome"] == Stage.Outcome.OPEN for s in stages):
        errors["stages"] = [_("A pipeline needs at least one open stage.")]
    if not any(s["outcome"] == Stage.Outcome.WON for s in stages):
        errors.setdefault("stages", []).append(_("A pipeline needs a won stage."))
    if not any(s["outcome"] == Stage.Outcome.LOST for s in stages):
        errors.setdefault("stages", []).append(_("A pipeline needs a lost stage."))
    known = {k for k, _label in criteria.choices()}
    for s in stages:
        unknown = set(s.get("required_fields", [])) - known
        if unknown:
            errors.setdefault("stages", []).append(
                _("Unknown required field: %(names)s") % {"names": ", ".join(sorted(unknown))}
            )
        if not str(s.get("name", "")).strip():
            errors.setdefault("stages", []).append(_("Every stage needs a name."))
        if not 0 <= int(s.get("probability") or 0) <= 100:
            errors.setdefault("stages", []).append(_("A probability is between 0 and 100."))
    if errors:
        raise ValidationError(errors)
    created = pipeline is None
    if pipeline is None:
        pipeline = Pipeline(position=Pipeline.objects.count())
    before = audit.snapshot(pipeline, ["name", "kind", "default_stall_days", "is_active"])
    pipeline.name = name.strip()
    pipeline.translations = _translations(translations)
    pipeline.kind = kind
    pipeline.default_stall_days = default_stall_days
    pipeline.is_active = is_active
    pipeline.save()
    existing = {s.pk: s for s in pipeline.stages.all()}
    layout = sorted((s.pk, s.position, s.outcome) for s in existing.values())
    keep = {s["id"] for s in stages if s.get("id")}
    for pk, stage in existing.items():
        if pk not in keep:
            if stage.deals.exists():
                raise ValidationError(
                    {
                        "stages": [
                            _("%(stage)s still has deals; move them first.") % {"stage": stage}
                        ]
                    }
                )
            stage.delete()
    phases = {p.name: p for p in pipeline.phases.all()}
    for position, s in enumerate(stages):
        phase = None
        phase_name = str(s.get("phase") or "").strip()
        if phase_name:
            phase = phases.get(phase_name)
            if phase is None:
                phase = phases[phase_name] = Phase.objects.create(
                    pipeline=pipeline, name=phase_name, position=len(phases)
                )
        stage = existing.get(int(s.get("id") or 0)) or Stage(pipeline=pipeline)
        stage.name = str(s["name"]).strip()
        stage.translations = _translations(s.get("translations", {}))
        stage.phase = phase
        stage.position = position
        stage.probability = int(s.get("probability") or 0)
        stage.outcome = s["outcome"]
        stage.stall_days = s.get("stall_days") or None
        stage.required_fields = list(s.get("required_fields", []))
        old_items = {i["name"]: i for i in stage.checklist}
        stage.checklist = [
            old_items.get(item) or {"key": _item_key(item, position, n), "name": item}
            for n, item in enumerate(i.strip() for i in s.get("checklist", []) if i.strip())
        ]
        stage.save()
    if layout != sorted(pipeline.stages.values_list("pk", "position", "outcome")):
        # The stage win rates count the furthest stage position reached.
        summary.rebuild(tables=["deals"])
    after = audit.snapshot(pipeline, ["name", "kind", "default_stall_days", "is_active"])
    audit.record(
        actor=actor,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        obj=pipeline,
        changes={**audit.diff(before, after), "stages": [None, [s["name"] for s in stages]]},
    )
    return pipeline


def _item_key(name: str, position: int, n: int) -> str:
    import hashlib

    return hashlib.sha1(f"{position}:{n}:{name}".encode()).hexdigest()[:10]
