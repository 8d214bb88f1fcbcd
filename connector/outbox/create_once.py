"""Creating records exactly once across retries and crashes: look for what an earlier try made before trying again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connector.outbox.model import Job, Outcome
from connector.retry import RetryPolicy


def create_once(
    jobs: Sequence[Job],
    *,
    existing: Callable[[list[str]], dict[str, str]],
    create: Callable[[list[Job]], dict[int, Outcome]],
    retry: RetryPolicy,
    what: str,
) -> dict[int, Outcome]:
    """Outcome per job id: ``create`` the jobs' records, retrying with ``retry``.

    A job that may already have run (a claim that died, or an earlier attempt of this call) is first looked up with
    ``existing(decision_ids) -> {decision_id: record_id}``; only what is not found is created.
    """
    outcomes: dict[int, Outcome] = {}
    pending = list(jobs)
    check = [j for j in pending if j.item.maybe_done]

    def attempt() -> None:
        nonlocal pending, check
        if check:
            found = existing([j.item.decision_id for j in check])
            for job in [j for j in pending if j.item.decision_id in found]:
                outcomes[job.item.id] = Outcome.done(f"task {found[job.item.decision_id]} existed already")
            pending = [j for j in pending if j.item.decision_id not in found]
        if not pending:
            return
        check = pending  # whatever this call does, a repeat must look before creating again
        outcomes.update(create(pending))

    retry.call(attempt, what=what)
    return outcomes
