"""The full-database scan: every record of an entity against every other."""

import gc
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kizuna.dedup.engine import Band
from kizuna.dedup.lookup import Matcher, evidence_json
from kizuna.dedup.models import DuplicateCandidate, ScanRun

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
    progress: Callable[[int, int, int], bool | None] | None = None,
    every: int | None = None,
) -> ScanResult:
    """Queue the review-band pairs of all records of ``entity``.

    Merge-band pairs are merged automatically only when ``auto_merge`` (by
    default the ``KIZUNA_DEDUP_AUTO_MERGE`` setting, off) says so; otherwise
    they are queued too. A pair already in the queue keeps its decision.
    ``progress(done, total, pairs_found)`` is called every ``every`` records
    (by default about every 1 %); returning False cancels the scan.
    """
    from kizuna.dedup.services import record_merge

    if auto_merge is None:
        auto_merge = settings.KIZUNA_DEDUP_AUTO_MERGE
    matcher = Matcher.load(entity)
    before = DuplicateCandidate.objects.filter(entity=entity).count()
    pending: list[DuplicateCandidate] = []
    to_merge: list[tuple[int, int]] = []
    found = merged = 0
    cancelled = False

    def watch(done: int, total: int):
        nonlocal cancelled
        if progress is not None and progress(done, total, found) is False:
            cancelled = True
            return False
        return None

    if every is None:
        every = max(1000, len(matcher.ids) // 100)
    # The index is long-lived and cycle-free: keep the collector off it.
    gc.freeze()
    try:
        for a_id, b_id, match in matcher.scan(progress=watch, every=every):
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
    finally:
        gc.unfreeze()
    _flush(pending)
    queued = DuplicateCandidate.objects.filter(entity=entity).count() - before
    merged_away: set[int] = set()
    for a_id, b_id in [] if cancelled else to_merge:
        if a_id in merged_away or b_id in merged_away:
            continue
        record_merge(actor=None, entity=entity, survivor=a_id, others=[b_id])
        merged_away.add(b_id)
        merged += 1
    return ScanResult(entity, len(matcher.ids), found, queued, merged, cancelled)


def scan_run(run_id: int) -> ScanRun | None:
    """Run a queued ``ScanRun``, keeping its progress row up to date.

    Idempotent: a run that already finished is left alone; a run found
    "running" (its worker died) starts again, and pairs already queued stay
    as they are.
    """
    run = ScanRun.objects.filter(pk=run_id).first()
    if run is None or not run.active:
        return run
    if run.cancel_requested:
        _finish(run, status=ScanRun.Status.CANCELLED)
        return run
    run.status = ScanRun.Status.RUNNING
    run.done = run.total = run.pairs_found = 0
    run.save(update_fields=["status", "done", "total", "pairs_found", "updated_at"])

    def progress(done: int, total: int, pairs: int) -> bool:
        ScanRun.objects.filter(pk=run_id).update(
            done=done, total=total, pairs_found=pairs, updated_at=timezone.now()
        )
        cancel = ScanRun.objects.filter(pk=run_id).values_list("cancel_requested", flat=True)
        return not cancel.first()

    try:
        result = scan_entity(entity=run.entity, progress=progress)
    except Exception as exc:
        run.refresh_from_db()
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        _finish(run, status=ScanRun.Status.FAILED)
        raise
    run.refresh_from_db()
    run.total = result.records
    if not result.cancelled:
        run.done = result.records
    run.pairs_found, run.queued, run.merged = result.pairs_found, result.queued, result.merged
    _finish(run, status=ScanRun.Status.CANCELLED if result.cancelled else ScanRun.Status.DONE)
    return run


def _finish(run: ScanRun, *, status: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.save()
