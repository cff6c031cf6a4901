"""The full-database scan: every record of an entity against every other."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from kizuna.dedup.engine import Band
from kizuna.dedup.lookup import Matcher, evidence_json
from kizuna.dedup.models import DuplicateCandidate

BATCH = 2000


@dataclass
class ScanResult:
    entity: str
    records: int
    pairs_found: int
    queued: int
    merged: int
    cancelled: bool = False


def _flush(rows: list[DuplicateCandidate]) -> None:
    if rows:
        with transaction.atomic():
            DuplicateCandidate.objects.bulk_create(rows, ignore_conflicts=True)
        rows.clear()


def scan_entity(
    *,
    entity: str,
    auto_merge: bool | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> ScanResult:
    """Queue the review-band pairs of all records of ``entity``.

    Merge-band pairs are merged automatically only when ``auto_merge`` (by
    default the ``KIZUNA_DEDUP_AUTO_MERGE`` setting, off) says so; otherwise
    they are queued too. A pair already in the queue keeps its decision.
    ``progress(done, total)`` returning False cancels the scan.
    """
    from kizuna.dedup.services import record_merge

    if auto_merge is None:
        auto_merge = getattr(settings, "KIZUNA_DEDUP_AUTO_MERGE", False)
    matcher = Matcher.load(entity)
    before = DuplicateCandidate.objects.filter(entity=entity).count()
    pending: list[DuplicateCandidate] = []
    to_merge: list[tuple[int, int]] = []
    found = merged = 0
    cancelled = False

    def watch(done: int, total: int):
        nonlocal cancelled
        if progress is not None and progress(done, total) is False:
            cancelled = True
            return False
        return None

    for a_id, b_id, match in matcher.scan(progress=watch):
        found += 1
        if auto_merge and match.band == Band.MERGE:
            to_merge.append((a_id, b_id))
            continue
        lo, hi = (a_id, b_id) if a_id < b_id else (b_id, a_id)
        pending.append(
            DuplicateCandidate(
                entity=entity,
                a_id=lo,
                b_id=hi,
                score=match.score,
                band=str(match.band),
                evidence=evidence_json(match.evidence),
                source=DuplicateCandidate.Source.SCAN,
            )
        )
        if len(pending) >= BATCH:
            _flush(pending)
    _flush(pending)
    queued = DuplicateCandidate.objects.filter(entity=entity).count() - before
    merged_away: set[int] = set()
    for a_id, b_id in to_merge:
        if a_id in merged_away or b_id in merged_away:
            continue
        record_merge(actor=None, entity=entity, survivor=a_id, others=[b_id])
        merged_away.add(b_id)
        merged += 1
    return ScanResult(entity, len(matcher.ids), found, queued, merged, cancelled)
