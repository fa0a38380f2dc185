"""What the checker needs from a spec: the `Model` protocol."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol, TypeVar

S = TypeVar("S")
A = TypeVar("A")
S_contra = TypeVar("S_contra", contravariant=True)


class Property(Protocol[S_contra]):
    """A state predicate with a stable ID (an invariant, or a "sometimes" reachability goal)."""

    @property
    def id(self) -> str: ...

    @property
    def description(self) -> str: ...

    def holds(self, s: S_contra) -> bool: ...


class Model(Protocol[S, A]):
    """A spec: initial states, labelled successors, a state constraint, properties, symmetry."""

    @property
    def invariants(self) -> Sequence[Property[S]]: ...

    @property
    def sometimes(self) -> Sequence[Property[S]]: ...

    def init_states(self) -> list[S]: ...

    def successors(self, s: S) -> Iterable[tuple[A, S]]:
        """Every enabled action instance (label, successor), stuttering ones included."""
        ...

    def in_constraint(self, s: S) -> bool:
        """TLC's CONSTRAINT: a successor outside it is counted, checked, and not explored."""
        ...

    def canonical(self, s: S) -> Hashable:
        """The representative of s's symmetry orbit; its hash() is the state's fingerprint, so
        states must differ under hash() (mind CPython's hash(-1) == hash(-2))."""
        ...

    # Rendering, for traces.
    def show_variables(self, s: S) -> dict[str, str]: ...

    def state_json(self, s: S) -> dict[str, object]: ...

    def action_json(self, a: A) -> dict[str, object]: ...

    def arrows(self, a: A, before: S, after: S) -> list[tuple[str, str, str]]: ...

    def participants(self) -> list[str]: ...
