"""Replay of scripts through an adapter, and delta debugging (ddmin) of failing scripts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from electorate.conformance.harness import DivergenceError, Failure, NotEnabledError, Session
from electorate.conformance.protocol import Client, Hello
from electorate.conformance.script import Script, Step
from electorate.spec.messages import Message

T = TypeVar("T")


@dataclass
class Replay:
    failure: Failure | None
    session: Session
    feasible: bool  # False: a step was not enabled in the spec (a shortened script)


def replay(client: Client, hello: Hello, script: Script, by_header: bool = False) -> Replay:
    """Run ``script`` from init on a fresh session; stop at the first divergence.

    ``by_header``: a message step whose exact message is not in flight takes the one message in
    flight with the same type, ends, term and pre-vote flag (a coverage seed written against one
    implementation, replayed where a declared option changes a message's other fields, such as
    a heartbeat without log position). The checks judge whatever was delivered."""
    session = Session(client, hello, script.config)
    try:
        session.start()
        for step in script.steps:
            session.apply(_in_flight(session, step) if by_header else step)
    except DivergenceError as d:
        return Replay(d.failure, session, True)
    except NotEnabledError:
        return Replay(None, session, False)
    return Replay(None, session, True)


def _in_flight(session: Session, step: Step) -> Step:
    m = step.msg
    if m is None or step in session.choices(step.op):
        return step
    same = [
        c for c in session.choices(step.op) if c.msg is not None and _header(c.msg) == _header(m)
    ]
    return same[0] if len(same) == 1 else step


def _header(m: Message) -> tuple[int, int, int, int, bool]:
    return (m.mtype, m.msource, m.mdest, m.mterm, m.mpre_vote)


def ddmin(items: Sequence[T], fails: Callable[[list[T]], bool], seconds: float) -> list[T]:
    """Zeller's ddmin on a sequence, complements first (removing chunks keeps order), then
    single-step removals; stops improving after ``seconds``."""
    cur = list(items)
    deadline = time.monotonic() + seconds
    n = 2
    while len(cur) >= 2 and time.monotonic() < deadline:
        size = -(-len(cur) // n)
        chunks = [cur[k : k + size] for k in range(0, len(cur), size)]
        for k in range(len(chunks)):
            candidate = [x for c, chunk in enumerate(chunks) if c != k for x in chunk]
            if fails(candidate):
                cur, n = candidate, max(n - 1, 2)
                break
        else:
            if n >= len(cur):
                break
            n = min(len(cur), 2 * n)
    return _drop_pairs(cur, fails, deadline)


def _drop_pairs(cur: list[T], fails: Callable[[list[T]], bool], deadline: float) -> list[T]:
    """Remove two steps at once (a crash and its restart, a partition and its heal): ddmin
    alone cannot, since removing either one leaves a script whose other step is disabled."""
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for i in range(len(cur)):
            for j in range(i + 1, len(cur)):
                candidate = cur[:i] + cur[i + 1 : j] + cur[j + 1 :]
                if fails(candidate):
                    cur, improved = candidate, True
                    break
            if improved or time.monotonic() >= deadline:
                break
    return cur


def minimize(client: Client, hello: Hello, script: Script, check: str, seconds: float) -> Script:
    """The shortest script ddmin finds that still fails with the same kind of check."""
    kind = check.split(":")[0]

    def fails(steps: list[Step]) -> bool:
        r = replay(client, hello, Script(script.config, tuple(steps)))
        return r.failure is not None and r.failure.kind == kind

    steps = ddmin(script.steps, fails, seconds)
    return Script(script.config, tuple(steps), script.name, script.expect)
