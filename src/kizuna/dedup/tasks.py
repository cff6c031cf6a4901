"""Background jobs of the dedup app."""

from kizuna.automation.jobs import task


@task(retries=0)
def dedup_scan(entity: str) -> dict:
    """The full scan of one entity; running it twice queues nothing twice."""
    from kizuna.dedup.scan import scan_entity

    result = scan_entity(entity=entity)
    return {"records": result.records, "pairs": result.pairs_found, "queued": result.queued}


@task(retries=2)
def dedup_check(entity: str, record_id: int, source: str) -> int:
    """Queue the pairs a record created through the API or a web form makes."""
    from kizuna.dedup.services import duplicates_check

    return len(duplicates_check(entity=entity, record_id=record_id, source=source))
