"""`ray job submit` from the tests: submit once the cluster's job agent is up, then follow the job to its end."""

from __future__ import annotations

import asyncio
from typing import Any

from localhost import wait_for


def submit_when_ready(client: Any, entrypoint: str, runtime_env: dict[str, Any]) -> str:
    """The job's id, submitted as soon as the head's job agent has registered (just after `ray start` it may not
    have yet)."""
    jobs: list[str] = []

    def submitted() -> bool:
        try:
            jobs.append(client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env))
        except RuntimeError as exc:
            if "No available agent" not in str(exc):
                raise
            return False
        return True

    wait_for(submitted, 120, "the cluster's job agent")
    return jobs[0]


def until_it_ends(client: Any, job: str, timeout_s: float) -> None:
    """Return when the job has ended (its log stream closes then); TimeoutError after timeout_s."""
    async def logs() -> list[str]:
        return [chunk async for chunk in client.tail_job_logs(job)]

    asyncio.run(asyncio.wait_for(logs(), timeout=timeout_s))
