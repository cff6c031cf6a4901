"""Background jobs of the dedup app."""

from kizuna.automation.jobs import task


@task(retries=0)
def dedup_scan(entity: str, run_id: int | None = None) -> dict:
    """The full scan of one entity; running it twice queues nothing twice.

    With ``run_id`` (a scan started from the review queue) the progress and
    the outcome go to that ``ScanRun`` and a cancel there stops the scan.
    """
    from kizuna.dedup.scan import scan_entity, scan_run

    if run_id is not None:
        run = scan_run(run_id)
        return {} if run is None else {"records": run.total, "queued": run.queued}
    result = scan_entity(entity=entity)
    return {"records": result.records, "pairs": result.pairs_found, "queued": result.queued}


@task(retries=2)
def dedup_check(entity: str, record_id: int, source: str) -> int:
    """Queue the pairs a record created through the API or a web form makes."""
    from kizuna.dedup.services import duplicates_check

    return len(duplicates_check(entity=entity, record_id=record_id, source=source))
