"""Venn-region encoding of finite sets (the BAPA idea) for cardinality facts over symbolic N.

For k named subsets of an N-element universe, one non-negative integer counts the elements in
each of the 2^k regions (inside exactly the sets whose bit is 1). Every family of finite sets gives
such a vector and every vector gives sets, so quantifier-free statements about the cardinalities
of Boolean combinations of the sets become linear integer arithmetic, decided for all N at once.
This avoids the per-N Boolean encoding, which is pigeonhole-hard and stops scaling near N = 22.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import z3


class Venn:
    """Region counters for the sets `names` inside a universe of `universe` elements."""

    def __init__(self, names: Sequence[str], universe: z3.ArithRef, tag: str = "") -> None:
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate set names: {names}")
        self.names = tuple(names)
        self.universe = universe
        self.regions: dict[tuple[bool, ...], z3.ArithRef] = {
            bits: z3.Int(f"{tag}|{self._label(bits)}|")
            for bits in product((False, True), repeat=len(names))
        }

    def _label(self, bits: tuple[bool, ...]) -> str:
        inside = [n for n, b in zip(self.names, bits, strict=True) if b]
        return "&".join(inside) if inside else "rest"

    def well_formed(self) -> z3.BoolRef:
        """Every region is non-negative and the regions partition the universe."""
        nonneg = [r >= 0 for r in self.regions.values()]
        return z3.And(*nonneg, z3.Sum(*self.regions.values()) == self.universe)

    def size(self, inside: Sequence[str] = (), outside: Sequence[str] = ()) -> z3.ArithRef:
        """|∩inside \\ ∪outside| (the universe when both are empty)."""
        self._known(*inside, *outside)
        picked = [
            count
            for bits, count in self.regions.items()
            if all(bits[self.names.index(n)] for n in inside)
            and not any(bits[self.names.index(n)] for n in outside)
        ]
        return z3.Sum(*picked)

    def subset(self, small: str, big: str) -> z3.BoolRef:
        """small ⊆ big."""
        return self.size([small], [big]) == 0

    def disjoint(self, a: str, b: str) -> z3.BoolRef:
        return self.size([a, b]) == 0

    def _known(self, *names: str) -> None:
        for name in names:
            if name not in self.names:
                raise ValueError(f"unknown set {name!r}; known: {', '.join(self.names)}")

    def describe(self, model: z3.ModelRef) -> str:
        """Non-empty regions of a model, e.g. 'N=3: A&B=0, A=2, B=1'."""
        parts = []
        for bits, count in self.regions.items():
            value = model.eval(count, model_completion=True)
            if value.as_long() != 0:
                parts.append(f"|{self._label(bits)}|={value}")
        total = model.eval(self.universe, model_completion=True)
        return f"N={total}: " + ", ".join(parts)
