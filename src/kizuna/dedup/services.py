"""Writes of the dedup app: the review queue, merges and their undo."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from kizuna.dedup.engine import Evidence
from kizuna.dedup.lookup import ENTITY_FIELDS, evidence_json
from kizuna.dedup.models import DuplicateCandidate


def _pair(a_id: int, b_id: int) -> tuple[int, int]:
    a_id, b_id = int(a_id), int(b_id)
    if a_id == b_id:
        raise ValueError("a record is not a duplicate of itself")
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def _evidence(evidence: Iterable[Evidence | Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    items = list(evidence or ())
    if items and isinstance(items[0], Evidence):
        return evidence_json(items)  # type: ignore[arg-type]
    return [dict(e) for e in items]  # type: ignore[arg-type]


@transaction.atomic
def candidate_add(
    *,
    entity: str,
    a_id: int,
    b_id: int,
    score: float,
    evidence: Iterable[Evidence | Mapping[str, Any]] | None,
    source: str,
    band: str = "review",
    import_batch_id: int | None = None,
) -> DuplicateCandidate:
    """Put a pair in the review queue; the same pair again returns the first one.

    A pair someone already decided stays decided. An open pair takes the
    newer score and evidence.
    """
    if entity not in ENTITY_FIELDS:
        raise ValueError(f"unknown entity {entity!r}")
    if source not in DuplicateCandidate.Source.values:
        raise ValueError(f"unknown source {source!r}")
    a_id, b_id = _pair(a_id, b_id)
    data = _evidence(evidence)
    existing = (
        DuplicateCandidate.objects.select_for_update()
        .filter(entity=entity, a_id=a_id, b_id=b_id)
        .first()
    )
    if existing is not None:
        if existing.status == DuplicateCandidate.Status.OPEN and (
            existing.score != score or existing.evidence != data
        ):
            existing.score, existing.evidence, existing.band = score, data, str(band)
            existing.save(update_fields=["score", "evidence", "band"])
        return existing
    try:
        with transaction.atomic():
            return DuplicateCandidate.objects.create(
                entity=entity,
                a_id=a_id,
                b_id=b_id,
                score=score,
                band=str(band),
                evidence=data,
                source=source,
                import_batch_id=import_batch_id,
            )
    except IntegrityError:
        # Another writer queued the same pair a moment ago.
        return DuplicateCandidate.objects.get(entity=entity, a_id=a_id, b_id=b_id)


@transaction.atomic
def candidates_delete_for_batch(*, import_batch_id: int) -> int:
    """Drop the queue entries an import batch made (its undo); returns how many."""
    deleted, _by_model = DuplicateCandidate.objects.filter(import_batch_id=import_batch_id).delete()
    return deleted
