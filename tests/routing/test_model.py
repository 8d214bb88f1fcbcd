"""Routing's value objects: built fast, still frozen dataclasses in every way a caller can see."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from connector.routing.model import (
    Assignment,
    Candidate,
    Pick,
    PickRoster,
    StepResult,
    picks_from_candidates,
    quick_init,
)


def test_a_quickly_built_step_is_a_frozen_dataclass_with_its_signature_and_defaults():
    positional = StepResult("inbound", "rules", "rules", "no_match", "country is FR", "r1")
    keywords = StepResult(
        stage="inbound", step="rules", kind="rules", outcome="no_match", detail="country is FR", rule="r1"
    )
    assert positional == keywords and hash(positional) == hash(keywords)
    assert positional.pool is None and positional.picks == () and positional.owner is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        positional.rule = "r2"  # type: ignore[misc]
    assert dataclasses.replace(positional, rule="r2").rule == "r2"
    assert "detail='country is FR'" in repr(positional)
    with pytest.raises(TypeError):
        StepResult("inbound", "rules")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Assignment("primary", "inbound", "a@x.com", "A", "pool", nonsense=1)  # type: ignore[call-arg]


def test_quick_init_refuses_what_it_cannot_build_faithfully():
    @dataclass(frozen=True)
    class WithFactory:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True)
    class WithPostInit:
        x: int

        def __post_init__(self) -> None:
            pass

    for cls in (WithFactory, WithPostInit):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_a_step_shows_its_picks_as_candidates_and_candidates_become_picks_again():
    first = PickRoster("pod", ("a@x.com", "b@x.com"), (True, False), (None, "pto"), (None, "on PTO"), (1.0, 2.0))
    second = PickRoster("global", ("c@x.com",), (True,), (None,), (None,), (1.5,))
    step = StepResult(
        "inbound", "pool", "pool", "assigned", "d", picks=(Pick(first, (0.5, None)), Pick(second, (1.0,)))
    )
    assert step.candidates == (
        Candidate("a@x.com", True, "pod", None, None, 1.0, 0.5),
        Candidate("b@x.com", False, "pod", "pto", "on PTO", 2.0, None),
        Candidate("c@x.com", True, "global", None, None, 1.5, 1.0),
    )
    assert picks_from_candidates(step.candidates) == step.picks
