"""The baseline a user would write: raft.tla's election profile as a plain Python BFS.

    python benchmarks/plain_bfs.py [--servers 3] [--max-term 2] [--max-msgs 1] [--symmetry]

Tuples in a set, no tricks, nothing imported from electorate: the same model as
`electorate check --profile election` (Restart, Timeout, RequestVote, BecomeLeader, Receive,
DuplicateMessage, DropMessage; the constraint on terms and message copies; the four election
invariants checked on every new state and on every successor outside the constraint), counted
as TLC counts. With --symmetry a state is stored as the smallest of its N! renamed images.
benchmarks/engine.py runs it as the baseline and asserts that its counts equal the checker's.
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import permutations

FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
REQUEST, RESPONSE = 0, 1  # RequestVoteRequest, RequestVoteResponse
NIL = -1
# A state: (terms, roles, voted_for, votes_responded, votes_granted, messages), per-server
# tuples; vote sets are bitmasks; messages is a sorted tuple of ((type, term, src, dst,
# granted), copies). Logs stay empty in this profile, so they are left out.


def put(t: tuple[int, ...], i: int, v: int) -> tuple[int, ...]:
    return (*t[:i], v, *t[i + 1 :])


def send(msgs: tuple, m: tuple) -> tuple:
    bag = dict(msgs)
    bag[m] = bag.get(m, 0) + 1
    return tuple(sorted(bag.items()))


def discard(msgs: tuple, m: tuple) -> tuple:
    bag = dict(msgs)
    bag[m] -= 1
    if bag[m] == 0:
        del bag[m]
    return tuple(sorted(bag.items()))


def receive(n: int, s: tuple, m: tuple) -> tuple | None:
    terms, roles, voted, resp, granted, msgs = s
    mtype, mterm, j, i, mgranted = m
    if mterm > terms[i]:  # UpdateTerm
        return (
            put(terms, i, mterm),
            put(roles, i, FOLLOWER),
            put(voted, i, NIL),
            resp,
            granted,
            msgs,
        )
    if mtype == REQUEST:  # HandleRequestVoteRequest
        grant = mterm == terms[i] and voted[i] in (NIL, j)
        if grant:
            voted = put(voted, i, j)
        reply = (RESPONSE, terms[i], i, j, grant)
        return (terms, roles, voted, resp, granted, discard(send(msgs, reply), m))
    if mterm < terms[i]:  # DropStaleResponse
        return (terms, roles, voted, resp, granted, discard(msgs, m))
    if mgranted:  # HandleRequestVoteResponse
        granted = put(granted, i, granted[i] | 1 << j)
    return (terms, roles, voted, put(resp, i, resp[i] | 1 << j), granted, discard(msgs, m))


def successors(n: int, s: tuple) -> list[tuple]:
    terms, roles, voted, resp, granted, msgs = s
    out = []
    for i in range(n):  # Restart
        out.append(
            (terms, put(roles, i, FOLLOWER), voted, put(resp, i, 0), put(granted, i, 0), msgs)
        )
    for i in range(n):  # Timeout
        if roles[i] != LEADER:
            out.append(
                (
                    put(terms, i, terms[i] + 1),
                    put(roles, i, CANDIDATE),
                    put(voted, i, NIL),
                    put(resp, i, 0),
                    put(granted, i, 0),
                    msgs,
                )
            )
    for i in range(n):  # RequestVote
        for j in range(n):
            if roles[i] == CANDIDATE and not resp[i] >> j & 1:
                out.append(
                    (
                        terms,
                        roles,
                        voted,
                        resp,
                        granted,
                        send(msgs, (REQUEST, terms[i], i, j, False)),
                    )
                )
    for i in range(n):  # BecomeLeader
        if roles[i] == CANDIDATE and granted[i].bit_count() * 2 > n:
            out.append((terms, put(roles, i, LEADER), voted, resp, granted, msgs))
    for m, _ in msgs:  # Receive
        t = receive(n, s, m)
        if t is not None:
            out.append(t)
    for m, _ in msgs:  # DuplicateMessage
        out.append((terms, roles, voted, resp, granted, send(msgs, m)))
    for m, _ in msgs:  # DropMessage
        out.append((terms, roles, voted, resp, granted, discard(msgs, m)))
    return out


def invariants_hold(n: int, s: tuple) -> bool:
    terms, roles, voted, _, granted, msgs = s
    leaders = [terms[i] for i in range(n) if roles[i] == LEADER]
    if len(leaders) != len(set(leaders)):  # ElectionSafety
        return False
    for i in range(n):
        if roles[i] == LEADER and granted[i].bit_count() * 2 <= n:  # LeaderHasQuorum
            return False
        if roles[i] != FOLLOWER:  # VotesGrantedAreVotes
            for j in range(n):
                if granted[i] >> j & 1 and not (terms[j] > terms[i] or voted[j] == i):
                    return False
    for (mtype, mterm, j, i, mgranted), _ in msgs:  # VoteResponsesAreVotes
        if mtype == RESPONSE and mgranted and not (terms[j] > mterm or voted[j] == i):
            return False
    return True


def canonical(n: int, s: tuple) -> tuple:
    """The smallest image of s over every renaming of the servers."""
    terms, roles, voted, resp, granted, msgs = s
    best = None
    for pi in permutations(range(n)):
        inv = [pi.index(k) for k in range(n)]

        masks = [sum(1 << pi[j] for j in range(n) if x >> j & 1) for x in range(1 << n)]
        image = (
            tuple(terms[x] for x in inv),
            tuple(roles[x] for x in inv),
            tuple(NIL if voted[x] == NIL else pi[voted[x]] for x in inv),
            tuple(masks[resp[x]] for x in inv),
            tuple(masks[granted[x]] for x in inv),
            tuple(sorted(((t, tm, pi[a], pi[b], g), c) for (t, tm, a, b, g), c in msgs)),
        )
        if best is None or image < best:
            best = image
    return best


def bfs(n: int, max_term: int, max_msgs: int, symmetry: bool) -> tuple[int, int, int]:
    """(distinct, generated, depth) of the whole model, as TLC counts them."""
    init = ((1,) * n, (FOLLOWER,) * n, (NIL,) * n, (0,) * n, (0,) * n, ())
    key = (lambda s: canonical(n, s)) if symmetry else (lambda s: s)
    seen = {key(init)}
    frontier, generated, depth = [init], 1, 1
    while frontier:
        nxt = []
        for s in frontier:
            for t in successors(n, s):
                generated += 1
                inside = max(t[0]) <= max_term and sum(c for _, c in t[5]) <= max_msgs
                k = key(t) if inside else None
                if inside and k in seen:
                    continue
                if not invariants_hold(n, t):
                    raise SystemExit(f"invariant violated in {t}")
                if inside:
                    seen.add(k)
                    nxt.append(t)
        frontier = nxt
        depth += 1 if frontier else 0
    return len(seen), generated, depth


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--max-term", type=int, default=2)
    ap.add_argument("--max-msgs", type=int, default=1)
    ap.add_argument("--symmetry", action="store_true")
    a = ap.parse_args(argv)
    start = time.perf_counter()
    distinct, generated, depth = bfs(a.servers, a.max_term, a.max_msgs, a.symmetry)
    print(
        f"distinct {distinct:,} generated {generated:,} depth {depth} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
