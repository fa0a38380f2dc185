"""The history the spec records (spec/history.py) as values of the encoding's ghost variables.

The tie (proofs/tie.py) compares the relation's ghost updates with the spec's history steps:
each ghost becomes a Z3 definition over the finite server and quorum sorts of one cluster size,
as proofs.concrete does for the spec's variables. A relation over servers and integers holds
exactly on the recorded tuples; a quorum-valued ghost (the quorum of an election or a commit)
is the recorded set where one was recorded and the set of every server elsewhere (never read
there: every lemma reads it only for a recorded election or commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import z3

from electorate.proofs.concrete import Universe, domain
from electorate.proofs.vocab import VAR, Expr, Vocab
from electorate.spec.history import History

# The ghost variables of the encoding and the History field that records each one.
FIELDS: dict[str, str] = {
    "elected": "elected",
    "wq": "wq",
    "votedIn": "voted_in",
    "stored": "stored",
    "committed": "committed",
    "cq": "cq",
}


def recorded(v: Vocab) -> tuple[str, ...]:
    """The ghosts of `v`'s model that the spec's history records (in the model's order)."""
    return tuple(x for x in v.variables() if VAR[x].ghost and x in FIELDS)


def value(h: History, var: str) -> Any:
    return getattr(h, FIELDS[var])


def representable(u: Universe, var: str, rows: frozenset[tuple[int, ...]]) -> bool:
    """Whether the rows are a value of the ghost: a quorum-valued ghost holds quorums only (a
    spec that records another set of servers has no step of the relation)."""
    return VAR[var].value != "quorum" or all(row[-1] in u.quorums for row in rows)


def body(u: Universe, v: Vocab, var: str, rows: frozenset[tuple[int, ...]]) -> Expr:
    """The definition of ghost `var` holding the recorded `rows` (servers as indexes)."""
    kinds = VAR[var].args
    xs = [z3.Var(k, v.sort(kind)) for k, kind in enumerate(kinds)]
    if VAR[var].value == "quorum":  # the last item of each row is the quorum's mask
        elems = domain(u.sorts.quorum)
        assert elems is not None
        by_mask = dict(zip(u.quorums, elems, strict=True))
        out: Expr = by_mask[max(u.quorums)]  # every server
        for row in sorted(rows, reverse=True):
            out = z3.If(_at(u, xs, kinds, row[:-1]), by_mask[row[-1]], out)
        return out
    cases = [_at(u, xs, kinds, row) for row in sorted(rows)]
    return z3.Or(*cases) if cases else z3.BoolVal(False)


def _at(u: Universe, xs: Sequence[Expr], kinds: Sequence[str], row: Sequence[int]) -> z3.BoolRef:
    eqs = [
        x == (u.servers[item] if kind == "node" else z3.IntVal(item))
        for x, kind, item in zip(xs, kinds, row, strict=True)
    ]
    return z3.And(*eqs)
