"""Lead assignment: territory rules pick a team, round-robin picks the rep.

``assign_owners`` works on unsaved records in bulk, so an import can assign
owners before ``bulk_create``; ``lead_create`` calls it for a lead that
arrives without an owner (API, web form, the lead form).

The round-robin pointer is one row per team, locked while it moves
(``select_for_update`` on PostgreSQL; SQLite's IMMEDIATE transactions take
the write lock at BEGIN), so two leads arriving at once go to two people.
People marked away (``User.away_until`` today or later) are skipped.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kizuna.automation.models import AssignmentRule, RoundRobinPointer
from kizuna.core.text import normalize

# Where a record's territory facts come from, per object type.
SOURCES = {
    "lead": lambda r: (r.prefecture, "", ""),
    "company": lambda r: (r.prefecture, r.industry, r.size),
    "contact": lambda r: _company_facts(r.company) if r.company_id else ("", "", ""),
    "deal": lambda r: _company_facts(r.company) if r.company_id else ("", "", ""),
}


def _company_facts(company) -> tuple[str, str, str]:
    return company.prefecture, company.industry, company.size


def _place_matches(wanted: Sequence[str], value: str) -> bool:
    """大阪 matches 大阪府, 서울 matches 서울특별시; empty ``wanted`` matches all."""
    if not wanted:
        return True
    have = normalize(value or "")
    return bool(have) and any(have.startswith(normalize(w)) for w in wanted if w)


def rule_matches(rule: AssignmentRule, facts: tuple[str, str, str]) -> bool:
    prefecture, industry, size = facts
    return (
        _place_matches(rule.prefectures, prefecture)
        and (not rule.industries or industry in rule.industries)
        and (not rule.sizes or size in rule.sizes)
    )


def team_for(object_type: str, record, rules: Iterable[AssignmentRule] | None = None):
    """The team of the first assignment rule the record matches, or None."""
    facts = SOURCES[object_type](record)
    if rules is None:
        rules = AssignmentRule.objects.filter(is_active=True).select_related("team")
    for rule in rules:
        if rule_matches(rule, facts):
            return rule.team
    return None


def available_members(team) -> list:
    from kizuna.iam.models import User

    today = timezone.localdate()
    return list(
        User.objects.filter(team=team, is_active=True)
        .filter(Q(away_until__isnull=True) | Q(away_until__lt=today))
        .order_by("id")
    )


def _lock_pointer(team) -> RoundRobinPointer:
    pointer = RoundRobinPointer.objects.select_for_update().filter(team=team).first()
    if pointer is not None:
        return pointer
    try:
        with transaction.atomic():
            return RoundRobinPointer.objects.create(team=team)
    except IntegrityError:
        return RoundRobinPointer.objects.select_for_update().get(team=team)


def next_members(team, count: int) -> list[Any]:
    """The next ``count`` available members of ``team`` in turn (may repeat)."""
    with transaction.atomic():
        members = available_members(team)
        if not members or count <= 0:
            return []
        pointer = _lock_pointer(team)
        last = pointer.last_user_id or 0
        start = next((i for i, m in enumerate(members) if m.pk > last), 0)
        picked = [members[(start + i) % len(members)] for i in range(count)]
        pointer.last_user = picked[-1]
        pointer.save(update_fields=["last_user", "updated_at"])
    return picked


def assign_owners(object_type: str, records: Sequence[Any]) -> int:
    """Give each record without an owner the next rep of its territory's team.

    Works on unsaved instances; sets ``owner`` and ``team`` and returns how
    many records got an owner. Records no rule matches are left alone.
    """
    rules = list(AssignmentRule.objects.filter(is_active=True).select_related("team"))
    if not rules:
        return 0
    by_team: dict[int, tuple[Any, list[Any]]] = {}
    for record in records:
        if record.owner_id is not None:
            continue
        team = team_for(object_type, record, rules)
        if team is not None:
            by_team.setdefault(team.pk, (team, []))[1].append(record)
    assigned = 0
    for team, team_records in by_team.values():
        people = next_members(team, len(team_records))
        for record, person in zip(team_records, people, strict=False):
            record.owner = person
            record.team = team
            assigned += 1
    return assigned
