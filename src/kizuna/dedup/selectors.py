"""Reads of the review queue and the merge history, through the access gate."""

from typing import Any

from django.db.models import QuerySet

from kizuna.core import access
from kizuna.dedup.lookup import evidence_from_json, explain
from kizuna.dedup.merging import MODELS
from kizuna.dedup.models import DuplicateCandidate, Merge


def _editable_ids(entity: str, user):
    return access.editable(MODELS[entity]._default_manager.all(), user).values("pk")


def candidate_list(*, user, entity: str) -> QuerySet[DuplicateCandidate]:
    """Open pairs whose two records the user may both edit, best first."""
    ids = _editable_ids(entity, user)
    return DuplicateCandidate.objects.filter(
        entity=entity,
        status=DuplicateCandidate.Status.OPEN,
        a_id__in=ids,
        b_id__in=ids,
    ).order_by("-score", "id")


def candidate_counts(*, user) -> dict[str, int]:
    return {entity: candidate_list(user=user, entity=entity).count() for entity in MODELS}


def open_candidates_for(*, user, entity: str, record_id: int) -> QuerySet[DuplicateCandidate]:
    """The open pairs a record is in (for the link on its page)."""
    from django.db.models import Q

    return candidate_list(user=user, entity=entity).filter(Q(a_id=record_id) | Q(b_id=record_id))


def with_records(candidates, entity: str) -> list[dict[str, Any]]:
    """Each candidate with its two records and its explanation; one query for the records."""
    candidates = list(candidates)
    ids = {c.a_id for c in candidates} | {c.b_id for c in candidates}
    model = MODELS[entity]
    qs = model._default_manager.filter(pk__in=ids)
    if entity == "contact":
        qs = qs.select_related("company")
    records = qs.in_bulk()
    rows = []
    for c in candidates:
        a, b = records.get(c.a_id), records.get(c.b_id)
        if a is None or b is None:
            continue
        rows.append(
            {
                "candidate": c,
                "a": a,
                "b": b,
                "explanation": explain(evidence_from_json(c.evidence)),
                "percent": round(c.score * 100),
            }
        )
    return rows


def merge_list(*, user, entity: str | None = None) -> QuerySet[Merge]:
    """Merges whose surviving record the user may edit (admins: all)."""
    merges = Merge.objects.select_related("actor", "undone_by")
    if entity:
        merges = merges.filter(entity=entity)
    if access.is_admin(user):
        return merges
    from django.db.models import Q

    q = Q()
    for name in MODELS:
        q |= Q(entity=name, survivor_id__in=_editable_ids(name, user))
    return merges.filter(q)
