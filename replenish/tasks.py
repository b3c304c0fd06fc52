"""The workflow's Celery tasks: thin wrappers that take plain values and call a service."""

from celery import shared_task

from replenish.services.import_jobs import import_job_run


@shared_task(name="replenish.import_job_run", acks_late=True, ignore_result=True)
def import_job_run_task(job_id: int) -> str:
    """Preview or import an arrears file too large for a page request (services/import_jobs)."""
    return import_job_run(job_id)
