"""The two searches of `electorate check --liveness` (app/liveness_search.py): violations on the
fly in the exact model, holds on the quotient; the verdicts they reach on small models."""

from __future__ import annotations

import dataclasses

import pytest

from electorate.app import liveness_search as search
from electorate.spec.liveness import quotient
from electorate.spec.liveness.model import ShiftedRaftModel
from electorate.spec.liveness.properties import liveness_properties
from electorate.spec.params import Params, features_named
from electorate.spec.topology import topology_from


def _params(topology: str, n: int, features: str = "", randomized: bool = True) -> Params:
    base = Params(servers=n, features=features_named(x for x in features.split(",") if x))
    return dataclasses.replace(base, topology=topology_from(topology, n), randomized=randomized)


def test_the_exact_model_is_the_concrete_one_shifted() -> None:
    p = _params("chain", 3, "prevote")
    model = ShiftedRaftModel(p, span=3)
    s = model.init_states()[0]
    for _ in range(12):
        steps = [(a, t) for a, t in model.successors(s) if t is not s]
        assert all(min(t.current_term) == 1 for _, t in steps)
        s = steps[len(steps) // 2][1]
    assert quotient.lowest(quotient.shift(s, 5)) == s


def test_one_server_holds_on_the_whole_exact_graph() -> None:
    """Nothing is cut (one live term), so the exact search sees the whole model and decides
    every property; the quotient search never runs."""
    p = _params("full", 1)
    out = search.run(p, liveness_properties(p))
    assert set(out.verdicts.values()) == {"holds"}
    (only,) = out.searches
    assert only.name == "exact" and only.result.complete and not only.result.cuts


def test_the_split_vote_is_found_on_the_fly_and_repeats_concretely() -> None:
    p = _params("full", 2, randomized=False)
    out = search.run(p, liveness_properties(p, "EventuallyLeader"))
    assert out.verdicts == {"EventuallyLeader": "violated"}
    assert out.found_by["EventuallyLeader"] == "exact"
    c = out.confirmations["EventuallyLeader"]
    assert c.replayed and c.periodic and c.shift > 0
    assert not out.searches[0].result.complete  # decided before the graph was whole


def test_classic_raft_on_howard_deposes_its_leaders() -> None:
    """The flapping leader of Howard & Abraham: servers 4 and 5 keep deposing the leader."""
    p = _params("howard", 5)
    out = search.run(p, liveness_properties(p, "LeaderStability"))
    assert out.verdicts == {"LeaderStability": "violated"}
    c = out.confirmations["LeaderStability"]
    assert c.replayed and c.periodic


def test_prevote_and_check_quorum_on_chained_leave_a_candidate_stuck() -> None:
    """OmniPaxos's chained scenario: the server cut from the leader pre-votes for ever, since
    the middle server still hears the leader and refuses it."""
    p = _params("chained", 3, "prevote,check_quorum")
    out = search.run(p, liveness_properties(p, "CandidateProgress"))
    assert out.verdicts == {"CandidateProgress": "violated"}
    assert out.confirmations["CandidateProgress"].periodic


def test_a_search_for_holds_cut_short_leaves_the_property_undecided() -> None:
    p = _params("full", 3)
    out = search.run(p, liveness_properties(p, "LeaderStability"), budget=100, seconds=0.01)
    assert out.verdicts == {"LeaderStability": "undecided"}
    hunts = [f"hunt {x}" for x in search.HUNTS]
    assert [x.name for x in out.searches] == ["exact", *hunts, "deep", "quotient"]
    assert not any(x.result.complete for x in out.searches)


def test_the_deep_search_finds_what_the_first_search_ran_out_of_states_for() -> None:
    """Two servers with PreVote + CheckQuorum: the first search, cut at 2,000 states, finds no
    lasso; the deep search (packed, the same exact quotient) finds the deposition cycle, and
    it replays concretely, repeating with every term shifted."""
    p = _params("full", 2, "prevote,check_quorum")
    props = liveness_properties(p, "EventuallyLeader")
    out = search.run(p, props, budget=2_000, deep=300_000, hunt=0)
    assert out.verdicts == {"EventuallyLeader": "violated"}
    assert out.found_by["EventuallyLeader"] == "deep"
    assert [x.name for x in out.searches] == ["exact", "deep"]
    assert out.searches[0].result.lassos["EventuallyLeader"] is None
    c = out.confirmations["EventuallyLeader"]
    assert c.replayed and c.periodic and c.shift > 0
    lasso = out.lassos["EventuallyLeader"]
    assert lasso is not None and len(lasso.stem) - 1 <= 10  # a shortest stem, not a DFS path


@pytest.mark.slow
def test_prevote_and_check_quorum_on_three_servers_lose_their_leader() -> None:
    """The two-server PreVote + CheckQuorum finding on three fully connected servers: beyond the
    first search's 50,000 states, the deep search (without the sub-models before it, which find
    it first) finds a lasso that repeats concretely."""
    p = _params("full", 3, "prevote,check_quorum")
    out = search.run(p, liveness_properties(p, "EventuallyLeader"), hunt=0)
    assert out.verdicts == {"EventuallyLeader": "violated"}
    assert out.found_by["EventuallyLeader"] == "deep"
    c = out.confirmations["EventuallyLeader"]
    assert c.replayed and c.periodic and c.shift > 0


def test_the_sub_model_search_comes_before_the_deep_search() -> None:
    """Two servers with PreVote + CheckQuorum: the first sub-model (at most 4 messages in
    flight) holds the deposition cycle; its lasso is fair in the whole model and replays."""
    p = _params("full", 2, "prevote,check_quorum")
    out = search.run(p, liveness_properties(p, "EventuallyLeader"), budget=2_000)
    assert out.verdicts == {"EventuallyLeader": "violated"}
    assert out.found_by["EventuallyLeader"] == "hunt msgs-4"
    assert [x.name for x in out.searches] == ["exact", "hunt msgs-4"]
    c = out.confirmations["EventuallyLeader"]
    assert c.replayed and c.periodic and c.shift > 0 and not c.unfair


@pytest.mark.slow
def test_prevote_and_check_quorum_on_howard_lose_their_leader() -> None:
    """Howard & Abraham's topology with PreVote + CheckQuorum: beyond the deep search's reach,
    the sub-model with at most 4 messages in flight holds a fair cycle in which no leader
    stays; it is fair in the whole model, replays and repeats with every term shifted."""
    p = _params("howard", 5, "prevote,check_quorum")
    out = search.run(p, liveness_properties(p, "EventuallyLeader"))
    assert out.verdicts == {"EventuallyLeader": "violated"}
    assert out.found_by["EventuallyLeader"] == "hunt msgs-4"
    c = out.confirmations["EventuallyLeader"]
    assert c.replayed and c.periodic and c.shift > 0 and not c.unfair
