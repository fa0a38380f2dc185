"""Deterministic cluster simulator for the role machine: seeded network, clock and faults.

One ``simulate(seed, scenario)`` call runs N RoleMachines on a simulated network (partitions,
loss, delay, duplication) with crashes and restarts (a restarted machine is rebuilt from its
last *persisted* hard state), heals everything at ``heal_at`` and checks, after every event:

* election safety: at most one leader per term (§3.4);
* at most one vote per node per term (observed across restarts);
* no two valid leases at the same simulated instant (§6.4.1);
* fencing tokens strictly increase from one lease holder to the next;
* liveness: once the network heals (and the leader is restarted), a new leader holds a lease
  within ``liveness_ticks``.

Everything random derives from the seed, so a failing run replays exactly:
``electorate sim --seed N --scenario NAME``. Known bugs can be planted (``--mutant``,
:mod:`electorate.testing.mutants`) to show that the checks notice them.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from electorate.impl.core import (
    CoreConfig,
    HardState,
    LeadershipAcquired,
    LeadershipLost,
    Role,
    RoleMachine,
)
from electorate.impl.messages import Message
from electorate.testing.mutants import Mutant, machine_class, parse_mutants

SCENARIOS: tuple[str, ...] = (
    "calm",
    "halves",
    "bridge",
    "flapping",
    "lossy",
    "slow",
    "crashes",
    "transfer",
    "chaos",
)
_MAX_VIOLATIONS = 20


@dataclass
class SimResult:
    """Outcome of one run. ``violations`` is empty when every check held."""

    seed: int
    scenario: str
    nodes: int
    ticks: int
    mutants: frozenset[Mutant]
    prevote: bool = True
    check_quorum: bool = True
    drift: float = 0.0
    violations: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    leaderships: int = 0
    delivered: int = 0
    dropped: int = 0
    crashes: int = 0
    heal_at: int = 0
    leader_after_heal: int | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def replay_command(self) -> str:
        extra = "".join(f" --mutant {m}" for m in sorted(self.mutants))
        extra += "" if self.prevote else " --no-prevote"
        extra += "" if self.check_quorum else " --no-check-quorum"
        extra += f" --drift {self.drift}" if self.drift else ""
        return (
            f"electorate sim --seed {self.seed} --scenario {self.scenario} "
            f"--nodes {self.nodes} --ticks {self.ticks}{extra}"
        )

    def summary(self) -> str:
        status = "ok" if self.ok else f"VIOLATION x{len(self.violations)}"
        lat = "-" if self.leader_after_heal is None else str(self.leader_after_heal)
        return (
            f"seed={self.seed} scenario={self.scenario} nodes={self.nodes} {status} "
            f"leaderships={self.leaderships} delivered={self.delivered} "
            f"dropped={self.dropped} crashes={self.crashes} leader_after_heal={lat}"
        )


class _Network:
    """Message queue ordered by delivery time; faults are applied at send and at delivery."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.blocked: set[tuple[str, str]] = set()
        self.loss = 0.0
        self.dup = 0.0
        self.max_delay = 1
        self._queue: list[tuple[int, int, Message]] = []
        self._seq = 0
        self.dropped = 0

    def send(self, m: Message, now: int) -> None:
        copies = 2 if self.rng.random() < self.dup else 1
        for _ in range(copies):
            if (m.src, m.dst) in self.blocked or self.rng.random() < self.loss:
                self.dropped += 1
                continue
            self._seq += 1
            at = now + self.rng.randint(0, self.max_delay)
            heapq.heappush(self._queue, (at, self._seq, m))

    def pop_due(self, now: int) -> Message | None:
        if self._queue and self._queue[0][0] <= now:
            return heapq.heappop(self._queue)[2]
        return None

    def heal(self) -> None:
        self.blocked.clear()
        self.loss = self.dup = 0.0
        self.max_delay = 1

    def isolate(self, node: str, others: Sequence[str]) -> None:
        for o in others:
            if o != node:
                self.blocked |= {(node, o), (o, node)}

    def split(self, left: Sequence[str], right: Sequence[str]) -> None:
        for a in left:
            for b in right:
                self.blocked |= {(a, b), (b, a)}


@dataclass(frozen=True)
class _Options:
    nodes: int
    ticks: int
    heal_at: int
    liveness_ticks: int
    mutants: frozenset[Mutant]
    prevote: bool
    check_quorum: bool
    stop_on_violation: bool
    drift: float = 0.0


class _Sim:
    def __init__(self, seed: int, scenario: str, opts: _Options) -> None:
        self.rng = random.Random(seed)
        self.opts = opts
        self.ids = tuple(f"n{i + 1}" for i in range(opts.nodes))
        self.net = _Network(random.Random(self.rng.random()))
        self.disk: dict[str, HardState] = {i: HardState(0, None) for i in self.ids}
        self.boots: dict[str, int] = dict.fromkeys(self.ids, 0)
        self.nodes: dict[str, RoleMachine | None] = {i: self._boot(i) for i in self.ids}
        self.down_until: dict[str, int] = {}
        self.result = SimResult(
            seed,
            scenario,
            opts.nodes,
            opts.ticks,
            opts.mutants,
            opts.prevote,
            opts.check_quorum,
            opts.drift,
        )
        self.result.heal_at = opts.heal_at
        self.now = 0
        self.term_leader: dict[int, str] = {}
        self.votes: dict[tuple[str, int], str] = {}
        self.last_holder: tuple[int, str] | None = None
        self.seed = seed
        # Clock rates: each node ticks `rate` times per simulated tick on average.
        d = opts.drift
        self.rate = {i: 1.0 + (self.rng.uniform(-d, d) if d else 0.0) for i in self.ids}
        self.clock = dict.fromkeys(self.ids, 0.0)

    # -------------------------------------------------------------- nodes
    def _boot(self, node: str) -> RoleMachine:
        self.boots[node] += 1
        cfg = CoreConfig(
            node_id=node,
            voters=self.ids,
            prevote=self.opts.prevote,
            check_quorum=self.opts.check_quorum,
        )
        rng = random.Random(f"{self.rng.random()}-{node}-{self.boots[node]}")
        return machine_class(self.opts.mutants)(cfg, self.disk[node], rng)

    def live(self) -> list[tuple[str, RoleMachine]]:
        return [(i, m) for i, m in self.nodes.items() if m is not None]

    def leader_id(self) -> str | None:
        for i, m in self.live():
            if m.role is Role.LEADER:
                return i
        return None

    def crash(self, node: str, for_ticks: int) -> None:
        if self.nodes[node] is None:
            return
        self.nodes[node] = None
        self.down_until[node] = self.now + for_ticks
        self.result.crashes += 1
        self._note(f"{node} crashed")

    def restart_due(self, force: bool = False) -> None:
        for node, until in list(self.down_until.items()):
            if force or self.now >= until:
                del self.down_until[node]
                self.nodes[node] = self._boot(node)
                self._note(f"{node} restarted from {self.disk[node]}")

    # -------------------------------------------------------------- event plumbing
    def drain(self, node: str) -> None:
        m = self.nodes[node]
        while m is not None and m.has_ready():
            rd = m.ready()
            if rd.hard_state is not None:
                self.disk[node] = rd.hard_state  # persisted before any message leaves
            for msg in rd.messages:
                self.net.send(msg, self.now)
            for n in rd.notifications:
                if isinstance(n, LeadershipAcquired | LeadershipLost):
                    self._note(f"{node} {n}")
                if isinstance(n, LeadershipAcquired):
                    self.result.leaderships += 1
        self.observe()

    def deliver_due(self) -> None:
        while (msg := self.net.pop_due(self.now)) is not None:
            target = self.nodes.get(msg.dst)
            if target is None or (msg.src, msg.dst) in self.net.blocked:
                self.net.dropped += 1
                continue
            self.result.delivered += 1
            target.step(msg)
            self.drain(msg.dst)

    def _note(self, text: str) -> None:
        self.result.log.append(f"t={self.now} {text}")

    # -------------------------------------------------------------- checks
    def violate(self, text: str) -> None:
        if len(self.result.violations) < _MAX_VIOLATIONS:
            self.result.violations.append(f"t={self.now}: {text}")

    def observe(self) -> None:
        holders: list[tuple[str, RoleMachine]] = []
        for i, m in self.live():
            self._check_vote(i, m)
            if m.role is Role.LEADER:
                self._check_term_leader(i, m.term)
            if m.is_leader():
                holders.append((i, m))
        if len(holders) > 1:
            names = ", ".join(f"{i}(term {m.term})" for i, m in holders)
            self.violate(f"overlapping leases: {names}")
        for i, m in holders:
            self._check_token(i, m)
        healed = self.now >= self.opts.heal_at
        if healed and self.result.leader_after_heal is None and self.has_leader():
            self.result.leader_after_heal = self.now - self.opts.heal_at

    def _check_vote(self, node: str, m: RoleMachine) -> None:
        if m.voted_for is None:
            return
        first = self.votes.setdefault((node, m.term), m.voted_for)
        if first != m.voted_for:
            self.violate(f"{node} voted for {first} and {m.voted_for} in term {m.term}")

    def _check_term_leader(self, node: str, term: int) -> None:
        first = self.term_leader.setdefault(term, node)
        if first != node:
            self.violate(f"two leaders in term {term}: {first} and {node}")

    def _check_token(self, node: str, m: RoleMachine) -> None:
        token = m.token
        assert token is not None  # a lease holder is a leader
        last = self.last_holder
        if last is not None and (token < last[0] or (token == last[0] and node != last[1])):
            self.violate(f"token {token} of {node} after token {last[0]} of {last[1]}")
        if last is None or token > last[0]:
            self.last_holder = (token, node)

    def has_leader(self) -> bool:
        if self.opts.check_quorum:
            return any(m.is_leader() for _, m in self.live())
        return self.leader_id() is not None

    def tick_node(self, node: str) -> None:
        self.clock[node] += self.rate[node]
        while self.clock[node] >= 1.0:
            self.clock[node] -= 1.0
            m = self.nodes[node]
            if m is not None:
                m.tick()
                self.drain(node)

    def heal(self) -> None:
        """End of the fault phase. The leader is also restarted, so that the liveness
        check measures a real election on a clean network, not an old leader's survival."""
        self.net.heal()
        self.restart_due(force=True)
        leaders = [i for i, m in self.live() if m.role is Role.LEADER]
        for leader in leaders:
            self.nodes[leader] = self._boot(leader)
        self._note(f"network healed, all nodes up, leader(s) {leaders} restarted")
        self.observe()

    # -------------------------------------------------------------- main loop
    def run(self, faults: Callable[[_Sim], None]) -> SimResult:
        o = self.opts
        for t in range(1, o.ticks + 1):
            self.now = t
            if t < o.heal_at:
                faults(self)
            elif t == o.heal_at:
                self.heal()
            self.restart_due()
            order = [i for i, _ in self.live()]
            self.rng.shuffle(order)
            for node in order:
                self.tick_node(node)
            self.deliver_due()
            if t == o.heal_at + o.liveness_ticks and self.result.leader_after_heal is None:
                self.violate(f"no leader within {o.liveness_ticks} ticks after healing")
            if self.result.violations and o.stop_on_violation:
                break
        self.result.dropped = self.net.dropped
        return self.result


# ------------------------------------------------------------------ scenarios
def _every(sim: _Sim, lo: int, hi: int) -> bool:
    """True about once every lo..hi ticks (a memoryless draw keeps scenarios simple)."""
    return sim.rng.random() < 2.0 / (lo + hi)


def _calm(sim: _Sim) -> None:
    return None


def _halves(sim: _Sim) -> None:
    if not _every(sim, 30, 70):
        return
    sim.net.blocked.clear()
    if sim.rng.random() < 0.3:
        return  # a healed interlude
    ids = list(sim.ids)
    if len(ids) < 2:
        return  # nothing to split
    sim.rng.shuffle(ids)
    cut = sim.rng.randint(1, len(ids) // 2)
    sim.net.split(ids[:cut], ids[cut:])


def _bridge(sim: _Sim) -> None:
    """Two halves that only the bridge node can reach (a classic lease/CheckQuorum trap)."""
    if not _every(sim, 40, 80):
        return
    sim.net.blocked.clear()
    ids = list(sim.ids)
    sim.rng.shuffle(ids)
    bridge, rest = ids[0], ids[1:]
    half = len(rest) // 2
    sim.net.split(rest[:half], rest[half:])
    sim._note(f"bridge {bridge}: {rest[:half]} | {rest[half:]}")


def _flapping(sim: _Sim) -> None:
    """One follower's links go up and down every few ticks."""
    if not _every(sim, 3, 15):
        return
    if sim.net.blocked:
        sim.net.blocked.clear()
        return
    followers = [i for i, m in sim.live() if m.role is not Role.LEADER]
    if followers:
        sim.net.isolate(sim.rng.choice(followers), sim.ids)


def _lossy(sim: _Sim) -> None:
    sim.net.loss, sim.net.dup, sim.net.max_delay = 0.2, 0.1, 3


def _slow(sim: _Sim) -> None:
    """Long, variable delays: heavy reordering; old votes arrive terms late."""
    sim.net.dup, sim.net.max_delay = 0.2, 25


def _crashes(sim: _Sim) -> None:
    sim.net.max_delay = 2
    if not _every(sim, 15, 45):
        return
    leader = sim.leader_id()
    victim = leader if leader and sim.rng.random() < 0.5 else sim.rng.choice(sim.ids)
    sim.crash(victim, sim.rng.randint(1, 40))


def _transfer(sim: _Sim) -> None:
    """Leadership transfers and resignations; also operators forcing elections anywhere."""
    sim.net.loss, sim.net.max_delay = 0.05, 2
    if _every(sim, 20, 60):
        node = sim.rng.choice(sim.ids)
        m = sim.nodes[node]
        if m is not None:
            sim._note(f"{node} told to campaign")
            m.campaign()
            sim.drain(node)
    leader = sim.leader_id()
    if leader is None or not _every(sim, 15, 45):
        return
    m = sim.nodes[leader]
    assert m is not None
    if sim.rng.random() < 0.3:
        sim._note(f"{leader} resigns")
        m.resign()
    else:
        to = sim.rng.choice([None, *sim.ids])
        sim._note(f"{leader} transfers to {to}")
        m.transfer_leadership(to)
    sim.drain(leader)


def _chaos(sim: _Sim) -> None:
    if _every(sim, 20, 60):
        sim.net.loss = sim.rng.choice([0.0, 0.1, 0.3])
        sim.net.dup = sim.rng.choice([0.0, 0.2])
        sim.net.max_delay = sim.rng.randint(0, 4)
    for f in (_halves, _crashes, _transfer):
        if sim.rng.random() < 0.4:
            f(sim)


_FAULTS: dict[str, Callable[[_Sim], None]] = {
    "calm": _calm,
    "halves": _halves,
    "bridge": _bridge,
    "flapping": _flapping,
    "lossy": _lossy,
    "slow": _slow,
    "crashes": _crashes,
    "transfer": _transfer,
    "chaos": _chaos,
}


def simulate(
    seed: int,
    scenario: str,
    *,
    nodes: int = 5,
    ticks: int = 400,
    heal_at: int | None = None,
    liveness_ticks: int = 100,
    mutants: frozenset[Mutant] = frozenset(),
    prevote: bool = True,
    check_quorum: bool = True,
    stop_on_violation: bool = True,
    drift: float = 0.0,
) -> SimResult:
    """Run one seeded scenario; see the module doc for the checks. Raises ValueError on bad
    arguments (unknown scenario, clashing mutants, too few ticks to check liveness).

    ``drift`` d gives every node a fixed clock rate drawn from [1-d, 1+d]. Leases assume
    (1-d)/(1+d) > lease_ticks/election_ticks (d < 1/9 with the defaults); beyond that the
    lease check is expected to fail, which shows it can."""
    _check_scenario(scenario)
    heal = ticks - liveness_ticks if heal_at is None else heal_at
    opts = _Options(
        nodes,
        ticks,
        heal,
        liveness_ticks,
        mutants,
        prevote,
        check_quorum,
        stop_on_violation,
        drift,
    )
    _check_options(opts)
    return _Sim(seed, scenario, opts).run(_FAULTS[scenario])


def _check_scenario(scenario: str) -> None:
    if scenario not in _FAULTS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")


def _check_options(o: _Options) -> None:
    if not 0.0 <= o.drift < 1.0:
        raise ValueError(f"drift must be in [0, 1), got {o.drift}")
    if o.nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {o.nodes}")
    machine_class(o.mutants)  # ValueError if two mutants break the same rule
    if not 1 <= o.heal_at <= o.ticks - o.liveness_ticks:
        raise ValueError(
            f"need 1 <= heal_at <= ticks - liveness_ticks; got heal_at={o.heal_at}, "
            f"ticks={o.ticks}, liveness_ticks={o.liveness_ticks}"
        )


# ------------------------------------------------------------------ CLI
class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so main() can print one line and return 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog="electorate sim", description="Seeded simulation of the election core.")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seeds", type=int, default=1, help="number of consecutive seeds")
    p.add_argument("--scenario", default="chaos", help=f"one of {', '.join(SCENARIOS)}, or all")
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--ticks", type=int, default=400)
    p.add_argument(
        "--mutant",
        action="append",
        default=[],
        help=f"plant a known bug (repeatable): {', '.join(m.value for m in Mutant)}",
    )
    p.add_argument("--no-prevote", action="store_true")
    p.add_argument("--no-check-quorum", action="store_true")
    p.add_argument("--drift", type=float, default=0.0, help="clock rate spread d: [1-d, 1+d]")
    p.add_argument("--trace", action="store_true", help="print the event log of each run")
    return p


def main(argv: list[str]) -> int:
    """``electorate sim``: exit 0 all runs ok, 1 a check failed, 2 bad arguments."""
    try:
        a = _parser().parse_args(argv)
    except _UsageError as e:
        print(f"electorate sim: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return 0 if e.code is None else int(e.code)
    scenarios = list(SCENARIOS) if a.scenario == "all" else [a.scenario]
    try:
        for scenario in scenarios:
            _check_scenario(scenario)
        opts = _Options(
            nodes=a.nodes,
            ticks=a.ticks,
            heal_at=a.ticks - 100,
            liveness_ticks=100,
            mutants=parse_mutants(a.mutant),
            prevote=not a.no_prevote,
            check_quorum=not a.no_check_quorum,
            stop_on_violation=True,
            drift=a.drift,
        )
        _check_options(opts)
    except ValueError as e:
        print(f"electorate sim: {e}", file=sys.stderr)
        return 2
    # Arguments are valid from here on: an exception now is a bug and keeps its traceback.
    failed = 0
    for scenario in scenarios:
        for seed in range(a.seed, a.seed + max(a.seeds, 1)):
            failed += _report(_Sim(seed, scenario, opts).run(_FAULTS[scenario]), a.trace)
    return 1 if failed else 0


def _report(r: SimResult, trace: bool) -> int:
    print(r.summary())
    if trace:
        for line in r.log:
            print(f"  {line}")
    if r.ok:
        return 0
    for v in r.violations:
        print(f"  violation: {v}")
    print(f"  replay: {r.replay_command()}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
