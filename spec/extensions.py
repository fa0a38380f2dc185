"""Issue 3's features (PreVote, CheckQuorum, leader lease): placeholder until they land."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from spec.params import Params
from spec.state import State

if TYPE_CHECKING:
    from spec.invariants import Invariant
    from spec.next import Action


def init_extension_vars(p: Params, s: State) -> State:
    """Init with the feature variables set up."""
    return s


def NextWithFeatures(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    raise NotImplementedError("features are not modelled yet")


def extension_constraint(p: Params, s: State) -> bool:
    return True


def invariants_for(p: Params) -> tuple[Invariant, ...]:
    return ()


def sometimes_for(p: Params) -> tuple[Invariant, ...]:
    return ()
