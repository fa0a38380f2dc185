"""TLC on spec/RaftElectionFeatures.tla and our checker count the same states, per feature."""

from __future__ import annotations

import shutil

import pytest

from model_check import tlc_features
from model_check.api import check
from model_check.tlc import TlcConfigError
from spec.params import Params

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="java not on PATH: TLC needs a Java runtime"
)

# One configuration per feature: two servers, no symmetry (TLC's symmetry is not an exact
# orbit count in general), clocks up to 2 for the lease to keep TLC under a minute.
CONFIGS = {
    "prevote": Params(servers=2, features=frozenset({"prevote"})),
    "check_quorum": Params(servers=2, features=frozenset({"check_quorum"})),
    "lease": Params(servers=2, features=frozenset({"lease"}), max_clock=2),
}


def test_cfg_names_every_feature_invariant() -> None:
    text = tlc_features.cfg_text(Params(servers=2, features=frozenset({"prevote", "lease"})))
    assert 'Features = {"lease", "prevote"}' in text
    for inv in ("PreVoteTermsEarned", "NoUnearnedDeposition", "LeaseSafety", "LeaseBacked"):
        assert inv in text
    assert "CheckQuorumStepDown" not in text


def test_cfg_refuses_what_the_module_lacks() -> None:
    with pytest.raises(TlcConfigError, match="election profile"):
        tlc_features.cfg_text(Params(profile="log", features=frozenset({"prevote"})))


@NEEDS_JAVA
@pytest.mark.tlc
@pytest.mark.parametrize("feature", sorted(CONFIGS))
def test_tlc_and_checker_agree(feature: str) -> None:
    p = CONFIGS[feature]
    ours = check(p, symmetry=False)
    theirs = tlc_features.run(p, timeout_s=300)
    assert theirs.result == ours.result == "ok"
    got = (ours.distinct_states, ours.states_generated, ours.depth)
    assert got == (theirs.distinct_states, theirs.states_generated, theirs.depth)
