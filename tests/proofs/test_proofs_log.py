"""Log Matching for the log profile: the proof, its checks, its tie to the spec's log actions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from electorate.proofs import catalog, cli, logsafety, tie
from electorate.proofs.core import Settings
from electorate.proofs.induction import obligations
from electorate.proofs.invariant import Lemma
from electorate.proofs.model import ACTION_BY_NAME
from electorate.proofs.mutants import expected_breaks, mutant_obligations
from electorate.proofs.sanity import evaluate
from electorate.spec.messages import Entry, Message, MType
from electorate.spec.next import Action, Init, Next
from electorate.spec.params import Params
from electorate.spec.state import Except, Role, State

THEORY = logsafety.LOG_MATCHING
MODEL = logsafety.LOG_MODEL
LOG = Params(servers=2, profile="log", max_term=3, max_msgs=1, max_log=2, values=2)


def test_log_matching_is_proved_for_every_cluster_size() -> None:
    failed = [o.name for o in obligations(THEORY) if not o.run(Settings()).holds]
    assert failed == []


def test_the_mutant_breaks_log_matching_with_a_readable_counterexample() -> None:
    first = expected_breaks(logsafety.MUTANT, THEORY)[0]
    outcome = first.run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    assert outcome.detail.startswith("counterexample to induction: ClientRequest(")
    assert "breaks LogMatching" in outcome.detail and "log [" in outcome.detail


def test_the_formula_is_false_on_two_disagreeing_logs() -> None:
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    assert evaluate(entry.formula, MODEL, entry.bad()) is False
    agreeing = replace(entry.bad(), state=entry.bad().state._replace(log=((Entry(1, 1),),) * 2))
    assert evaluate(entry.formula, MODEL, agreeing) is True


def test_a_formula_weakened_to_true_fails_the_bad_state_check() -> None:
    """`true` is inductive; the bad-state check (it must be false there) is what catches it."""
    import z3

    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    assert evaluate(lambda s, v: z3.BoolVal(True), MODEL, entry.bad()) is True


def test_the_log_actions_accept_every_spec_step() -> None:
    """A shallower exploration than prove's (depth 16): leaders append and replicate."""
    result = tie.check(LOG, MODEL, 12)
    assert result.ok, result.rejected[:1]
    assert {"ClientRequest", "AppendEntries", "HandleAppendEntriesRequest"} <= result.encoded


# ---- a conflict: a follower removes an entry (beyond exhaustive reach: a scripted trace) ----

Pick = Callable[[Action, State, State], bool]


def _step(
    p: Params, s: State, name: str, pick: Pick = lambda a, s, t: True
) -> tuple[Action, State]:
    for action, t in Next(p, s):
        if (action.detail or action.name) == name and pick(action, s, t):
            return action, t
    raise AssertionError(f"no {name} step from {s}")


def _msg(a: Action) -> Message:
    m = a.args[0]
    assert isinstance(m, Message)
    return m


def _at(i: int, j: int | None = None) -> Pick:
    """A step by server i (with j, towards or from server j)."""

    def pick(a: Action, s: State, t: State) -> bool:
        if a.args and isinstance(a.args[0], Message):
            m = _msg(a)
            return m.mdest == i and (j is None or m.msource == j)
        return a.args[0] == i and (j is None or len(a.args) < 2 or a.args[1] == j)

    return pick


def _elect(p: Params, s: State, c: int, voter: int) -> Iterator[tuple[State, Action, State]]:
    """c times out until its term is the largest, then wins with its own and voter's votes."""
    for j in (c, voter):
        a, t = _step(p, s, "RequestVote", _at(c, j))
        yield s, a, t
        s = t
        while True:  # the voter adopts the term if needed, then answers
            a, t = (
                _step(p, s, "UpdateTerm", _at(j))
                if s.current_term[j] < s.current_term[c]
                else _step(p, s, "HandleRequestVoteRequest", _at(j, c))
            )
            yield s, a, t
            s = t
            if a.detail == "HandleRequestVoteRequest":
                break
        a, t = _step(p, s, "HandleRequestVoteResponse", _at(c, j))
        yield s, a, t
        s = t
    a, t = _step(p, s, "BecomeLeader", _at(c))
    yield s, a, t


def _conflict_trace() -> list[tuple[State, Action, State]]:
    """s1 leads term 2 and appends an entry nobody else has; s3 leads term 3 with s2's vote,
    appends its own entry and sends it to s1, which removes its entry (the conflict branch)."""
    p = Params(servers=3, profile="log", max_term=3, max_msgs=3, max_log=2, values=2)
    steps: list[tuple[State, Action, State]] = []
    s = Init(p)

    def do(name: str, pick: Pick = lambda a, s, t: True) -> None:
        nonlocal s
        a, t = _step(p, s, name, pick)
        steps.append((s, a, t))
        s = t

    do("Timeout", _at(0))
    for triple in _elect(p, s, 0, 1):
        steps.append(triple)
    s = steps[-1][2]
    do("ClientRequest", lambda a, s, t: a.args == (0, 1))
    do("Timeout", _at(2))
    do("Timeout", _at(2))
    for triple in _elect(p, s, 2, 1):
        steps.append(triple)
    s = steps[-1][2]
    do("ClientRequest", lambda a, s, t: a.args == (2, 2))
    do("AppendEntries", _at(2, 0))
    do("UpdateTerm", _at(0))
    do("HandleAppendEntriesRequest", lambda a, s, t: len(t.log[0]) < len(s.log[0]))
    return steps


def test_a_conflicting_entry_is_removed_and_the_relation_accepts_it() -> None:
    steps = _conflict_trace()
    pre, _, post = steps[-1]
    assert pre.log[0] == (Entry(2, 1),) and post.log[0] == ()
    p = Params(servers=3, profile="log", max_term=3, max_msgs=3, max_log=2, values=2)
    result = tie.check(p, MODEL, 0, steps=iter(steps))
    assert result.ok and result.steps == len(steps), result.rejected[:1]


# ---- a drift of a log action in the spec alone is caught and named ---------------------------


def _stale_entry_term(p: Params, s: State) -> Iterator[tuple[Action, State]]:
    """The spec's Next, except that a client request's entry carries the previous term."""
    for action, t in Next(p, s):
        if action.name == "ClientRequest" and s.role[action.args[0]] == Role.Leader:  # type: ignore[index]
            i = action.args[0]
            assert isinstance(i, int)
            log = t.log[i]
            t = t._replace(
                log=Except(t.log, i, (*log[:-1], log[-1]._replace(term=log[-1].term - 1)))
            )
        yield action, t


def test_a_drift_in_a_log_action_is_caught_and_named() -> None:
    result = tie.check(LOG, MODEL, 12, next_fn=_stale_entry_term, max_rejections=1)
    assert result.rejected, "the drift went unnoticed"
    assert result.rejected[0].encoded == "ClientRequest"


def test_a_log_drift_fails_prove_naming_the_action(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "TIES", (catalog.TieConfig(LOG, 12, (MODEL,)),))
    monkeypatch.setattr(tie, "Next", _stale_entry_term)
    code = cli.main(["--property", "spec-tie", "--json", "--jobs", "1"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["result"] == "failed"
    rejected = data["tie"][0]["rejected"][0]
    assert rejected["encoded_as"] == "ClientRequest"
    assert rejected["spec_action"].startswith("ClientRequest(")


def test_messages_of_the_log_profile_keep_their_payload() -> None:
    from electorate.proofs.concrete import log_payload

    m = Message(MType.AppendEntriesRequest, 3, 0, 1, mprev_log_index=1, mprev_log_term=2)
    assert log_payload(m._replace(mentries=(Entry(3, 2),))) == (1, 2, 3, 2)
    assert log_payload(m) == (1, 2, 0, 0)


@pytest.mark.parametrize(
    "lemma",
    [
        pytest.param(x, marks=[] if x.id == "EntryTermElected" else [pytest.mark.slow])
        for x in logsafety.LEMMAS
    ],
    ids=[x.id for x in logsafety.LEMMAS],
)
def test_every_log_lemma_is_necessary(lemma: Lemma) -> None:
    """Without it, the obligation it names has a counterexample to induction (found by the
    search among few servers: the ordinary attempts answer `unknown` for most of them)."""
    held = [c for c in THEORY.conjuncts if c is not lemma]
    found = {o.name: o for o in obligations(THEORY, lemmas=held)}
    assert lemma.broken_without
    for name in lemma.broken_without:
        outcome = found[name].run(Settings(attempts=1, search_first=True))
        assert not outcome.holds and outcome.status == "sat", (name, outcome.status)
        assert outcome.detail and outcome.detail.startswith("counterexample to induction")


@pytest.mark.slow
def test_the_proof_graph_agrees_with_log_lemma_necessity() -> None:
    """A lemma whose removal breaks an obligation is in every unsat core of that obligation."""
    from electorate.proofs.graph import uses

    for lemma in logsafety.LEMMAS:
        for name in lemma.broken_without:
            action_name, goal = name.removesuffix("'").split(" => ")
            action, conj = ACTION_BY_NAME[action_name], THEORY.conjunct(goal)
            # One solver call per seed: its answer depends on the z3 context the tests before
            # it built (an `unknown` under seed 0 after other test files); any seed's core will do.
            used = None
            for seed in (0, 1009, 2018, 3027):
                used = used or uses(action, conj, Settings(seed=seed), THEORY)
            assert used is not None, f"{name} is not proved"
            assert lemma.id in used, f"{name} proved without {lemma.id}: core {used}"


# ---- a follower that skips the consistency check -------------------------------------------


def test_skipping_the_consistency_check_gives_a_minimized_counterexample() -> None:
    (first,) = expected_breaks(logsafety.SKIP_CHECK, THEORY)
    outcome = first.run(Settings(search_first=True))
    assert not outcome.holds and outcome.status == "sat" and outcome.detail
    text = outcome.detail
    assert text.startswith("counterexample to induction: HandleAppendEntriesRequest(")
    assert "breaks MessageMatchesLogs" in text
    before = text.split("  before:\n")[1].split("  after:\n")[0]
    # Minimized: the one request it appends is the only message in flight.
    assert [line for line in before.splitlines() if "msg " in line] == [
        line for line in before.splitlines() if "msg AppendEntriesRequest" in line
    ]
    assert len([line for line in before.splitlines() if "msg " in line]) == 1


def test_prove_checks_the_skip_check_mutant_with_a_one_server_counterexample() -> None:
    """`prove` runs it beside leader-overwrites; the search's first tier (one server, term 1)
    finds it, whatever the process built before (docs/proofs.md, section 11)."""
    entry = catalog.ENTRY_BY_NAME[THEORY.name]
    assert entry.mutants == (logsafety.MUTANT, logsafety.SKIP_CHECK)
    with open(os.devnull, "w") as quiet:
        check = cli._mutant_check(entry, Settings(), quiet, logsafety.SKIP_CHECK)
    assert check.ok and check.name == "mutant append-skips-check", check.detail
    assert check.data["obligation"] == "HandleAppendEntriesRequest => MessageMatchesLogs'"
    text = check.data["counterexample"]
    assert "n1: Follower" in text and "n2:" not in text  # one server


@pytest.mark.slow
def test_skipping_the_check_breaks_only_the_obligations_that_read_it() -> None:
    """Every other obligation of the changed action still holds; LogMatching' is the one left
    undecided (docs/proofs.md: its counterexample needs an election history of two terms)."""
    wanted = {o.name for o in expected_breaks(logsafety.SKIP_CHECK, THEORY)}
    for ob in mutant_obligations(logsafety.SKIP_CHECK, THEORY):
        if ob.name == "HandleAppendEntriesRequest => LogMatching'":
            continue
        outcome = ob.run(Settings(search_first=ob.name in wanted))
        assert outcome.holds == (ob.name not in wanted), (ob.name, outcome.status)
        assert outcome.holds or outcome.status == "sat", ob.name


# ---- the conflict branch inside an exhaustive exploration ------------------------------------

CONFLICT = Params(servers=3, profile="log", max_term=3, max_msgs=1, max_log=1, values=1)
CONFLICT_DEPTH = 12  # the first depth at which the exploration below removes an entry


def _two_leaders_ahead() -> tuple[list[tuple[State, Action, State]], State]:
    """A scripted start: s1 leads term 2 and holds an entry nobody else has; s3 is a candidate
    of term 3. From there a second leader can overwrite s1's entry (3 servers are needed: with
    two, s1 never votes for a candidate whose log is behind)."""
    p, steps = CONFLICT, []
    s = Init(p)
    a, t = _step(p, s, "Timeout", _at(0))
    steps.append((s, a, t))
    steps += list(_elect(p, t, 0, 1))
    s = steps[-1][2]
    for name, pick in (
        ("ClientRequest", _at(0)),
        ("Timeout", _at(2)),
        ("Timeout", _at(2)),
    ):
        a, t = _step(p, s, name, pick)
        steps.append((s, a, t))
        s = t
    return steps, s


@pytest.mark.slow
def test_every_step_near_two_leaders_is_accepted_and_reaches_the_conflict_branch() -> None:
    """Exhaustive at its bound: every step of every state reachable in 12 steps from the
    scripted start (its own steps checked too), 3 servers, terms up to 3; a follower's entry is
    removed (the conflict branch) within the bound."""
    prefix, start = _two_leaders_ahead()
    assert start.log[0] and start.current_term[2] == 3 and start.role[2] == Role.Candidate
    removed = []

    def steps() -> Iterator[tuple[State, Action, State]]:
        yield from prefix
        for s, a, t in tie.explore(CONFLICT, CONFLICT_DEPTH, start=start):
            if a.detail == "HandleAppendEntriesRequest" and sum(map(len, t.log)) < sum(
                map(len, s.log)
            ):
                removed.append(a)
            yield s, a, t

    result = tie.check(CONFLICT, MODEL, 0, steps=steps())
    assert result.ok, result.rejected[:1]
    assert removed, "the exploration never took the conflict branch"
    assert result.steps > 100_000
    print(f"conflict tie: {result.steps} steps, {result.states} states, {result.cpu:.1f} CPU s")
