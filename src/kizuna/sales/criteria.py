"""Exit criteria: what must be captured on a deal before it may leave a stage forward.

A criterion is a key naming a deal field (or BANT item, or custom field ``cf:<key>``).
Each key knows its label, the form fields that capture it (for progressive entry) and how to
tell whether a deal has captured it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kizuna.core import customfields

CF = "cf:"


@dataclass(frozen=True)
class Criterion:
    key: str
    label: Promise | str
    form_fields: tuple[str, ...]
    captured: Callable[[Any], bool]


def _filled(field: str) -> Callable[[Any], bool]:
    return lambda deal: getattr(deal, field) not in (None, "")


def _has_decision_maker(deal) -> bool:
    from kizuna.sales.models import DealContact

    if deal.pk is None:
        return False
    return deal.deal_contacts.filter(role=DealContact.Role.DECISION_MAKER).exists()


CRITERIA: dict[str, Criterion] = {
    c.key: c
    for c in [
        Criterion("amount", _("Amount"), ("amount",), lambda d: bool(d.amount and d.amount > 0)),
        Criterion(
            "expected_close_date",
            _("Expected close date"),
            ("expected_close_date",),
            _filled("expected_close_date"),
        ),
        Criterion(
            "next_action",
            _("Next action and its due date"),
            ("next_action", "next_action_due"),
            lambda d: bool(d.next_action and d.next_action_due),
        ),
        Criterion(
            "budget",
            _("Budget (BANT)"),
            ("budget_status", "budget_note"),
            lambda d: d.budget_status == "captured",
        ),
        Criterion(
            "authority",
            _("Decision maker (BANT)"),
            ("authority_status", "authority_note"),
            lambda d: d.authority_status == "captured",
        ),
        Criterion(
            "need",
            _("Need (BANT)"),
            ("need_status", "need_note"),
            lambda d: d.need_status == "captured",
        ),
        Criterion(
            "timing",
            _("Timing (BANT)"),
            ("timing_status", "timing_note"),
            lambda d: d.timing_status == "captured",
        ),
        Criterion(
            "decision_maker_contact",
            _("A contact in the decision maker role"),
            (),
            _has_decision_maker,
        ),
        Criterion(
            "first_reaction",
            _("First reaction"),
            ("first_reaction", "first_reaction_note"),
            _filled("first_reaction"),
        ),
        Criterion(
            "competitor",
            _("Competitor"),
            ("competitor", "competitor_name"),
            lambda d: d.competitor == "no" or (d.competitor == "yes" and bool(d.competitor_name)),
        ),
        Criterion("hurdle", _("Hurdle"), ("hurdle", "hurdle_note"), _filled("hurdle")),
        Criterion(
            "next_step", _("Next step"), ("next_step", "next_step_note"), _filled("next_step")
        ),
        Criterion("contacts", _("At least one contact"), (), lambda d: _has_contacts(d)),
    ]
}


def _has_contacts(deal) -> bool:
    return deal.pk is not None and deal.deal_contacts.exists()


def criterion(key: str) -> Criterion | None:
    if key in CRITERIA:
        return CRITERIA[key]
    if key.startswith(CF):
        cf_key = key[len(CF) :]
        definition = next((d for d in customfields.definitions("deal") if d.key == cf_key), None)
        if definition is None:
            return None
        return Criterion(
            key,
            definition.display_label(),
            (customfields.FORM_PREFIX + cf_key,),
            lambda d: d.custom_field_data.get(cf_key) not in (None, "", []),
        )
    return None


def choices() -> list[tuple[str, str]]:
    """Every key an admin may require, for the pipeline settings form."""
    return [(c.key, str(c.label)) for c in CRITERIA.values()] + [
        (CF + d.key, str(d.display_label())) for d in customfields.definitions("deal")
    ]


@dataclass(frozen=True)
class Missing:
    stage_id: int
    key: str
    label: str
    kind: str  # "field" or "checklist"


def missing_items(deal, stages: Iterable) -> list[Missing]:
    """What ``deal`` lacks to leave each of ``stages`` forward, in order."""
    missing: list[Missing] = []
    for stage in stages:
        for key in stage.required_fields:
            c = criterion(key)
            # A requirement on a deleted custom field no longer binds.
            if c is not None and not c.captured(deal):
                missing.append(Missing(stage.pk, key, str(c.label), "field"))
        done = set(deal.checklist_done.get(str(stage.pk), []))
        for item in stage.checklist:
            if item["key"] not in done:
                missing.append(Missing(stage.pk, item["key"], item_label(item), "checklist"))
    return missing


def item_label(item: dict[str, Any]) -> str:
    """A checklist item's name in the current language."""
    from django.utils.translation import get_language

    language = (get_language() or "en").split("-")[0]
    return item.get("translations", {}).get(language) or item["name"]


# Every deal has these from the start; progressive entry is for what qualifies a deal.
ALWAYS_SHOWN = {"amount", "expected_close_date", "next_action", "next_action_due"}


def hidden_form_fields(pipeline_stages: list, current_position: int) -> set[str]:
    """Form fields first required by a stage the deal has not reached yet (progressive entry)."""
    first_needed: dict[str, int] = {}
    for stage in pipeline_stages:
        for key in stage.required_fields:
            c = criterion(key)
            for name in c.form_fields if c else ():
                if name not in ALWAYS_SHOWN:
                    first_needed.setdefault(name, stage.position)
    return {name for name, position in first_needed.items() if position > current_position}
