"""The logs in the Z3 model (tracked group `log`): raft.tla's `log` as three functions.

A log is its length `len(n)` and, at each index k in 1..len(n), the entry's term `lterm(n, k)`
and value `lval(n, k)`; indexes, terms and values are integers. Past the end of a log the
proofs assume nothing (spec states read 0 there, proofs.concrete, and a step that removes an
entry writes 0 in its slot, so every spec step is a step here). The messages carry their log
payload, four integers after the type, source, destination, term and flag (`message_payload`):

* RequestVote request: flag FALSE; lastLogIndex, lastLogTerm, 0, 0.
* AppendEntries request: flag "carries an entry"; prevLogIndex, prevLogTerm, the entry's term
  and value (0, 0 without an entry).
* AppendEntries response: flag msuccess; 0, 0, 0, 0. RequestVote response: flag
  mvoteGranted; 0, 0, 0, 0.

The spec's AppendEntries carries at most one entry, so one term and one value describe it. Left
out, as free choices: commitIndex, nextIndex and matchIndex (the leader picks any prevLogIndex
in 0..Len(log), and a successful response's matchIndex is not kept). They decide what is sent
and what a leader counts as committed, never what a log holds, so Log Matching does not read
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import z3

from electorate.proofs.vocab import Expr, Sorts, Vocab, bound_vars, define

Changes = dict[str, z3.BoolRef]


def nodes(s: Sorts, names: str) -> list[Expr]:
    """Server constants, one per space-separated name (for the log proofs' lemmas)."""
    return [z3.Const(n, s.node) for n in names.split()]


def ints(names: str) -> list[Expr]:
    """Integer constants, one per space-separated name."""
    return [z3.Int(n) for n in names.split()]


def entry(v: Vocab, n: Expr, k: Expr, t: Expr) -> z3.BoolRef:
    """n's log has an entry of term t at index k."""
    return z3.And(has_entry(v, n, k), v.fn("lterm")(n, k) == t)


def has_entry(v: Vocab, n: Expr, k: Expr) -> z3.BoolRef:
    """Index k is inside n's log."""
    return z3.And(k >= 1, k <= v.fn("len")(n))


def last_term(v: Vocab, n: Expr) -> z3.ArithRef:
    """LastTerm(log[n]): the term of the last entry, 0 for an empty log."""
    length = v.fn("len")(n)
    return z3.If(length == 0, z3.IntVal(0), v.fn("lterm")(n, length))


def term_at(v: Vocab, n: Expr, k: Expr) -> z3.ArithRef:
    """The term at index k, 0 at index 0 (raft.tla's prevLogTerm of an empty prefix)."""
    return z3.If(k == 0, z3.IntVal(0), v.fn("lterm")(n, k))


def up_to_date(v: Vocab, i: Expr, last_index: Expr, last_term_: Expr) -> z3.BoolRef:
    """raft.tla's logOk of a vote request: the candidate's log is at least as up to date."""
    mine = last_term(v, i)
    return z3.Or(last_term_ > mine, z3.And(last_term_ == mine, last_index >= v.fn("len")(i)))


class LogUpdate(NamedTuple):
    """One server's new log: its length and, per index, the entry's term and value."""

    length: Expr
    term: Callable[[Expr], Expr]
    value: Callable[[Expr], Expr]


def keep(pre: Vocab, i: Expr) -> LogUpdate:
    """log[i] as it is."""
    return LogUpdate(
        pre.fn("len")(i), lambda k: pre.fn("lterm")(i, k), lambda k: pre.fn("lval")(i, k)
    )


def _put(pre: Vocab, i: Expr, length: Expr, at: Expr, term: Expr, value: Expr) -> LogUpdate:
    """log[i] with `length` entries and entry `at` replaced."""
    old = keep(pre, i)
    return LogUpdate(
        length,
        lambda k: z3.If(k == at, term, old.term(k)),
        lambda k: z3.If(k == at, value, old.value(k)),
    )


def append(pre: Vocab, i: Expr, term: Expr, value: Expr) -> LogUpdate:
    """Append(log[i], [term |-> term, value |-> value])."""
    end = pre.fn("len")(i) + 1
    return _put(pre, i, end, end, term, value)


def overwrite_last(pre: Vocab, i: Expr, term: Expr, value: Expr) -> LogUpdate:
    """[log[i] EXCEPT ![Len(log[i])] = [term |-> term, value |-> value]] (a mutant's step)."""
    end = pre.fn("len")(i)
    return _put(pre, i, end, end, term, value)


def truncate(pre: Vocab, i: Expr) -> LogUpdate:
    """SubSeq(log[i], 1, Len(log[i]) - 1): the last entry removed (its slot reads 0, as past
    the end of every spec log: proofs.concrete)."""
    end = pre.fn("len")(i)
    return _put(pre, i, end - 1, end, z3.IntVal(0), z3.IntVal(0))


def pick(cond: z3.BoolRef, a: LogUpdate, b: LogUpdate) -> LogUpdate:
    """IF cond THEN a ELSE b."""
    return LogUpdate(
        z3.If(cond, a.length, b.length),
        lambda k: z3.If(cond, a.term(k), b.term(k)),
        lambda k: z3.If(cond, a.value(k), b.value(k)),
    )


def changes(pre: Vocab, post: Vocab, i: Expr, update: LogUpdate) -> Changes:
    """log' = [log EXCEPT ![i] = update], one definition per function (proofs.vocab.define):
    definitions keep the solver's model search easy."""
    old_len, old_term, old_val = pre.fn("len"), pre.fn("lterm"), pre.fn("lval")
    return {
        "len": define(pre, post, "len", lambda x: z3.If(x == i, update.length, old_len(x))),
        "lterm": define(
            pre, post, "lterm", lambda x, k: z3.If(x == i, update.term(k), old_term(x, k))
        ),
        "lval": define(
            pre, post, "lval", lambda x, k: z3.If(x == i, update.value(k), old_val(x, k))
        ),
    }


def append_request(v: Vocab, i: Expr, prev: Expr) -> tuple[z3.BoolRef, tuple[Expr, ...]]:
    """AppendEntries(i, j) with nextIndex[i][j] = prev + 1: whether an entry is sent, and the
    payload (prevLogIndex, prevLogTerm, the entry's term and value)."""
    carries = prev < v.fn("len")(i)
    k = prev + 1
    term = z3.If(carries, v.fn("lterm")(i, k), 0)
    value = z3.If(carries, v.fn("lval")(i, k), 0)
    return carries, (prev, term_at(v, i, prev), term, value)


def init(v: Vocab) -> z3.BoolRef:
    """Every log empty."""
    (x,) = bound_vars(v, ("node",), "il")
    return z3.ForAll([x], v.fn("len")(x) == 0)
