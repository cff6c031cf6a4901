"""Background jobs of imports: the preview and the run.

Both are idempotent: each starts only from the status the service set
(analysing, running), and a run that finds chunks of an earlier, crashed
attempt rolls them back before starting again. No retries: a failed run has
been rolled back and is started again by the user, not by the queue.
"""

from kizuna.automation.jobs import task
from kizuna.imports import services


@task(retries=0)
def import_analyse(batch_id: int) -> None:
    services.analyse_now(batch_id)


@task(retries=0)
def import_run(batch_id: int) -> None:
    services.run_now(batch_id)
