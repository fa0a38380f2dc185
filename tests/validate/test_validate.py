"""The validator's verdicts: hand-written and hand-edited traces, seeded simulated runs of the
production core (valid under faults), and planted bugs caught exactly where they show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from electorate.testing.mutants import Mutant
from electorate.testing.traces import Faults, generate, run
from electorate.validate import report
from electorate.validate.events import OBSERVABLE
from electorate.validate.search import Verdict, validate
from electorate.validate.tracefile import read_trace

TRACES = Path(__file__).parent / "traces"


def check(path: Path) -> Verdict:
    return validate(read_trace(path))


def test_a_split_vote_election_is_valid_and_its_behaviour_reads_like_tla() -> None:
    v = check(TRACES / "election.ndjson")
    assert v.status == "valid", report.text(v)
    assert (v.events, v.steps, v.max_width) == (40, 17, 1)
    text = report.text(v, behaviour=True)
    assert (
        "n1#10 recv request_vote_res n2->n1 term 1 granted  =>  Receive(RequestVoteResponse "
        "n2->n1 term 1 granted) [HandleRequestVoteResponse]; BecomeLeader(n1); "
        "AppendEntries(n1, n2); AppendEntries(n1, n3)"
    ) in text


# (file, the line of the first unexplained event, the spec's reason, the rule named)
EDITED = [
    (
        "vote-twice.ndjson",
        19,
        "HandleRequestVoteRequest(n2, n3) grants iff m.mterm = currentTerm[n2] /\\ LogOk /\\ "
        "votedFor[n2] \\in {Nil, n3}; here currentTerm[n2] = 1, votedFor[n2] = n1",
        "OneVotePerTerm",
    ),
    (
        "term-backwards.ndjson",
        38,
        "currentTerm[n2] = 1 in the spec, 0 in the trace",
        "TermsNeverDecrease",
    ),
    (
        "leader-without-quorum.ndjson",
        6,
        "BecomeLeader(n1) needs IsQuorum(votesGranted[n1]); votesGranted[n1] = {n1} of 3 servers",
        "LeaderHasQuorum",
    ),
]


@pytest.mark.parametrize("case", EDITED, ids=[c[0] for c in EDITED])
def test_a_hand_edited_trace_fails_naming_the_event_and_the_rule(
    case: tuple[str, int, str, str],
) -> None:
    name, line, reason, rule = case
    v = check(TRACES / name)
    assert v.status == "invalid"
    f = v.failure
    assert f is not None
    assert f.event.line == line, report.text(v)
    assert reason in f.problem
    assert [r.rule for r in f.rules][:1] == [rule]
    summary = report.summary(v)
    assert f"INVALID at {TRACES / name}:{line}: {f.event.show()}" in summary
    assert f"rule broken: {rule}" in report.text(v)


CONFIGS = [
    pytest.param(True, True, 3, id="prevote+check_quorum"),
    pytest.param(False, True, 3, id="check_quorum"),
    pytest.param(True, False, 3, id="prevote"),
    pytest.param(False, False, 3, id="no-features"),
    pytest.param(True, True, 5, id="5-nodes"),
    pytest.param(True, True, 1, id="1-node"),
]


@pytest.mark.parametrize(("prevote", "check_quorum", "nodes"), CONFIGS)
def test_simulated_runs_with_faults_are_valid(
    prevote: bool, check_quorum: bool, nodes: int, tmp_path: Path
) -> None:
    """Loss, duplication, partitions, crashes and restarts: the production core's traces
    are spec behaviours (seeds 0-3, 1,500 events each, 200 for a lone node)."""
    for seed in range(4):
        path = generate(
            tmp_path / f"{seed}.ndjson",
            seed,
            1500 if nodes > 1 else 200,  # a lone leader logs little
            nodes=nodes,
            prevote=prevote,
            check_quorum=check_quorum,
        )
        v = check(path)
        assert v.status == "valid", report.text(v)


@pytest.mark.parametrize("prevote", [False, True], ids=["plain", "prevote-checkquorum"])
def test_simulated_runs_with_late_messages_are_valid(prevote: bool, tmp_path: Path) -> None:
    """Messages held back long enough to arrive in a later term (stale grants among them):
    the production core's traces stay spec behaviours."""
    late = 0
    for seed in range(4):
        faults = Faults(late=0.3, late_events=60)
        sim = run(tmp_path / f"{seed}.ndjson", seed, 1500, prevote=prevote,
                  check_quorum=prevote, faults=faults)  # fmt: skip
        late += sim.late_sent
        v = check(sim.path)
        assert v.status == "valid", report.text(v)
    assert late > 100  # the fault did act


def test_inferred_duplicates_and_restarts_appear_in_the_behaviour(tmp_path: Path) -> None:
    path = generate(tmp_path / "dup.ndjson", 7, 2000, faults=Faults(duplicate=0.2, crash=0.01))
    v = check(path)
    assert v.status == "valid", report.text(v)
    names = {(a.name, a.detail) for _, acts in v.behaviour for a in acts}
    assert ("DuplicateMessage", "inferred") in names
    assert ("Restart", "in lease") in names


# Mutants whose planted bug shows in a simulated run (with its feature set), and those that
# cannot: a mutant that ignores a newer term in a response behaves as if the response were
# lost, which the spec allows; uptodate-index-first changes nothing with empty logs. Two show
# only under their own faults (SPECIAL): a duplicated grant completes a quorum only when a
# quorum needs two grants (five nodes), and a stale grant arrives in a later election only when
# messages can be late.
CAUGHT = [
    (Mutant.VOTE_TWICE, False),
    (Mutant.KEEP_VOTE_ON_NEW_TERM, True),
    (Mutant.NO_STEPDOWN_REQUEST, True),
    (Mutant.NO_STEPDOWN_HEARTBEAT, True),
    (Mutant.UPTODATE_GT, True),
    (Mutant.QUORUM_HALF, True),
    (Mutant.QUORUM_HALF, False),
    (Mutant.NO_TERM_INCREMENT, True),
    (Mutant.NO_SELF_VOTE, True),
    (Mutant.STALE_TERM_IN_RESPONSE, False),
    (Mutant.FORGET_STATE_ON_RESTART, True),
    (Mutant.BUMP_TERM_ON_STEPDOWN, True),
    (Mutant.PREVOTE_BUMPS_TERM, True),
    (Mutant.CLEAR_VOTE_ON_SAME_TERM_STEPDOWN, False),
]
SPECIAL = [
    (Mutant.COUNT_DUPLICATE_VOTES, False, 5, Faults(duplicate=0.05)),
    (Mutant.COUNT_DUPLICATE_VOTES, True, 5, Faults(duplicate=0.05)),
    (Mutant.COUNT_STALE_VOTES, False, 3, Faults(late=0.3, late_events=60)),
    (Mutant.COUNT_STALE_VOTES, True, 3, Faults(late=0.3, late_events=40)),
]
LEGAL = [Mutant.NO_STEPDOWN_RESPONSE]


@pytest.mark.parametrize(
    ("mutant", "features"), CAUGHT, ids=[f"{m.value}-{'f' if f else 'nof'}" for m, f in CAUGHT]
)
def test_a_planted_bug_fails_validation_at_the_step_where_it_shows(
    mutant: Mutant, features: bool, tmp_path: Path
) -> None:
    """The mutant runs beside a correct twin of each node; the first step where their outputs
    differ is where the bug shows. The trace must fail there: not before (the trace up to
    there is a correct run) and not later."""
    fails_where_it_shows(mutant, features, 3, Faults(), tmp_path)


@pytest.mark.parametrize(
    ("mutant", "features", "nodes", "faults"),
    SPECIAL,
    ids=[f"{m.value}-{'f' if f else 'nof'}" for m, f, _, _ in SPECIAL],
)
def test_a_bug_that_needs_its_own_faults_fails_where_it_shows(
    mutant: Mutant, features: bool, nodes: int, faults: Faults, tmp_path: Path
) -> None:
    fails_where_it_shows(mutant, features, nodes, faults, tmp_path)


def fails_where_it_shows(
    mutant: Mutant, features: bool, nodes: int, faults: Faults, tmp_path: Path
) -> None:
    for seed in range(8):
        path = tmp_path / f"{seed}.ndjson"
        sim = run(
            path,
            seed,
            3000,
            nodes=nodes,
            prevote=features,
            check_quorum=features,
            mutants=frozenset({mutant}),
            faults=faults,
            shadow=True,
        )
        if sim.divergence is None:
            assert check(path).status == "valid"
            continue
        node, first, last = sim.divergence
        v = check(path)
        assert v.status == "invalid" and v.failure is not None, (seed, report.text(v))
        ev = v.failure.event
        assert ev.node == node and first <= ev.seq <= last, (seed, sim.divergence, report.text(v))
        return
    pytest.fail(f"{mutant} never showed in 8 seeded runs")


@pytest.mark.parametrize("mutant", LEGAL, ids=[m.value for m in LEGAL])
def test_a_bug_that_only_ignores_messages_leaves_spec_behaviours(
    mutant: Mutant, tmp_path: Path
) -> None:
    diverged = 0
    for seed in range(3):
        path = tmp_path / f"{seed}.ndjson"
        sim = run(
            path, seed, 3000, prevote=False, check_quorum=False, mutants=frozenset({mutant}),
            shadow=True,
        )  # fmt: skip
        diverged += sim.divergence is not None
        assert check(path).status == "valid"
    assert diverged  # the bug did act, and every trace it left is one the spec allows


def strip(path: Path, kinds: set[str], folder: Path) -> Path:
    """The trace as a writer that does not log ``kinds`` would have written it."""
    out: list[dict[str, object]] = []
    seq: dict[str, int] = {}
    for line in path.read_text().splitlines():
        e = json.loads(line)
        kind = "lease" if e["kind"].startswith("lease") else e["kind"]
        if kind in kinds:
            continue
        if e["kind"] in ("start", "restart"):
            e["observes"] = [k for k in e.get("observes", OBSERVABLE) if k not in kinds]
        seq[e["node"]] = seq.get(e["node"], 0) + 1
        e["seq"] = seq[e["node"]]
        out.append(e)
    stripped = folder / f"{path.stem}.stripped.ndjson"
    stripped.write_text("".join(json.dumps(e) + "\n" for e in out))
    return stripped


@pytest.mark.parametrize(
    "kinds",
    [{"role"}, {"term"}, {"vote"}, {"term", "role", "vote", "lease"}],
    ids=["no-role", "no-term", "no-vote", "messages-only"],
)
def test_a_trace_that_logs_a_subset_of_the_variables_validates(
    kinds: set[str], tmp_path: Path
) -> None:
    """Unlogged variables are free: leaders stepping down unseen, terms never written."""
    for seed in range(6):
        path = strip(generate(tmp_path / f"{seed}.ndjson", seed, 1000), kinds, tmp_path)
        v = check(path)
        assert v.status == "valid", report.text(v)


def test_a_double_vote_shows_in_the_messages_alone(tmp_path: Path) -> None:
    v = check(strip(TRACES / "vote-twice.ndjson", {"term", "role", "vote", "lease"}, tmp_path))
    assert v.status == "invalid" and v.failure is not None
    assert v.failure.event.kind == "send"
    assert "the spec's step sends RequestVoteResponse n2->n3 term 1 refused" in v.failure.problem


def test_the_frontier_widens_where_an_unlogged_variable_is_ambiguous() -> None:
    """n2 logs messages only. It receives n3's request of term 2 and answers nothing: the spec
    explains that by a lost request, or by n2 adopting term 2 and the request then lost. Two
    states, until n2's next answer (term 1, accepted) rules the second out."""
    v = check(TRACES / "ambiguous.ndjson")
    assert v.status == "valid", report.text(v)
    assert v.widths[-3:] == [1, 2, 1]
    acts = next(a for s, a in v.behaviour if s.input.show().startswith("n2#8"))
    assert [a.name for a in acts] == ["DropMessage"]
