"""Owner write-back and task creation in Salesforce as outbox performers, 200 records a call (sObject Collections).

Owner: one SOQL read of the current ``OwnerId`` values, then one ``PATCH composite/sobjects`` (``allOrNone:
false``) for the records still held by the decision's previous owner, ALWAYS with ``Sforce-Auto-Assign: FALSE`` so
the org's lead assignment rules cannot replace our owner. A record a human reassigned since is left alone.

Task: upserted by the external id ``LeadRelay_Decision_Id__c``, so a repeat updates the same task instead of
creating a second one. A batch goes through the upsert flavour of sObject Collections
(``PATCH composite/sobjects/Task/LeadRelay_Decision_Id__c``); where an org or the sandbox lacks it, the writer
falls back to reading the decision ids back and creating only the missing tasks (``POST composite/sobjects``).
A single task uses the classic ``PATCH sobjects/Task/LeadRelay_Decision_Id__c/{id}``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.salesforce.errors import HeaderRecordingSession, map_error
from connector.config.actions import ActionsConfig
from connector.errors import LeadrelayError, NotFoundError, RateLimitedError, RequestError
from connector.outbox.create_once import create_once
from connector.outbox.model import Assignment, EffectKind, Job, Outcome
from connector.outbox.task_body import plain_body, task_subject
from connector.outbox.worker import outcome_for_error
from connector.retry import RetryPolicy

T = TypeVar("T")
CRM = "salesforce"
BATCH_LIMIT = 200
DECISION_FIELD = "LeadRelay_Decision_Id__c"
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
OWNED_OBJECTS = ("Lead", "Contact", "Account")  # the only object names ever put into SOQL
TASK_TYPES = {"call": ("Call", "Call"), "email": ("Email", "Email"), "research": ("Other", "Task")}
PRIORITIES = {"HIGH": "High", "MEDIUM": "Normal", "NORMAL": "Normal", "LOW": "Low"}
RETRIABLE_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}


def same_id(a: str | None, b: str | None) -> bool:
    """Salesforce ids compare on their case-sensitive 15-character form (18-character ids add a checksum)."""
    a, b = (a or "").strip() or None, (b or "").strip() or None
    return a == b or (a is not None and b is not None and a[:15] == b[:15])


class _Calls:
    """Runs simple-salesforce calls with the shared retry policy, paced through sync's limiter when given."""

    def __init__(self, sf: Any, retry: RetryPolicy | None, limiter: Any | None) -> None:
        self.sf = sf
        self.retry = retry or RetryPolicy()
        self.limiter = limiter

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` once, mapping Salesforce's exceptions onto ``connector.errors``."""
        try:
            with self._slot():
                return fn()
        except LeadrelayError:
            raise
        except Exception as exc:
            session = getattr(self.sf, "session", None)
            mapped = _short_window_429(exc) or map_error(
                exc, session if isinstance(session, HeaderRecordingSession) else None
            )
            if isinstance(mapped, RateLimitedError) and self.limiter is not None:
                self.limiter.rate_limited("default", mapped.retry_after)
            if mapped is exc:
                raise
            raise mapped from exc

    def retried(self, what: str, fn: Callable[[], T]) -> T:
        """``run`` under the retry policy (for calls that are safe to repeat)."""
        return self.retry.call(lambda: self.run(fn), what=f"salesforce_{what}")

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        if self.limiter is None:
            yield
            return
        with self.limiter.call("default"):
            yield


def _short_window_429(exc: BaseException) -> RateLimitedError | None:
    """An HTTP 429 is a short-window limit even when its body says REQUEST_LIMIT_EXCEEDED (the org's daily budget
    answers 403); waiting an hour for it, as a budget error would, stalls delivery for nothing."""
    if getattr(exc, "status", None) != 429:
        return None
    return RateLimitedError("salesforce rate limit (429)", crm=CRM, status=429, retry_after=1.0)


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


def _result_outcome(result: dict[str, Any], done: str) -> Outcome:
    """The outcome of one sObject Collections result: done, retry for locks, dead for anything else."""
    if result.get("success"):
        return Outcome.done(done)
    errors = result.get("errors") or []
    codes = {str(e.get("statusCode")) for e in errors}
    detail = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors)[:300] or "failed"
    return Outcome("retry" if codes & RETRIABLE_CODES else "dead", f"salesforce: {detail}")


class SalesforceOwnerWriter:
    """Performer: set ``OwnerId`` (User or Queue) with compare-and-set and without assignment rules."""

    kind = EffectKind.SET_OWNER
    target = CRM

    def __init__(
        self, sf: Any, *, retry: RetryPolicy | None = None, limiter: Any | None = None, batch_size: int = 200
    ) -> None:
        self.calls = _Calls(sf, retry, limiter)
        self.batch_size = min(batch_size, BATCH_LIMIT)

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Read current owners per object type, then write ours where the previous owner still holds the record."""
        outcomes: dict[int, Outcome] = {}
        by_type: dict[str, list[Job]] = {}
        for job in jobs:
            by_type.setdefault(job.assignment.target.object, []).append(job)
        for object_name, group in by_type.items():
            if object_name not in OWNED_OBJECTS:
                error = RequestError(f"salesforce object {object_name!r} is not one leadrelay assigns")
                outcomes.update({j.item.id: outcome_for_error(error) for j in group})
                continue
            for chunk in _chunks(group, BATCH_LIMIT):
                outcomes.update(self._write_chunk(object_name, chunk))
        return [outcomes[job.item.id] for job in jobs]

    def _write_chunk(self, object_name: str, jobs: Sequence[Job]) -> dict[int, Outcome]:
        current = self._current_owners(object_name, [j.assignment.target.native_id for j in jobs])
        outcomes: dict[int, Outcome] = {}
        to_write: list[Job] = []
        for job in jobs:
            native = job.assignment.target.native_id[:15]
            if native not in current:
                error = NotFoundError(f"salesforce {object_name} {job.assignment.target.native_id} not found")
                outcomes[job.item.id] = outcome_for_error(error)
                continue
            verdict = _verdict(job.assignment, current[native])
            if verdict is None:
                to_write.append(job)
            else:
                outcomes[job.item.id] = verdict
        if to_write:
            outcomes.update(self._update(object_name, to_write))
        return outcomes

    def _current_owners(self, object_name: str, ids: list[str]) -> dict[str, str | None]:
        from simple_salesforce import format_soql

        soql = format_soql(f"SELECT Id, OwnerId FROM {object_name} WHERE Id IN {{}}", ids)
        answer = self.calls.retried("owner_read", lambda: self.calls.sf.query_all(soql))
        return {str(r["Id"])[:15]: r.get("OwnerId") for r in answer.get("records") or []}

    def _update(self, object_name: str, jobs: list[Job]) -> dict[int, Outcome]:
        records = [
            {
                "attributes": {"type": object_name},
                "Id": j.assignment.target.native_id,  # field names are case-insensitive; "Id" reads as the field
                "OwnerId": j.assignment.owner.crm_ids[CRM],
            }
            for j in jobs
        ]
        body = {"allOrNone": False, "records": records}
        results = self.calls.retried(
            "owner_update",
            lambda: self.calls.sf.restful("composite/sobjects", method="PATCH", json=body, headers=NO_AUTO_ASSIGN),
        )
        return {
            job.item.id: _result_outcome(result, f"OwnerId set to {job.assignment.owner.crm_ids[CRM]}")
            for job, result in zip(jobs, results or [], strict=True)
        }


def _verdict(assignment: Assignment, current: str | None) -> Outcome | None:
    ours = assignment.owner.crm_ids.get(CRM)
    if same_id(current, ours):
        return Outcome.done(f"OwnerId already {ours}")
    if not same_id(current, assignment.previous_owner_id):
        return Outcome.conflict(
            f"owner changed by someone else: expected {assignment.previous_owner_id}, found {current}; left alone"
        )
    return None


class SalesforceTaskWriter:
    """Performer: one Task per decision (upsert by ``LeadRelay_Decision_Id__c``), owned by the new owner."""

    kind = EffectKind.CREATE_TASK
    target = CRM

    def __init__(
        self,
        sf: Any,
        actions: ActionsConfig,
        *,
        retry: RetryPolicy | None = None,
        limiter: Any | None = None,
        batch_size: int = 200,
    ) -> None:
        self.calls = _Calls(sf, retry, limiter)
        self.actions = actions
        self.batch_size = min(batch_size, BATCH_LIMIT)
        self.collection_upsert: bool | None = None  # learned on first use: does the org take upsert collections?

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Upsert each job's task; the decision id makes every repeat land on the same task."""
        if len(jobs) == 1:
            return [self._upsert_one(jobs[0])]
        outcomes: dict[int, Outcome] = {}
        for chunk in _chunks(jobs, BATCH_LIMIT):
            outcomes.update(self._upsert_many(list(chunk)))
        return [outcomes[job.item.id] for job in jobs]

    def _upsert_one(self, job: Job) -> Outcome:
        record = self.task_record(job.assignment)
        record.pop(DECISION_FIELD)
        key = f"{DECISION_FIELD}/{quote(job.item.decision_id, safe='')}"
        self.calls.retried("task_upsert", lambda: self.calls.sf.Task.upsert(key, record, headers=NO_AUTO_ASSIGN))
        return Outcome.done("task upserted")

    def _upsert_many(self, jobs: list[Job]) -> dict[int, Outcome]:
        if self.collection_upsert is not False:
            try:
                return self._collection_upsert(jobs)
            except (NotFoundError, RequestError) as error:
                unsupported = isinstance(error, NotFoundError) or error.status == 405
                if self.collection_upsert or not unsupported:
                    raise
                self.collection_upsert = False
        return self._create_missing(jobs)

    def _collection_upsert(self, jobs: list[Job]) -> dict[int, Outcome]:
        body = {"allOrNone": False, "records": [{"attributes": {"type": "Task"}, **self.task_record(j.assignment)}
                                                 for j in jobs]}  # fmt: skip
        path = f"composite/sobjects/Task/{DECISION_FIELD}"
        results = self.calls.retried(
            "task_upsert", lambda: self.calls.sf.restful(path, method="PATCH", json=body, headers=NO_AUTO_ASSIGN)
        )
        self.collection_upsert = True
        return {j.item.id: _result_outcome(r, "task upserted") for j, r in zip(jobs, results or [], strict=True)}

    def _create_missing(self, jobs: list[Job]) -> dict[int, Outcome]:
        return create_once(
            jobs, existing=self._existing, create=self._create, retry=self.calls.retry, what="salesforce_task_create"
        )

    def _existing(self, decision_ids: list[str]) -> dict[str, str]:
        from simple_salesforce import format_soql

        soql = format_soql(f"SELECT Id, {DECISION_FIELD} FROM Task WHERE {DECISION_FIELD} IN {{}}", decision_ids)
        answer = self.calls.run(lambda: self.calls.sf.query_all(soql))
        return {str(r[DECISION_FIELD]): str(r["Id"]) for r in answer.get("records") or []}

    def _create(self, jobs: list[Job]) -> dict[int, Outcome]:
        records = [{"attributes": {"type": "Task"}, **self.task_record(j.assignment)} for j in jobs]
        body = {"allOrNone": False, "records": records}
        results = self.calls.run(
            lambda: self.calls.sf.restful("composite/sobjects", method="POST", json=body, headers=NO_AUTO_ASSIGN)
        )
        return {
            j.item.id: _result_outcome(r, f"task {r.get('id')} created") for j, r in zip(jobs, results, strict=True)
        }

    def task_record(self, a: Assignment) -> dict[str, Any]:
        """The Task fields for one assignment (plain-text Description; WhatId only for contacts)."""
        task_type, subtype = TASK_TYPES.get(a.next_action, ("Other", "Task"))
        due = datetime.fromtimestamp(a.due_ms / 1000, tz=UTC)
        record: dict[str, Any] = {
            DECISION_FIELD: a.decision_id,
            "Subject": task_subject(a, self.actions.templates),
            "Description": plain_body(a, self.actions.links),
            "OwnerId": a.owner.crm_ids[CRM],
            "WhoId": a.target.native_id,
            "Status": "Not Started",
            "Priority": PRIORITIES.get(self.actions.task_priority.upper(), "Normal"),
            "Type": task_type,
            "TaskSubtype": subtype,
            "ActivityDate": due.date().isoformat(),
            "ReminderDateTime": due.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        # Salesforce refuses a WhatId on a task about a Lead: leads have no account until converted.
        account = a.account.record if a.account is not None else None
        if a.target.object == "Contact" and account is not None and account.crm == CRM:
            record["WhatId"] = account.native_id
        return record
