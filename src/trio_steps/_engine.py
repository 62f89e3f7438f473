"""The engine (being written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._events import Event
from ._job import Job
from ._results import JobReport


class JobRunner:
    """Runs one job (SPEC §4–§6)."""

    def __init__(
        self,
        job: Job,
        *,
        on_event: Callable[[Event], object] | None = None,
        log_dir: str | None = None,
    ) -> None:
        self.job = job

    async def run(self) -> JobReport:
        """Run the job."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Cancel the job (R6.1)."""


async def run_job(job: Job, **kwargs: Any) -> JobReport:
    """Run ``job`` and return its report."""
    return await JobRunner(job, **kwargs).run()
