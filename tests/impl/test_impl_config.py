"""Node configuration: TOML and flags, validated with one-line errors that say what to fix."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from electorate.impl.config import (
    ConfigError,
    NodeConfig,
    add_node_flags,
    from_args,
    from_toml,
    parse_addr,
)
from electorate.impl.runtime import core_config

SECRET = b"0123456789abcdef0123"


def cfg(**kw: object) -> NodeConfig:
    base: dict[str, object] = {
        "node_id": "n1",
        "listen": ("127.0.0.1", 7001),
        "peers": {"n2": ("127.0.0.1", 7002), "n3": ("127.0.0.1", 7003)},
        "data_dir": Path("/tmp/unused"),
        "secret": SECRET,
        "election_timeout_ms": 150,
        "heartbeat_ms": 15,
    }
    base.update(kw)
    return NodeConfig(**base)  # type: ignore[arg-type]


def test_defaults_are_valid_and_map_to_ticks() -> None:
    c = cfg()
    assert c.validate() == []
    assert c.election_ticks == 10 and c.lease_ticks == 8
    # The lease, stretched by the drift bound, ends before a follower can vote again: the
    # minimum election timeout less one tick of timer granularity.
    assert c.effective_lease_ms * c.max_clock_drift <= c.election_timeout_ms - c.heartbeat_ms
    cc = core_config(c)
    cc.validate()
    assert cc.voters == ("n1", "n2", "n3") and cc.prevote and cc.check_quorum


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"election_timeout_ms": 100, "heartbeat_ms": 15}, "10x the heartbeat"),
        ({"lease_ms": 140}, "lease 140 ms must be <="),
        ({"lease_ms": 123}, "lease 123 ms must be <= (election timeout - one heartbeat)"),
        ({"lease_ms": 5}, "at least one heartbeat"),
        ({"max_clock_drift": 0.5}, "max_clock_drift"),
        ({"secret": b"short"}, "at least 16"),
        ({"peers": {"n1": ("127.0.0.1", 7002)}}, "also listed as a peer"),
        ({"node_id": "bad id"}, "node id 'bad id'"),
        ({"cluster": ""}, "cluster id"),
        ({"peers": {"n2": ("h", 1), "n3": ("h", 1)}}, "share one address"),
        ({"drop_rate": 1.5}, "drop_rate"),
        ({"peers": {"n2": ("127.0.0.1", 7001)}}, "is this node's own listen address"),
        ({"peers": {"n2": ("localhost", 7001)}}, "is this node's own listen address"),
        ({"listen": ("localhost", 7002)}, "is this node's own listen address"),
        (
            {"listen": ("0.0.0.0", 7002), "peers": {"n2": ("127.0.0.1", 7002)}},
            "is this node's own listen address",
        ),
    ],
)
def test_invalid_configs_are_refused_with_a_clear_reason(
    kw: dict[str, object], needle: str
) -> None:
    with pytest.raises(ConfigError) as err:
        cfg(**kw).validate()
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_peers_on_other_ports_or_addresses_are_not_self() -> None:
    assert cfg(peers={"n2": ("127.0.0.2", 7001), "n3": ("localhost", 7003)}).validate() == []


def test_even_cluster_size_warns() -> None:
    warnings = cfg(peers={"n2": ("h", 2), "n3": ("h", 3), "n4": ("h", 4)}).validate()
    assert len(warnings) == 1 and "even cluster size 4" in warnings[0]


@pytest.mark.parametrize("text", ["nohost", ":80", "h:", "h:0", "h:70000", "h:x"])
def test_bad_addresses_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--listen"):
        parse_addr(text, "--listen")


def test_parse_addr_accepts_host_port() -> None:
    assert parse_addr("127.0.0.1:7001", "x") == ("127.0.0.1", 7001)


def _write_toml(tmp_path: Path, body: str) -> Path:
    (tmp_path / "secret").write_text("s" * 32)
    path = tmp_path / "node.toml"
    path.write_text(body.replace("SECRET", str(tmp_path / "secret")))
    return path


GOOD = """
id = "n1"
listen = "127.0.0.1:7001"
data_dir = "/tmp/d"
secret_file = "SECRET"
status = "127.0.0.1:8001"
election_timeout_ms = 300
heartbeat_ms = 30
[peers]
n2 = "127.0.0.1:7002"
n3 = "127.0.0.1:7003"
"""


def test_toml_config_loads(tmp_path: Path) -> None:
    c = from_toml(_write_toml(tmp_path, GOOD))
    assert c.node_id == "n1" and c.status == ("127.0.0.1", 8001)
    assert c.peers == {"n2": ("127.0.0.1", 7002), "n3": ("127.0.0.1", 7003)}
    assert c.election_ticks == 10 and c.secret == b"s" * 32
    assert c.validate() == []


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: "bogus = 1\n" + s, "unknown key 'bogus'"),
        (lambda s: s.replace("= 300", '= "300"'), "election_timeout_ms must be of type int"),
        (lambda s: s.replace('id = "n1"\n', ""), "missing required key 'id'"),
        (lambda s: s.replace('"127.0.0.1:7002"', "7002"), "peers.n2"),
        (lambda s: s + "\n[[[", "not valid TOML"),
    ],
)
def test_bad_toml_is_refused(tmp_path: Path, edit: object, needle: str) -> None:
    assert callable(edit)
    path = _write_toml(tmp_path, edit(GOOD))
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[")):
        from_toml(path)


def _flags(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_node_flags(p)
    return p.parse_args(argv)


def test_flags_build_the_same_config(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("k" * 20)
    a = _flags(
        ["--id", "n1", "--listen", "127.0.0.1:7001", "--peer", "n2=127.0.0.1:7002",
         "--peer", "n3=127.0.0.1:7003", "--data-dir", str(tmp_path), "--secret-file",
         str(secret), "--status", "127.0.0.1:8001", "--election-timeout-ms", "150",
         "--heartbeat-ms", "15"]
    )  # fmt: skip
    c = from_args(a)
    assert c.voters == ("n1", "n2", "n3") and c.election_ticks == 10 and c.validate() == []


def test_flags_override_toml(tmp_path: Path) -> None:
    path = _write_toml(tmp_path, GOOD)
    c = from_args(_flags(["--config", str(path), "--heartbeat-ms", "20", "--no-prevote"]))
    assert c.heartbeat_ms == 20 and not c.prevote and c.election_timeout_ms == 300


def test_secret_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELECTORATE_SECRET", "e" * 24)
    c = from_args(_flags(["--id", "a", "--listen", "127.0.0.1:1", "--data-dir", str(tmp_path)]))
    assert c.secret == b"e" * 24


def test_missing_secret_and_flags_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELECTORATE_SECRET", raising=False)
    with pytest.raises(ConfigError, match="no shared secret"):
        from_args(_flags(["--id", "a", "--listen", "127.0.0.1:1", "--data-dir", str(tmp_path)]))
    with pytest.raises(ConfigError, match="missing --id, --listen"):
        from_args(_flags(["--data-dir", str(tmp_path)]))
    with pytest.raises(ConfigError, match="cannot read secret file"):
        from_args(_flags(["--id", "a", "--listen", "h:1", "--data-dir", "d",
                          "--secret-file", str(tmp_path / "none")]))  # fmt: skip
