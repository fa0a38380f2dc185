"""Node configuration: TOML file or command-line flags, validated with one-line errors.

Time mapping: one core tick is one heartbeat interval (``heartbeat_ms``). The core's election
timeout is ``election_timeout_ms // heartbeat_ms`` ticks, drawn from [T, 2T) on every attempt.

Lease: a leader holds a lease for ``lease_ms`` after the send time (monotonic) of the newest
heartbeat round a quorum acknowledged. For safety a follower must not start an election before
that lease ends, on its own clock; followers wait at least the minimum election timeout less one
tick of granularity, so the rule is ``lease_ms * max_clock_drift <= election_timeout_ms -
heartbeat_ms``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

DEFAULT_CLUSTER = "electorate"
SECRET_ENV = "ELECTORATE_SECRET"
MIN_SECRET_BYTES = 16
MAX_FRAME_BYTES = 64 * 1024
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ConfigError(ValueError):
    """A configuration problem; the message says what to fix."""


Addr = tuple[str, int]


def parse_addr(text: str, what: str) -> Addr:
    """``host:port`` -> (host, port); ConfigError naming ``what`` if malformed."""
    host, sep, port_s = text.rpartition(":")
    if not sep or not host or not port_s.isdigit():
        raise ConfigError(f"{what}: expected HOST:PORT, got {text!r}")
    port = int(port_s)
    if not 0 < port < 65536:
        raise ConfigError(f"{what}: port {port} out of range 1-65535")
    return host.strip("[]"), port


def format_addr(addr: Addr) -> str:
    return f"{addr[0]}:{addr[1]}"


@dataclass(frozen=True)
class TlsConfig:
    """Mutual TLS: every node presents ``cert``/``key`` and trusts peers signed by ``ca``."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class NodeConfig:
    """Everything one node needs. Build with ``from_toml``/``from_args``; then ``validate()``."""

    node_id: str
    listen: Addr
    peers: dict[str, Addr]
    data_dir: Path
    secret: bytes = field(repr=False)
    status: Addr | None = None
    cluster: str = DEFAULT_CLUSTER
    election_timeout_ms: int = 1000
    heartbeat_ms: int = 100
    max_clock_drift: float = 1.1
    lease_ms: int | None = None
    prevote: bool = True
    check_quorum: bool = True
    tls: TlsConfig | None = None
    max_frame_bytes: int = MAX_FRAME_BYTES
    # Start even though the data directory was used before and lost its state file.
    fresh_start: bool = False
    # Test/demo-only knobs: never set them in production.
    drop_rate: float = 0.0
    seed: int | None = None
    demo_controls: bool = False

    @property
    def voters(self) -> tuple[str, ...]:
        return tuple(sorted([self.node_id, *self.peers]))

    @property
    def election_ticks(self) -> int:
        return self.election_timeout_ms // self.heartbeat_ms

    @property
    def effective_lease_ms(self) -> int:
        """The lease: configured, or the largest safe one minus one heartbeat of margin."""
        if self.lease_ms is not None:
            return self.lease_ms
        safe = math.floor(self.election_timeout_ms / self.max_clock_drift) - self.heartbeat_ms
        return max(safe, self.heartbeat_ms)

    @property
    def lease_ticks(self) -> int:
        return self.effective_lease_ms // self.heartbeat_ms

    def validate(self) -> list[str]:
        """Raise ConfigError on the first problem; return warnings (e.g. even cluster size)."""
        _check_ids(self.node_id, self.peers, self.cluster)
        _check_not_self(self.listen, self.peers)
        _check_timing(self)
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"shared secret is {len(self.secret)} bytes; use at least {MIN_SECRET_BYTES} "
                "(e.g. `head -c 32 /dev/urandom | base64 > secret`)"
            )
        if not 0.0 <= self.drop_rate < 1.0:
            raise ConfigError(f"drop_rate must be in [0, 1), got {self.drop_rate}")
        if not 1024 <= self.max_frame_bytes <= 16 * 1024 * 1024:
            raise ConfigError("max_frame_bytes must be between 1 KiB and 16 MiB")
        warnings = []
        n = len(self.voters)
        if n % 2 == 0:
            warnings.append(
                f"even cluster size {n}: it tolerates no more failures than {n - 1} nodes "
                "and a clean split leaves no majority; prefer an odd number of voters"
            )
        if n == 1:
            warnings.append("single-node cluster: no fault tolerance")
        return warnings


def _check_ids(node_id: str, peers: dict[str, Addr], cluster: str) -> None:
    for name in [node_id, *peers]:
        if not _ID_RE.match(name):
            raise ConfigError(f"node id {name!r}: use 1-64 characters of [A-Za-z0-9_.-]")
    if node_id in peers:
        raise ConfigError(f"node id {node_id!r} is also listed as a peer; remove it from peers")
    if not cluster or not _ID_RE.match(cluster):
        raise ConfigError(f"cluster id {cluster!r}: use 1-64 characters of [A-Za-z0-9_.-]")
    addrs = list(peers.values())
    if len(set(addrs)) != len(addrs):
        raise ConfigError("two peers share one address; every peer needs its own HOST:PORT")


def _check_not_self(listen: Addr, peers: dict[str, Addr]) -> None:
    """A peer at this node's own address would be a voter that can never answer."""
    for name, addr in peers.items():
        if _same_endpoint(addr, listen):
            raise ConfigError(
                f"peer {name} at {format_addr(addr)} is this node's own listen address "
                f"{format_addr(listen)}; remove it from peers or give it its own address"
            )


_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _same_endpoint(peer: Addr, listen: Addr) -> bool:
    """Whether dialing ``peer`` reaches this node's listener (names resolved, e.g. localhost)."""
    if peer[1] != listen[1]:
        return False
    if peer[0] == listen[0]:
        return True
    peer_ips = _resolve(peer[0])
    if listen[0] in _WILDCARDS:
        return any(_is_local(ip) for ip in peer_ips)
    return bool(peer_ips & _resolve(listen[0]))


def _resolve(host: str) -> set[str]:
    """The addresses ``host`` resolves to (empty if it does not resolve now)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    return {str(info[4][0]) for info in infos}


def _is_local(ip: str) -> bool:
    """An address of this host: one a socket can be bound to."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((ip, 0))
    except OSError:
        return False
    return True


def _check_timing(c: NodeConfig) -> None:
    if c.heartbeat_ms < 1:
        raise ConfigError(f"heartbeat_ms must be >= 1, got {c.heartbeat_ms}")
    if c.election_timeout_ms < 10 * c.heartbeat_ms:
        raise ConfigError(
            f"election timeout {c.election_timeout_ms} ms must be >= 10x the heartbeat "
            f"interval {c.heartbeat_ms} ms (raise the timeout or lower the heartbeat)"
        )
    if not 1.0 <= c.max_clock_drift <= 2.0:
        raise ConfigError(f"max_clock_drift must be in [1.0, 2.0], got {c.max_clock_drift}")
    # A follower's election timer counts whole ticks, so it may hold off a rival for only
    # T - 1 heartbeats after acknowledging a round: one heartbeat is the granularity margin.
    bound = (c.election_timeout_ms - c.heartbeat_ms) / c.max_clock_drift
    lease = c.effective_lease_ms
    if lease > bound:
        raise ConfigError(
            f"lease {lease} ms must be <= (election timeout - one heartbeat) / clock drift "
            f"bound = {bound:.1f} ms; lower lease_ms"
        )
    if lease < c.heartbeat_ms:
        raise ConfigError(f"lease {lease} ms must be at least one heartbeat ({c.heartbeat_ms} ms)")


def read_secret(secret_file: str | None, env: str = SECRET_ENV) -> bytes:
    """The shared secret from ``secret_file`` or else the environment variable ``env``."""
    if secret_file:
        try:
            data = Path(secret_file).read_bytes().strip()
        except OSError as e:
            raise ConfigError(f"cannot read secret file {secret_file}: {e.strerror}") from e
        if not data:
            raise ConfigError(f"secret file {secret_file} is empty")
        return data
    value = os.environ.get(env, "")
    if not value:
        raise ConfigError(f"no shared secret: pass --secret-file FILE or set ${env}")
    return value.encode()


_TOML_KEYS = {
    "id": str,
    "cluster": str,
    "listen": str,
    "peers": dict,
    "data_dir": str,
    "secret_file": str,
    "secret_env": str,
    "status": str,
    "election_timeout_ms": int,
    "heartbeat_ms": int,
    "lease_ms": int,
    "max_clock_drift": float,
    "prevote": bool,
    "check_quorum": bool,
    "tls": dict,
}


def from_toml(path: str | Path) -> NodeConfig:
    """Load and type-check a TOML node config (see docs/impl.md for the keys)."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config {path} is not valid TOML: {e}") from e
    for key, value in raw.items():
        _check_key(key, value, str(path))
    for key in ("id", "listen", "data_dir"):
        if key not in raw:
            raise ConfigError(f"config {path}: missing required key {key!r}")
    peers = {}
    for name, addr in raw.get("peers", {}).items():
        if not isinstance(addr, str):
            raise ConfigError(f'config {path}: peers.{name} must be a "HOST:PORT" string')
        peers[name] = parse_addr(addr, f"peers.{name}")
    secret = read_secret(raw.get("secret_file"), raw.get("secret_env", SECRET_ENV))
    drift = raw.get("max_clock_drift", 1.1)
    return NodeConfig(
        node_id=raw["id"],
        listen=parse_addr(raw["listen"], "listen"),
        peers=peers,
        data_dir=Path(raw["data_dir"]),
        secret=secret,
        status=parse_addr(raw["status"], "status") if "status" in raw else None,
        cluster=raw.get("cluster", DEFAULT_CLUSTER),
        election_timeout_ms=raw.get("election_timeout_ms", 1000),
        heartbeat_ms=raw.get("heartbeat_ms", 100),
        max_clock_drift=float(drift),
        lease_ms=raw.get("lease_ms"),
        prevote=raw.get("prevote", True),
        check_quorum=raw.get("check_quorum", True),
        tls=_tls_from(raw.get("tls"), str(path)),
    )


def _check_key(key: str, value: Any, where: str) -> None:
    if key not in _TOML_KEYS:
        raise ConfigError(f"config {where}: unknown key {key!r} (known: {', '.join(_TOML_KEYS)})")
    want = _TOML_KEYS[key]
    ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise ConfigError(f"config {where}: {key} must be of type {want.__name__}")


def _tls_from(raw: object, where: str) -> TlsConfig | None:
    if raw is None:
        return None
    assert isinstance(raw, dict)
    if set(raw) != {"cert", "key", "ca"} or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(f"config {where}: [tls] needs exactly cert, key and ca paths")
    return TlsConfig(Path(raw["cert"]), Path(raw["key"]), Path(raw["ca"]))


def add_node_flags(p: argparse.ArgumentParser) -> None:
    """The ``node`` subcommand's flags (same settings as the TOML keys)."""
    p.add_argument("--config", help="TOML config file (flags given too override it)")
    p.add_argument("--id", dest="node_id")
    p.add_argument("--cluster", default=None)
    p.add_argument("--listen")
    p.add_argument("--peer", action="append", default=[], metavar="ID=HOST:PORT")
    p.add_argument("--data-dir")
    p.add_argument("--secret-file")
    p.add_argument("--status", metavar="HOST:PORT")
    p.add_argument("--election-timeout-ms", type=int)
    p.add_argument("--heartbeat-ms", type=int)
    p.add_argument("--lease-ms", type=int)
    p.add_argument("--max-clock-drift", type=float)
    p.add_argument("--no-prevote", action="store_true")
    p.add_argument("--no-check-quorum", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-ca")
    p.add_argument(
        "--fresh-start",
        action="store_true",
        help="start with term 0 and no vote although this data directory was used before and "
        "lost its state file (only if no vote of this node can matter any more)",
    )
    # Test/demo only (loss injection, seeded randomness, SIGUSR1 isolation toggle).
    p.add_argument("--drop-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--demo-controls", action="store_true", help=argparse.SUPPRESS)


def from_args(a: argparse.Namespace) -> NodeConfig:
    """Build a config from ``node`` flags, starting from ``--config`` when given."""
    if a.config:
        base = from_toml(a.config)
    else:
        missing = [
            f
            for f, v in (("--id", a.node_id), ("--listen", a.listen), ("--data-dir", a.data_dir))
            if not v
        ]
        if missing:
            raise ConfigError(f"missing {', '.join(missing)} (or pass --config FILE)")
        base = NodeConfig(
            node_id=a.node_id,
            listen=parse_addr(a.listen, "--listen"),
            peers={},
            data_dir=Path(a.data_dir),
            secret=read_secret(a.secret_file),
        )
    return _override(base, a)


def _parse_peers(items: list[str]) -> dict[str, Addr]:
    peers: dict[str, Addr] = {}
    for item in items:
        name, sep, addr = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--peer: expected ID=HOST:PORT, got {item!r}")
        if name in peers:
            raise ConfigError(f"--peer: {name!r} given twice")
        peers[name] = parse_addr(addr, f"--peer {name}")
    return peers


def _override(c: NodeConfig, a: argparse.Namespace) -> NodeConfig:
    tls = c.tls
    if a.tls_cert or a.tls_key or a.tls_ca:
        if not (a.tls_cert and a.tls_key and a.tls_ca):
            raise ConfigError("TLS needs all of --tls-cert, --tls-key and --tls-ca")
        tls = TlsConfig(Path(a.tls_cert), Path(a.tls_key), Path(a.tls_ca))
    return NodeConfig(
        node_id=a.node_id or c.node_id,
        listen=parse_addr(a.listen, "--listen") if a.listen else c.listen,
        peers=_parse_peers(a.peer) if a.peer else c.peers,
        data_dir=Path(a.data_dir) if a.data_dir else c.data_dir,
        secret=read_secret(a.secret_file) if a.secret_file else c.secret,
        status=parse_addr(a.status, "--status") if a.status else c.status,
        cluster=a.cluster or c.cluster,
        election_timeout_ms=_pick(a.election_timeout_ms, c.election_timeout_ms),
        heartbeat_ms=_pick(a.heartbeat_ms, c.heartbeat_ms),
        max_clock_drift=_pick(a.max_clock_drift, c.max_clock_drift),
        lease_ms=_pick(a.lease_ms, c.lease_ms),
        prevote=c.prevote and not a.no_prevote,
        check_quorum=c.check_quorum and not a.no_check_quorum,
        tls=tls,
        drop_rate=a.drop_rate,
        seed=a.seed,
        demo_controls=a.demo_controls,
        fresh_start=a.fresh_start,
    )


def _pick(flag: _T | None, current: _T) -> _T:
    return current if flag is None else flag
