"""Writes of the dedup app: the review queue, merges and their undo."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.analytics import summary
from kizuna.automation.jobs import enqueue_on_commit
from kizuna.core import access, audit, records
from kizuna.core.models import AuditEntry
from kizuna.core.text import company_key
from kizuna.customers.models import ContactEmail, ContactPhone
from kizuna.dedup.engine import Evidence
from kizuna.dedup.lookup import ENTITY_FIELDS, evidence_json, match_one, record_row
from kizuna.dedup.merging import (
    CHANNELS,
    FOLLOWERS,
    GENERIC_MODELS,
    MERGE_FIELDS,
    MODELS,
    channel_rows,
    default_choices,
    merged_custom_fields,
    relations,
    restore_row,
    row_data,
    unique_sets,
)
from kizuna.dedup.models import DuplicateCandidate, Merge, ScanRun


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


# New records from outside (API, web forms) ---------------------------------

# Pairs a single new record adds to the queue at most.
CHECK_LIMIT = 10


def duplicates_check_on_commit(*, entity: str, record_id: int, source: str) -> None:
    """After the create commits, queue the pairs the new record makes, as a job.

    For records that arrive without a person looking at the hint: API
    creates and web-form leads. It never blocks or fails the create: the
    check runs later, and a failure to queue it is only logged.
    """
    from kizuna.dedup.tasks import dedup_check

    if entity not in ENTITY_FIELDS or source not in DuplicateCandidate.Source.values:
        raise ValueError(f"unknown entity or source {entity!r}, {source!r}")
    transaction.on_commit(lambda: dedup_check(entity, int(record_id), source), robust=True)


def duplicates_check(*, entity: str, record_id: int, source: str) -> list[DuplicateCandidate]:
    """Queue the existing records a new one may be (merge and review band).

    Never merges: a record typed or posted a moment ago waits for a person.
    A record deleted or merged away meanwhile is skipped.
    """
    model = MODELS[entity]
    qs = model._default_manager.filter(pk=record_id)
    if entity == "contact":
        qs = qs.select_related("company").prefetch_related("emails", "phones")
    record = qs.first()
    if record is None:
        return []
    found = [m for m in match_one(entity, record_row(entity, record)) if m.record_id != record.pk]
    return [
        candidate_add(
            entity=entity,
            a_id=record.pk,
            b_id=m.record_id,
            score=m.score,
            evidence=m.evidence,
            source=source,
            band=str(m.band),
        )
        for m in found[:CHECK_LIMIT]
    ]


# The full scan, started from the review queue -------------------------------

# A scan whose progress row has not moved for this long lost its worker.
SCAN_STALE_AFTER = timedelta(minutes=15)


@transaction.atomic
def scan_start(*, actor, entity: str) -> ScanRun:
    """Queue a full scan of ``entity`` (admins); one at a time per entity."""
    from kizuna.dedup.tasks import dedup_scan

    access.require_admin(actor)
    if entity not in ENTITY_FIELDS:
        raise ValueError(f"unknown entity {entity!r}")
    running = (
        ScanRun.objects.select_for_update()
        .filter(
            entity=entity,
            status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING],
            updated_at__gte=timezone.now() - SCAN_STALE_AFTER,
        )
        .first()
    )
    if running is not None:
        raise ValidationError(_("A scan of these records is already running."))
    run = ScanRun.objects.create(entity=entity, started_by=actor)
    audit.record(actor=actor, action=AuditEntry.Action.CREATE, obj=run, changes={"entity": entity})
    enqueue_on_commit(dedup_scan, entity, run.pk)
    return run


@transaction.atomic
def scan_cancel(*, actor, run: ScanRun) -> ScanRun:
    """Ask a running scan to stop; the pairs it queued so far stay queued."""
    access.require_admin(actor)
    run = ScanRun.objects.select_for_update().get(pk=run.pk)
    if not run.active:
        return run
    run.cancel_requested = True
    fields = ["cancel_requested", "updated_at"]
    if run.status == ScanRun.Status.QUEUED:
        # Not started yet: the job will find it cancelled and do nothing.
        run.status, run.finished_at = ScanRun.Status.CANCELLED, timezone.now()
        fields += ["status", "finished_at"]
    run.save(update_fields=fields)
    audit.record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        obj=run,
        changes={"cancel_requested": [False, True]},
    )
    return run


# Merge and un-merge -----------------------------------------------------------


def _pk(record) -> int:
    return int(getattr(record, "pk", record))


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _move_rows(
    rel_model: type[models.Model],
    attname: str,
    base_qs: models.QuerySet,
    survivor_id: int,
    snapshot: dict[str, Any],
    extra_unique: list[list[str]] | None = None,
) -> None:
    """Point the rows of ``base_qs`` at the survivor; rows that would clash are deleted."""
    label = rel_model._meta.label
    sets = unique_sets(rel_model, attname) + (extra_unique or [])
    deleted: list[dict[str, Any]] = []
    if sets:
        rows = list(base_qs.order_by("pk"))
        if not rows:
            return
        filter_survivor = base_qs.model._base_manager.filter(**{attname: survivor_id})
        if attname == "object_id":
            filter_survivor = filter_survivor.filter(object_type=rows[0].object_type)
        taken = [{tuple(getattr(r, n) for n in s) for r in filter_survivor} for s in sets]
        for row in rows:
            keys = [tuple(getattr(row, n) for n in s) for s in sets]
            if any(key in seen for key, seen in zip(keys, taken, strict=True)):
                deleted.append(row_data(row))
            else:
                for key, seen in zip(keys, taken, strict=True):
                    seen.add(key)
        if deleted:
            rel_model._base_manager.filter(pk__in=[d["id"] for d in deleted]).delete()
            snapshot["deleted"].append({"model": label, "rows": deleted})
    moved = [list(pair) for pair in base_qs.order_by().values_list("pk", attname)]
    if not moved:
        return
    snapshot["moved"].append({"model": label, "field": attname, "rows": moved})
    for chunk in _chunks([pk for pk, _old in moved]):
        rel_model._base_manager.filter(pk__in=chunk).update(**{attname: survivor_id})


def _move_channels(survivor_id: int, loser_ids: list[int], snapshot: dict[str, Any]) -> None:
    """Keep every e-mail and phone once: the losers' ones join the survivor's list."""
    for model, column in CHANNELS:
        survivor_rows: list[Any] = channel_rows(model, [survivor_id])
        seen = {str(getattr(r, column)).lower() for r in survivor_rows}
        position = max((r.position for r in survivor_rows), default=-1) + 1
        loser_rows = channel_rows(model, loser_ids)
        snapshot["channels"].append(
            {"model": model._meta.label, "rows": [row_data(r) for r in loser_rows]}
        )
        row: Any
        for row in loser_rows:
            value = str(getattr(row, column)).lower()
            if value in seen:
                row.delete()
                continue
            seen.add(value)
            row.contact_id = survivor_id
            row.position = position
            position += 1
            row.save(update_fields=["contact", "position"])


def _move_subtrees(survivor: Any, child_ids: list[int], snapshot: dict[str, Any]) -> None:
    """Children of a merged company hang under the survivor now; their paths follow."""
    from kizuna.customers.models import Company, path_prefix_q

    for child in Company.objects.filter(pk__in=child_ids).order_by("path"):
        old_path = child.path
        snapshot["paths"] += [
            [pk, path]
            for pk, path in Company.objects.filter(path_prefix_q(old_path)).values_list(
                "pk", "path"
            )
        ]
        new_path = f"{survivor.path}{child.pk}/"
        descendants = list(Company.objects.filter(path_prefix_q(old_path)))
        for d in descendants:
            d.path = new_path + d.path[len(old_path) :]
        Company.objects.bulk_update(descendants, ["path"], batch_size=500)


def _refresh(entity: str, record) -> None:
    if entity == "contact":
        emails = list(record.emails.values_list("email", flat=True))
        phones = list(record.phones.values_list("number", flat=True))
        record.refresh_search_index(*emails, *(p.lstrip("+") for p in phones))
    else:
        if entity == "company":
            record.name_key = company_key(record.name)
        record.refresh_search_index()


def _audit_fields(entity: str, record) -> dict[str, Any]:
    fields = MERGE_FIELDS[entity]
    data = audit.snapshot(record, fields)
    for key, value in (record.custom_field_data or {}).items():
        data[f"custom_fields.{key}"] = value
    return data


@transaction.atomic
def record_merge(
    *,
    actor,
    entity: str,
    survivor: Any,
    others: Iterable,
    choices: Mapping[str, int] | None = None,
    import_batch_id: int | None = None,
) -> Merge:
    """Merge ``others`` into ``survivor``: values per ``choices``, every related row moved.

    ``choices`` maps a field of ``MERGE_FIELDS`` to the id of the record whose
    value survives; the others default to the newest non-empty value (owner
    and team to the survivor's). Contacts keep all their e-mails and phones.
    ``actor=None`` is the system (an import or the scan with auto-merge on).
    """
    if entity not in MODELS:
        raise ValueError(f"unknown entity {entity!r}")
    model = MODELS[entity]
    survivor_id = _pk(survivor)
    loser_ids = sorted({_pk(o) for o in others} - {survivor_id})
    if not loser_ids:
        raise ValidationError(_("Choose at least one other record to merge."))
    ids = [survivor_id, *loser_ids]
    tracked = summary.track(**summary.merge_scope(entity, ids))
    locked: dict[int, Any] = {
        r.pk: r for r in model._base_manager.select_for_update().filter(pk__in=ids)
    }
    missing = [str(i) for i in ids if i not in locked]
    if missing:
        raise ValidationError(
            _("These records no longer exist: %(ids)s.") % {"ids": ", ".join(missing)}
        )
    if actor is not None:
        for record in locked.values():
            records.require_edit(actor, record)
    survivor = locked[survivor_id]
    losers: list[Any] = [locked[i] for i in loser_ids]
    if entity == "company":
        for loser in losers:
            if survivor.path.startswith(loser.path):
                raise ValidationError(
                    _("“%(name)s” is part of “%(other)s”; merge the other way round.")
                    % {"name": survivor, "other": loser}
                )
    everyone = [survivor, *losers]
    picked = default_choices(entity, survivor, everyone)
    for field, record_id in (choices or {}).items():
        if field not in picked:
            raise ValidationError(_("%(field)s cannot be chosen in a merge.") % {"field": field})
        if int(record_id) not in locked:
            raise ValidationError(
                _("Choose the value of %(field)s from one of the merged records.")
                % {"field": field}
            )
        picked[field] = int(record_id)
    snapshot: dict[str, Any] = {
        "survivor": row_data(survivor),
        "losers": [row_data(loser) for loser in losers],
        "moved": [],
        "deleted": [],
        "channels": [],
        "paths": [],
        "candidates": [],
    }
    before = _audit_fields(entity, survivor)

    # Related rows first, so that nothing protects or cascades from the losers.
    child_ids: list[int] = []
    for rel in relations(model):
        rel_model = rel.related_model
        attname = rel.field.attname
        if rel_model in (ContactEmail, ContactPhone):
            continue
        qs = rel_model._base_manager.filter(**{f"{attname}__in": loser_ids})
        if rel_model is model and attname == "parent_id":
            child_ids = list(qs.exclude(pk__in=ids).values_list("pk", flat=True))
            qs = qs.exclude(pk__in=ids)
        _move_rows(rel_model, attname, qs, survivor_id, snapshot)
    for label in GENERIC_MODELS:
        rel_model = apps.get_model(label)
        qs = rel_model._base_manager.filter(object_type=entity, object_id__in=loser_ids)
        extra = [["object_type", "user_id", "team_id"]] if label == "core.Share" else None
        _move_rows(rel_model, "object_id", qs, survivor_id, snapshot, extra)
    if entity == "contact":
        _move_channels(survivor_id, loser_ids, snapshot)
    if child_ids:
        _move_subtrees(survivor, child_ids, snapshot)

    # The surviving values.
    by_id = {r.pk: r for r in everyone}
    for field, record_id in picked.items():
        for name in (field, *FOLLOWERS.get(field, ())):
            if entity != "lead" and name in FOLLOWERS.get("status", ()):
                continue
            attname = getattr(model._meta.get_field(name), "attname", name)
            setattr(survivor, attname, getattr(by_id[record_id], attname))
    survivor.custom_field_data = merged_custom_fields(survivor, everyone)
    if entity == "company":
        survivor.refresh_from_db(fields=["path"])
    decided = DuplicateCandidate.objects.filter(
        entity=entity,
        status=DuplicateCandidate.Status.OPEN,
        a_id__in=ids,
        b_id__in=ids,
    )
    snapshot["candidates"] = list(decided.values_list("pk", flat=True))
    decided.update(
        status=DuplicateCandidate.Status.MERGED, decided_by=actor, decided_at=timezone.now()
    )
    model._base_manager.filter(pk__in=loser_ids).delete()
    _refresh(entity, survivor)
    survivor.version += 1
    survivor.save()
    snapshot["survivor_version"] = survivor.version
    tracked.done()
    merge = Merge.objects.create(
        entity=entity,
        survivor_id=survivor_id,
        merged_ids=loser_ids,
        choices=picked,
        snapshot=snapshot,
        actor=actor,
        import_batch_id=import_batch_id,
    )
    changes: dict[str, Any] = audit.diff(before, _audit_fields(entity, survivor))
    changes["merged"] = [None, loser_ids]
    audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=survivor, changes=changes)
    for loser in losers:
        audit.record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            object_type=entity,
            object_id=loser.pk,
            object_repr=str(loser),
            changes={"merged_into": [None, survivor_id], "merge": [None, merge.pk]},
        )
    return merge


class MergeUndoError(ValidationError):
    """An undo that a later change makes unsafe; the message says which."""


@transaction.atomic
def merge_undo(*, actor, merge: Merge) -> Merge:
    """Restore the losers under their own ids, the survivor's values and every moved row."""
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeUndoError(_("This merge has already been undone."))
    model = MODELS[merge.entity]
    tracked = summary.track(
        **summary.merge_scope(merge.entity, [merge.survivor_id, *merge.merged_ids])
    )
    snapshot = merge.snapshot
    survivor: Any = model._base_manager.select_for_update().filter(pk=merge.survivor_id).first()
    name = snapshot["survivor"].get("name") or " ".join(
        filter(
            None, [snapshot["survivor"].get("family_name"), snapshot["survivor"].get("given_name")]
        )
    )
    if survivor is None:
        raise MergeUndoError(
            _("“%(name)s”, the record the others were merged into, has been deleted since.")
            % {"name": name}
        )
    if actor is not None:
        records.require_edit(actor, survivor)
    later = (
        Merge.objects.filter(
            entity=merge.entity, survivor_id=merge.survivor_id, undone_at__isnull=True
        )
        .filter(pk__gt=merge.pk)
        .first()
    )
    if later is not None:
        raise MergeUndoError(
            _("“%(name)s” has been merged again since (%(when)s); undo that merge first.")
            % {
                "name": survivor,
                "when": timezone.localtime(later.created_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    if survivor.version != snapshot.get("survivor_version"):
        raise MergeUndoError(
            _(
                "“%(name)s” has been edited since the merge; undoing would overwrite that "
                "change. Edit the record by hand instead."
            )
            % {"name": survivor}
        )
    taken = list(model._base_manager.filter(pk__in=merge.merged_ids).values_list("pk", flat=True))
    if taken:
        raise MergeUndoError(
            _("Records with the ids %(ids)s exist again; they cannot be restored.")
            % {"ids": ", ".join(map(str, taken))}
        )
    elsewhere = []
    for group in snapshot["moved"]:
        rel_model = apps.get_model(group["model"])
        attname = group["field"]
        pks = [pk for pk, _old in group["rows"]]
        for chunk in _chunks(pks):
            moved_away = (
                rel_model._base_manager.filter(pk__in=chunk)
                .exclude(**{attname: merge.survivor_id})
                .count()
            )
            if moved_away:
                elsewhere.append(f"{rel_model._meta.verbose_name_plural}: {moved_away}")
    if elsewhere:
        raise MergeUndoError(
            _("Some rows that the merge moved now belong to another record (%(rows)s).")
            % {"rows": ", ".join(elsewhere)}
        )

    before = _audit_fields(merge.entity, survivor)
    # The losers first, parents before children, so that rows can point at them again.
    losers: list[Any] = [restore_row(model, data) for data in snapshot["losers"]]
    if merge.entity == "company":
        losers.sort(key=lambda c: len(c.path))
    for loser in losers:
        loser.save(force_insert=True)
    for group in snapshot["moved"]:
        rel_model = apps.get_model(group["model"])
        attname = group["field"]
        by_old: dict[int, list[int]] = defaultdict(list)
        for pk, old in group["rows"]:
            by_old[old].append(pk)
        for old, pks in by_old.items():
            for chunk in _chunks(pks):
                rel_model._base_manager.filter(pk__in=chunk).update(**{attname: old})
    for group in snapshot["deleted"]:
        rel_model = apps.get_model(group["model"])
        for data in group["rows"]:
            restore_row(rel_model, data).save(force_insert=True)
    for group in snapshot["channels"]:
        rel_model = apps.get_model(group["model"])
        for data in group["rows"]:
            restore_row(rel_model, data).save()
    if snapshot["paths"]:
        from kizuna.customers.models import Company

        companies = []
        for pk, path in snapshot["paths"]:
            companies.append(Company(pk=pk, path=path))
        Company.objects.bulk_update(companies, ["path"], batch_size=500)
    survivor_data = restore_row(model, snapshot["survivor"])
    for f in model._meta.concrete_fields:
        if f.attname not in ("id", "version", "created_at", "updated_at"):
            setattr(survivor, f.attname, getattr(survivor_data, f.attname))
    _refresh(merge.entity, survivor)
    survivor.version += 1
    survivor.save()
    for loser in losers:
        _refresh(merge.entity, loser)
        loser.save(
            update_fields=["search_index"] + (["name_key"] if merge.entity == "company" else [])
        )
    DuplicateCandidate.objects.filter(pk__in=snapshot.get("candidates", [])).update(
        status=DuplicateCandidate.Status.OPEN, decided_by=None, decided_at=None
    )
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    tracked.done()
    changes: dict[str, Any] = audit.diff(before, _audit_fields(merge.entity, survivor))
    changes["merge_undone"] = [merge.merged_ids, None]
    audit.record(actor=actor, action=AuditEntry.Action.UPDATE, obj=survivor, changes=changes)
    for loser in losers:
        audit.record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=loser,
            changes={"unmerged_from": [merge.survivor_id, None]},
        )
    return merge


@transaction.atomic
def candidate_dismiss(*, actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """ "Not a duplicate": the pair leaves the queue and is not queued again."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    model = MODELS[candidate.entity]
    for record in model._base_manager.filter(pk__in=[candidate.a_id, candidate.b_id]):
        records.require_edit(actor, record)
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    return candidate


@transaction.atomic
def candidates_add_many(
    *,
    entity: str,
    pairs: Iterable[tuple[int, int, float, Iterable[Evidence | Mapping[str, Any]] | None]],
    source: str,
    import_batch_id: int | None = None,
) -> int:
    """Put many ``(a_id, b_id, score, evidence)`` pairs in the review queue at once.

    The bulk form of ``candidate_add`` for imports: a pair already in the
    queue (open or decided) is left as it is. Returns how many were added.
    """
    if entity not in ENTITY_FIELDS:
        raise ValueError(f"unknown entity {entity!r}")
    if source not in DuplicateCandidate.Source.values:
        raise ValueError(f"unknown source {source!r}")
    wanted: dict[tuple[int, int], tuple[float, list[dict[str, Any]]]] = {}
    for a_id, b_id, score, evidence in pairs:
        key = _pair(a_id, b_id)
        if key not in wanted:
            wanted[key] = (float(score), _evidence(evidence))
    if not wanted:
        return 0
    a_ids = sorted({a for a, _b in wanted})
    for start in range(0, len(a_ids), 500):
        for key in DuplicateCandidate.objects.filter(
            entity=entity, a_id__in=a_ids[start : start + 500]
        ).values_list("a_id", "b_id"):
            wanted.pop(key, None)
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(
                entity=entity,
                a_id=a_id,
                b_id=b_id,
                score=score,
                band="review",
                evidence=evidence,
                source=source,
                import_batch_id=import_batch_id,
            )
            for (a_id, b_id), (score, evidence) in wanted.items()
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    return len(wanted)
