"""Owner write-back and task creation in HubSpot, batched 100 records a call, as outbox performers.

Owner (``hubspot_owner_id``): one batch read of the current owners, then one batch update of those still owned by
the decision's previous owner (compare-and-set: a record a human reassigned since is left alone and reported as a
conflict). HubSpot has no conditional update, so a change in the instant between read and write can still be
overwritten; the window is one round trip.

Task: one batch create with the associations to the contact (204) and company (192), carrying the decision id in
the custom task property ``leadrelay_decision_id``. Before re-creating after an attempt that may have gone through,
the decision ids are searched for and the tasks found are not created again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.hubspot.answers import error_keys, parse_json, properties, raw_options, results
from adapters.hubspot.errors import map_error
from connector.config.actions import ActionsConfig
from connector.errors import LeadrelayError, NotFoundError, RateLimitedError
from connector.outbox.create_once import create_once
from connector.outbox.model import EffectKind, Job, Outcome
from connector.outbox.task_body import html_body, task_subject
from connector.outbox.worker import outcome_for_error
from connector.retry import RetryPolicy

CRM = "hubspot"
BATCH_LIMIT = 100
OWNER_PROPERTY = "hubspot_owner_id"
DECISION_PROPERTY = "leadrelay_decision_id"
TASK_TO_CONTACT = 204
TASK_TO_COMPANY = 192
TASK_TYPES = {"call": "CALL", "email": "EMAIL", "research": "TODO"}


class _Calls:
    """Runs client calls with the shared retry policy, pacing through sync's limiter when one is given."""

    def __init__(self, client: Any, retry: RetryPolicy | None, limiter: Any | None) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self.limiter = limiter

    def run(self, what: str, fn: Callable[[], Any], *, search: bool = False) -> dict[str, Any]:
        """Call ``fn`` (a raw-answer API call) once: its JSON body; HubSpot's exceptions become ``connector.errors``."""
        kind = "search" if search else "default"
        try:
            with self._slot(kind):
                return parse_json(fn().data)
        except LeadrelayError:
            raise
        except Exception as exc:
            mapped = map_error(exc, search=search)
            if isinstance(mapped, RateLimitedError) and self.limiter is not None:
                self.limiter.rate_limited(kind, mapped.retry_after)
            if mapped is exc:
                raise
            raise mapped from exc

    def retried(self, what: str, fn: Callable[[], Any], *, search: bool = False) -> dict[str, Any]:
        """``run`` under the retry policy (for calls that are safe to repeat)."""
        return self.retry.call(lambda: self.run(what, fn, search=search), what=f"hubspot_{what}")

    @contextlib.contextmanager
    def _slot(self, kind: str) -> Iterator[None]:
        if self.limiter is None:
            yield
            return
        with self.limiter.call(kind):
            yield


def _chunks(jobs: Sequence[Job], size: int = BATCH_LIMIT) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


def _blank(value: Any) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def owner_verdict(job: Job, current: str | None, crm: str) -> Outcome | None:
    """Compare-and-set: ``done`` if ours already, ``conflict`` if a human changed it, None when we should write."""
    ours = job.assignment.owner.crm_ids.get(crm)
    previous = _blank(job.assignment.previous_owner_id)
    current = _blank(current)
    if current == ours:
        return Outcome.done(f"owner already {ours}")
    if current != previous:
        return Outcome.conflict(f"owner changed by someone else: expected {previous}, found {current}; left alone")
    return None


class HubSpotOwnerWriter:
    """Performer: set ``hubspot_owner_id`` on contacts (or any object type) with compare-and-set."""

    kind = EffectKind.SET_OWNER
    target = CRM

    def __init__(
        self, client: Any, *, retry: RetryPolicy | None = None, limiter: Any | None = None, batch_size: int = 100
    ) -> None:
        self.calls = _Calls(client, retry, limiter)
        self.batch_size = min(batch_size, BATCH_LIMIT)

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Read current owners, then write ours where the previous owner still holds the record."""
        outcomes: dict[int, Outcome] = {}
        by_type: dict[str, list[Job]] = {}
        for job in jobs:
            by_type.setdefault(job.assignment.target.object, []).append(job)
        for object_type, group in by_type.items():
            for chunk in _chunks(group):
                outcomes.update(self._write_chunk(object_type, chunk))
        return [outcomes[job.item.id] for job in jobs]

    def _write_chunk(self, object_type: str, jobs: Sequence[Job]) -> dict[int, Outcome]:
        current = self._current_owners(object_type, [j.assignment.target.native_id for j in jobs])
        outcomes: dict[int, Outcome] = {}
        to_write: list[Job] = []
        for job in jobs:
            native = job.assignment.target.native_id
            if native not in current:
                outcomes[job.item.id] = outcome_for_error(NotFoundError(f"hubspot {object_type} {native} not found"))
                continue
            verdict = owner_verdict(job, current[native], CRM)
            if verdict is None:
                to_write.append(job)
            else:
                outcomes[job.item.id] = verdict
        if to_write:
            outcomes.update(self._update(object_type, to_write))
        return outcomes

    def _current_owners(self, object_type: str, ids: list[str]) -> dict[str, str | None]:
        body = {"inputs": [{"id": i} for i in ids], "properties": [OWNER_PROPERTY]}
        api = self.calls.client.crm.objects.batch_api
        page = self.calls.retried("owner_read", lambda: api.read(object_type, body, **raw_options()))
        return {str(r.get("id")): properties(r).get(OWNER_PROPERTY) for r in results(page)}

    def _update(self, object_type: str, jobs: list[Job]) -> dict[int, Outcome]:
        inputs = [
            {"id": j.assignment.target.native_id, "properties": {OWNER_PROPERTY: j.assignment.owner.crm_ids[CRM]}}
            for j in jobs
        ]
        api = self.calls.client.crm.objects.batch_api
        answer = self.calls.retried(
            "owner_update", lambda: api.update(object_type, {"inputs": inputs}, **raw_options())
        )
        written = {str(r.get("id")) for r in results(answer)}
        failed = error_keys(answer, "ids")
        outcomes = {}
        for job in jobs:
            native = job.assignment.target.native_id
            if native in written:
                outcomes[job.item.id] = Outcome.done(f"owner set to {job.assignment.owner.crm_ids[CRM]}")
            else:
                outcomes[job.item.id] = _batch_failure(failed.get(native))
        return outcomes


def _batch_failure(error: str | None) -> Outcome:
    """A record the batch rejected is wrong as sent (dead); one the answer forgot is retried."""
    if error is None:
        return Outcome("retry", "missing from the batch answer")
    return Outcome("dead", f"hubspot rejected the record: {error}")


class HubSpotTaskWriter:
    """Performer: one task per decision, owned by the new owner, on the contact and company, due per the SLA."""

    kind = EffectKind.CREATE_TASK
    target = CRM

    def __init__(
        self,
        client: Any,
        actions: ActionsConfig,
        *,
        retry: RetryPolicy | None = None,
        limiter: Any | None = None,
        batch_size: int = 100,
    ) -> None:
        self.calls = _Calls(client, retry, limiter)
        self.actions = actions
        self.batch_size = min(batch_size, BATCH_LIMIT)

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Create the tasks not created yet (checking first when an earlier attempt may have created them)."""
        outcomes: dict[int, Outcome] = {}
        for chunk in _chunks(jobs):
            outcomes.update(self._create_chunk(chunk))
        return [outcomes[job.item.id] for job in jobs]

    def _create_chunk(self, jobs: Sequence[Job]) -> dict[int, Outcome]:
        return create_once(
            jobs, existing=self._existing, create=self._create, retry=self.calls.retry, what="hubspot_task_create"
        )

    def _existing(self, decision_ids: list[str]) -> dict[str, str]:
        wanted = {"propertyName": DECISION_PROPERTY, "operator": "IN", "values": decision_ids}
        body = {
            "filterGroups": [{"filters": [wanted]}],
            "properties": [DECISION_PROPERTY],
            "limit": 200,
        }
        api = self.calls.client.crm.objects.search_api
        page = self.calls.run("task_search", lambda: api.do_search("tasks", body, **raw_options()), search=True)
        return {str(properties(r).get(DECISION_PROPERTY)): str(r.get("id")) for r in results(page)}

    def _create(self, jobs: list[Job]) -> dict[int, Outcome]:
        inputs = [self.task_input(j) for j in jobs]
        api = self.calls.client.crm.objects.tasks.batch_api
        answer = self.calls.run("task_create", lambda: api.create({"inputs": inputs}, **raw_options()))
        created_records = results(answer)
        created = {str(properties(r).get(DECISION_PROPERTY)): str(r.get("id")) for r in created_records}
        failed = {int(index): error for index, error in error_keys(answer, "index").items()}
        # HubSpot does not promise result order; an input is accounted for by its decision id when the answer
        # echoes it, else by the counts: with every input either created or reported failed, the rest exist.
        complete = len(created_records) + len(failed) == len(jobs)
        outcomes = {}
        for index, job in enumerate(jobs):
            task_id = created.get(job.item.decision_id)
            if index in failed:
                outcomes[job.item.id] = _batch_failure(failed[index])
            elif task_id or complete:
                outcomes[job.item.id] = Outcome.done(f"task {task_id or ''} created".replace("  ", " "))
            else:
                outcomes[job.item.id] = _batch_failure(None)
        return outcomes

    def task_input(self, job: Job) -> dict[str, Any]:
        """The batch-create input for one job: properties and associations."""
        a = job.assignment
        properties = {
            "hs_timestamp": _iso(a.due_ms),
            "hs_task_subject": task_subject(a, self.actions.templates),
            "hs_task_body": html_body(a, self.actions.links),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": self.actions.task_priority.upper(),
            "hs_task_type": TASK_TYPES.get(a.next_action, "TODO"),
            OWNER_PROPERTY: a.owner.crm_ids[CRM],
            DECISION_PROPERTY: a.decision_id,
        }
        associations = [_association(a.target.native_id, TASK_TO_CONTACT)]
        if a.account is not None and a.account.record is not None and a.account.record.crm == CRM:
            associations.append(_association(a.account.record.native_id, TASK_TO_COMPANY))
        return {"properties": properties, "associations": associations}


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
