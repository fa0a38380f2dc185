"""One partition of the state space, as the fast search keeps it.

A shard owns the fingerprints whose hash lands in its partition (Stern and Dill's distributed
BFS; TLC's fingerprint servers): it keeps them in a flat table (model_check.fptable), holds the
states of the current BFS level that it owns, and appends a (fingerprint, parent fingerprint)
record for each state it owns to a trace log on disk, from which a counterexample is rebuilt
(as TLC's trace file). One search round is four steps, which the driver (model_check.engine)
runs on every shard, in this process or in worker processes:

1. `expand`: up to `limit` states of the level are expanded; every successor is counted, those
   outside the constraint are checked against the invariants, the others become candidates,
   their fingerprints grouped by owning shard;
2. `insert`: an owner adds the fingerprints it was sent to its table and says which were new;
3. `collect`: the new candidates are checked against the invariants, in the order they were
   generated; the shard keeps the ones it owns for the next level and hands over the others;
4. `accept`: an owner takes the new states other shards found for it.

Counts are exactly the reference search's (model_check.search): the same states are expanded
and counted, only the order of discovery within a level differs. With one shard the order is
the reference's too, so the first violation and its trace are the same.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

import numpy as np

from electorate.model_check.fptable import Fps, Mask, Table, new_table, owner, owners
from electorate.model_check.model import Model

S = TypeVar("S")
A = TypeVar("A")


@dataclass
class Found(Generic[S]):
    """A violated invariant: its id, the violating state and its parent's fingerprint."""

    invariant: str
    state: S
    parent: int


@dataclass
class Expanded:
    fps: list[Fps]  # candidate fingerprints for each owner, in generation order
    generated: int
    found: Found[Any] | None
    exhausted: bool  # no state of the level is left to expand


@dataclass
class Collected(Generic[S]):
    handover: list[bytes]  # for each owner: its new states, pickled (state, fp, parent fp)
    found: Found[S] | None
    reached: list[str] = field(default_factory=list)


def identity(s: Any) -> Hashable:
    return s  # type: ignore[no-any-return]


def trace_log_path(folder: Path, index: int) -> Path:
    return folder / f"trace-{index}.bin"


def cut_trace_log(log_path: Path, logged: int) -> tuple[BinaryIO, Table]:
    """Resume a shard's trace log at a checkpoint: cut it to ``logged`` records (16 bytes each:
    fingerprint, parent), rebuild the seen table from it, and reopen it for appending."""
    with log_path.open("r+b") as f:
        f.truncate(logged * 16)
    records = np.fromfile(log_path, dtype=np.int64).reshape(-1, 2)
    table = new_table()
    if len(records):
        table.add(np.ascontiguousarray(records[:, 0]))
    return log_path.open("ab"), table


class Shard(Generic[S, A]):
    """The states one partition owns and the work of one search round on them."""

    def __init__(
        self, model: Model[S, A], symmetry: bool, index: int, count: int, folder: Path
    ) -> None:
        self.model = model
        self.key: Callable[[S], Hashable] = model.canonical if symmetry else identity
        self.index, self.count = index, count
        self.table: Table = new_table()
        self.raw_table: Table = new_table()  # with symmetry: hashes of the states submitted
        self.level: list[tuple[S, int]] = []  # (state, fingerprint) of the level being expanded
        self.cursor = 0
        self.next: list[tuple[S, int]] = []
        self.generated = 0
        self.pending: list[Any] = list(model.sometimes)
        self.log_path = trace_log_path(folder, index)
        self.log: BinaryIO = self.log_path.open("ab")
        self.logged = self.log_path.stat().st_size // 16
        self._records: list[int] = []
        self._cands: list[S] = []
        self._cand_fps: list[int] = []
        self._parents: list[int] = []
        self._by_owner: list[np.ndarray[Any, Any]] = []

    def owner(self, fp: int) -> int:
        return owner(fp, self.count)

    # ---- the four steps of a round ----------------------------------------------------------

    def expand(self, limit: int) -> Expanded:
        # The hot loop: names bound to locals, the invariant loop inlined, fingerprints hashed
        # in one map() over the candidates afterwards.
        successors, in_constraint = self.model.successors, self.model.in_constraint
        holds = [(inv.holds, inv.id) for inv in self.model.invariants]
        cands: list[S] = []
        parents: list[int] = []
        keep, keep_parent = cands.append, parents.append
        found: Found[S] | None = None
        generated = 0
        stop = min(len(self.level), self.cursor + limit)
        for s, sfp in self.level[self.cursor : stop]:
            for _action, t in successors(s):
                generated += 1
                if t is s:
                    continue  # stuttering: counted, already seen and checked
                if in_constraint(t):
                    keep(t)
                    keep_parent(sfp)
                    continue
                for ok, inv_id in holds:  # outside the constraint: checked, not explored
                    if not ok(t):
                        found = Found(inv_id, t, sfp)
                        break
                if found is not None:
                    break
            if found is not None:
                break
        if self.key is identity:
            cand_fps = list(map(hash, cands))
        else:
            cands, parents = self._new_raw(cands, parents)
            cand_fps = list(map(hash, map(self.key, cands)))
        self.cursor = stop
        self.generated += generated
        self._cands, self._cand_fps, self._parents = cands, cand_fps, parents
        fps = np.array(cand_fps, dtype=np.int64)
        if self.count == 1:
            self._by_owner = [np.arange(len(fps))]
        else:
            own = owners(fps, self.count)
            self._by_owner = [np.flatnonzero(own == o) for o in range(self.count)]
        return Expanded(
            [fps[idx] for idx in self._by_owner],
            generated,
            found,
            self.cursor >= len(self.level),
        )

    def _new_raw(self, cands: list[S], parents: list[int]) -> tuple[list[S], list[int]]:
        """With symmetry, the candidates whose state itself (not its orbit) this shard has not
        submitted before, first occurrences only: a state submitted before had its orbit
        added then, so only these need the costly canonical form. (In the 3-server election
        model three candidates in four are such repeats.)"""
        if not cands:
            return cands, parents
        raw = np.array(list(map(hash, cands)), dtype=np.int64)
        unique, first = np.unique(raw, return_index=True)
        fresh = np.sort(first[self.raw_table.add(unique)]).tolist()
        return [cands[k] for k in fresh], [parents[k] for k in fresh]

    def insert(self, batches: list[Fps]) -> list[Mask]:
        """Add the fingerprints each shard sent (in shard order); True where new."""
        every = np.concatenate(batches) if len(batches) > 1 else batches[0]
        unique, first = np.unique(every, return_index=True)
        new = np.zeros(len(every), dtype=np.bool_)
        new[first[self.table.add(unique)]] = True
        bounds = np.cumsum([len(b) for b in batches])[:-1]
        return list(np.split(new, bounds))

    def collect(self, masks: list[Mask]) -> Collected[S]:
        holds = [(inv.holds, inv.id) for inv in self.model.invariants]
        positions = np.sort(
            np.concatenate([idx[m] for idx, m in zip(self._by_owner, masks, strict=True)])
        )
        handover: list[list[tuple[S, int, int]]] = [[] for _ in range(self.count)]
        found: Found[S] | None = None
        reached: list[str] = []
        cands, cand_fps, parents = self._cands, self._cand_fps, self._parents
        mine = self.count == 1
        for k in positions.tolist():
            t, fp, parent = cands[k], cand_fps[k], parents[k]
            for ok, inv_id in holds:
                if not ok(t):
                    found = Found(inv_id, t, parent)
                    break
            if found is not None:
                break
            if self.pending:
                reached += self._note_sometimes(t)
            if mine or self.owner(fp) == self.index:
                self.next.append((t, fp))
                self._records += (fp, parent)
            else:
                handover[self.owner(fp)].append((t, fp, parent))
        self._cands, self._cand_fps, self._parents = [], [], []
        self.flush()
        # Pickled here, once: the driver relays the bytes to the owner without unpickling.
        packed = [pickle.dumps(h, pickle.HIGHEST_PROTOCOL) if h else b"" for h in handover]
        return Collected(packed, found, reached)

    def accept(self, handed: list[bytes]) -> None:
        for packed in handed:
            if packed:
                for t, fp, parent in pickle.loads(packed):
                    self._keep(t, fp, parent)
        self.flush()

    # ---- levels, initial states, bookkeeping --------------------------------------------------

    def next_level(self) -> int:
        """Make the states found for the next level the level to expand; their number."""
        self.level, self.next, self.cursor = self.next, [], 0
        return len(self.level)

    def add_initial(self, s: S, fp: int) -> bool:
        """Record an initial state this shard owns (its own parent in the trace log)."""
        if not self.table.add(np.array([fp], dtype=np.int64))[0]:
            return False
        self._keep(s, fp, fp)
        self.flush()
        return True

    def _keep(self, t: S, fp: int, parent: int) -> None:
        self.next.append((t, fp))
        self._records += (fp, parent)

    def _note_sometimes(self, t: S) -> list[str]:
        hit = [p for p in self.pending if p.holds(t)]
        if hit:
            self.pending = [p for p in self.pending if p not in hit]
        return [p.id for p in hit]

    def mark_reached(self, ids: list[str]) -> None:
        self.pending = [p for p in self.pending if p.id not in ids]

    def flush(self) -> None:
        if self._records:
            self.log.write(np.array(self._records, dtype=np.int64).tobytes())
            self.logged += len(self._records) // 2
            self._records = []
        self.log.flush()

    def queued(self) -> int:
        return len(self.level) - self.cursor + len(self.next)

    def restore(self, level: list[tuple[S, int]], logged: int) -> None:
        """Continue from a checkpoint: the trace log cut to `logged` records, the table
        rebuilt from it, and the level to expand."""
        self.log.close()
        self.log, self.table = cut_trace_log(self.log_path, logged)
        self.logged = logged
        self.level, self.next, self.cursor = level, [], 0

    def close(self) -> None:
        self.log.close()


def trace_chain(paths: list[Path], fp: int) -> list[int]:
    """The fingerprints from an initial state down to `fp`, read from the shards' trace logs
    (an initial state is logged as its own parent)."""
    logs = [np.fromfile(path, dtype=np.int64).reshape(-1, 2) for path in paths]
    chain = [fp]
    while True:
        parent = None
        for records in logs:
            rows = np.flatnonzero(records[:, 0] == chain[-1])
            if len(rows):
                parent = int(records[rows[0], 1])
                break
        if parent is None:
            raise LookupError(f"fingerprint {chain[-1]} is in no trace log")
        if parent == chain[-1]:
            return chain[::-1]
        chain.append(parent)
