"""Transport: authenticated frames over loopback TCP; every bad frame closes only its connection."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from electorate.impl.cluster import free_ports
from electorate.impl.config import NodeConfig, TlsConfig
from electorate.impl.messages import AppendEntries, Message, encode_message
from electorate.impl.transport import (
    HEADER,
    KIND_HELLO,
    KIND_MESSAGE,
    MAGIC,
    NONCE_LEN,
    VERSION,
    Transport,
    build_frame,
    read_frame,
)

SECRET = b"transport-test-secret-0123456789"
LO = "127.0.0.1"


def pair_configs(tls: TlsConfig | None = None, **kw: object) -> tuple[NodeConfig, NodeConfig]:
    p1, p2 = free_ports(2)
    common: dict[str, object] = {
        "data_dir": Path("/nonexistent"),
        "secret": SECRET,
        "election_timeout_ms": 150,
        "heartbeat_ms": 15,
        "tls": tls,
        "seed": 1,
    }
    common.update(kw)
    a = NodeConfig(node_id="n1", listen=(LO, p1), peers={"n2": (LO, p2)}, **common)  # type: ignore[arg-type]
    b = NodeConfig(node_id="n2", listen=(LO, p2), peers={"n1": (LO, p1)}, **common)  # type: ignore[arg-type]
    return a, b


def hb(src: str = "n1", dst: str = "n2", term: int = 1, cluster: str = "electorate") -> Message:
    return AppendEntries(cluster, src, dst, term, 0, 1)


Scenario = Callable[[Transport, Transport, list[Message], list[Message]], Awaitable[None]]


def run_pair(scenario: Scenario, tls: TlsConfig | None = None, **kw: object) -> None:
    async def main() -> None:
        ca, cb = pair_configs(tls, **kw)
        got_a: list[Message] = []
        got_b: list[Message] = []
        ta, tb = Transport(ca, got_a.append), Transport(cb, got_b.append)
        await ta.start()
        await tb.start()
        try:
            await asyncio.wait_for(scenario(ta, tb, got_a, got_b), 30.0)
        finally:
            await ta.stop()
            await tb.stop()

    asyncio.run(main())


async def until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    # Generous: a TLS handshake plus a reconnect backoff on a loaded 2-core CI machine.
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.01)


def hello(node: str = "n1", cluster: str = "electorate") -> bytes:
    return json.dumps({"cluster": cluster, "node": node}).encode()


async def raw_connect(
    port: int, hello_payload: bytes | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """Connect, read the challenge, and (by default) say a valid hello as n1 (frame 1)."""
    reader, writer = await asyncio.open_connection(LO, port)
    _, nonce = await read_frame(reader, SECRET, b"challenge", 0, NONCE_LEN)
    writer.write(build_frame(SECRET, nonce, 1, KIND_HELLO, hello_payload or hello()))
    return reader, writer, nonce


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """True if the other side closes the connection (after whatever it sent) within 2 s."""
    try:
        await asyncio.wait_for(reader.read(), 2.0)
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def msg_bytes(m: Message) -> bytes:
    return json.dumps(encode_message(m)).encode()


def with_term(digits: str) -> bytes:
    """A heartbeat whose term is the given decimal literal (too big for an int field)."""
    return msg_bytes(hb()).replace(b'"term": 1', b'"term": ' + digits.encode())


def test_messages_flow_both_ways() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        ta.send(hb())
        tb.send(hb("n2", "n1", 2))
        await until(lambda: len(ga) == 1 and len(gb) == 1)
        assert gb == [hb()] and ga == [hb("n2", "n1", 2)]
        assert tb.stats.received == 1 and not tb.stats.rejected

    run_pair(scenario)


def frame(nonce: bytes, payload: bytes, seq: int = 2, secret: bytes = SECRET) -> bytes:
    return build_frame(secret, nonce, seq, KIND_MESSAGE, payload)


BAD_FRAMES: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("bad-magic", lambda nonce: b"GET / HTTP/1.1\r\n\r\n" + b"x" * 40),
    ("bad-version", lambda nonce: struct.pack(">4sBBHI", MAGIC, 9, 1, 0, 2) + b"{}" + b"0" * 32),
    ("oversized", lambda nonce: HEADER.pack(MAGIC, VERSION, KIND_MESSAGE, 0, 10**7)),
    ("bad-mac", lambda nonce: frame(nonce, msg_bytes(hb()), secret=b"wrong-secret-xxxxxxxx")),
    ("bad-mac", lambda nonce: frame(nonce, msg_bytes(hb()), seq=3)),  # skipped a frame
    ("bad-payload", lambda nonce: frame(nonce, b"\xff not json")),
    ("bad-message", lambda nonce: frame(nonce, b'{"type": "nope"}')),
    ("bad-kind", lambda nonce: build_frame(SECRET, nonce, 2, KIND_HELLO, hello())),
    ("wrong-cluster", lambda nonce: frame(nonce, msg_bytes(hb(cluster="x")))),
    ("spoofed-source", lambda nonce: frame(nonce, msg_bytes(hb(src="n3")))),
    ("wrong-destination", lambda nonce: frame(nonce, msg_bytes(hb(dst="n9")))),
    # Integers are uint64: a 4,300-digit term (the most json parses), 2**64, and one digit
    # more than json parses at all.
    ("out-of-range", lambda nonce: frame(nonce, with_term("9" * 4300))),
    ("out-of-range", lambda nonce: frame(nonce, with_term(str(2**64)))),
    ("out-of-range", lambda nonce: frame(nonce, with_term("9" * 4301))),
    ("bad-payload", lambda nonce: frame(nonce, b"[" * 30000 + b"]" * 30000)),
]


@pytest.mark.parametrize(("reason", "make"), BAD_FRAMES)
def test_bad_frames_close_the_connection_and_deliver_nothing(
    reason: str, make: Callable[[bytes], bytes]
) -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        reader, writer, nonce = await raw_connect(tb.config.listen[1])
        writer.write(make(nonce))
        await writer.drain()
        assert await closed_by_peer(reader)
        writer.close()
        assert dict(tb.stats.rejected) == {reason: 1}
        assert gb == []
        # The node is unaffected: its real peer still gets through.
        ta.send(hb())
        await until(lambda: gb == [hb()])

    run_pair(scenario)


def test_a_frame_replayed_on_a_new_connection_is_rejected() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        port = tb.config.listen[1]
        _, writer, nonce = await raw_connect(port)
        genuine = frame(nonce, msg_bytes(hb()))
        writer.write(genuine)
        await writer.drain()
        await until(lambda: len(gb) == 1)  # the genuine frame is accepted
        writer.close()
        r2, w2, _ = await raw_connect(port)
        w2.write(genuine)  # same bytes, different challenge
        await w2.drain()
        assert await closed_by_peer(r2)
        w2.close()
        assert tb.stats.rejected["bad-mac"] == 1 and len(gb) == 1

    run_pair(scenario)


@pytest.mark.parametrize(
    ("reason", "payload"),
    [
        ("unknown-peer", hello(node="evil")),
        ("wrong-cluster", hello(cluster="other")),
        ("bad-payload", b"[]"),
        ("bad-payload", b'{"cluster": "electorate", "node": ["n1"]}'),
        ("bad-payload", b'{"cluster": {"a": 1}, "node": "n1"}'),
        ("bad-payload", b'{"cluster": "electorate", "node": "n1", "x": 1}'),
        ("out-of-range", b'{"cluster": "electorate", "node": ' + b"9" * 5000 + b"}"),
    ],
)
def test_a_bad_hello_is_refused(reason: str, payload: bytes) -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        reader, writer, _ = await raw_connect(tb.config.listen[1], payload)
        assert await closed_by_peer(reader)
        writer.close()
        assert dict(tb.stats.rejected) == {reason: 1}

    run_pair(scenario)


def test_silent_and_excess_connections_are_closed() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        tb.handshake_timeout = 0.2
        port = tb.config.listen[1]
        # A message before any hello, then a connection that never says anything.
        r1, w1 = await asyncio.open_connection(LO, port)
        _, nonce = await read_frame(r1, SECRET, b"challenge", 0, NONCE_LEN)
        w1.write(build_frame(SECRET, nonce, 1, KIND_MESSAGE, msg_bytes(hb())))
        r2, w2 = await asyncio.open_connection(LO, port)
        assert await closed_by_peer(r1) and await closed_by_peer(r2)
        assert tb.stats.rejected["no-hello"] == 2 and gb == []
        w1.close()
        w2.close()
        # Beyond the inbound limit, connections are refused at once.
        idle = [await asyncio.open_connection(LO, port) for _ in range(tb.max_inbound + 2)]
        try:
            await until(lambda: tb.stats.rejected["too-many-connections"] >= 2)
        finally:
            for _, w in idle:
                w.close()
                await w.wait_closed()

    run_pair(scenario)


def test_garbage_before_the_challenge_is_read_is_harmless() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        _, writer = await asyncio.open_connection(LO, tb.config.listen[1])
        writer.write(bytes(range(256)) * 4)
        await writer.drain()
        await until(lambda: tb.stats.rejected["bad-magic"] == 1)
        writer.close()
        ta.send(hb())
        await until(lambda: gb == [hb()])

    run_pair(scenario)


def test_reconnects_after_the_peer_restarts() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        ta.send(hb(term=1))
        await until(lambda: len(gb) == 1)
        await tb.stop()
        got: list[Message] = []
        tb2 = Transport(tb.config, got.append)
        await tb2.start()
        try:
            # Resend until the dialer has noticed the restart and reconnected (with backoff).
            loop = asyncio.get_running_loop()
            end = loop.time() + 5.0
            while not got and loop.time() < end:
                ta.send(hb(term=2))
                await asyncio.sleep(0.05)
            assert got and got[0].term == 2
        finally:
            await tb2.stop()

    run_pair(scenario)


def test_isolation_and_loss_injection_drop_messages() -> None:
    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        for i in range(200):
            ta.send(hb(term=i + 1))
        await until(
            lambda: tb.stats.received + tb.stats.dropped_injected + ta.stats.dropped_injected == 200
        )
        # drop_rate 0.3 on the sending side: about 140 of 200 arrive (seeded, so stable).
        assert ta.stats.dropped_injected == 200 - len(gb)
        assert 110 < len(gb) < 170, f"received {len(gb)} of 200"
        tb.isolated = True
        ta.send(hb(term=999))
        await asyncio.sleep(0.2)
        assert all(m.term != 999 for m in gb)

    run_pair(scenario, drop_rate=0.3)


def _make_certs(d: Path) -> TlsConfig:
    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
         "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))  # fmt: skip
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=node",
         "-keyout", str(d / "node.key"), "-out", str(d / "node.csr"))  # fmt: skip
    ca, ca_key = str(d / "ca.pem"), str(d / "ca.key")
    ossl("x509", "-req", "-in", str(d / "node.csr"), "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "1", "-out", str(d / "node.pem"))  # fmt: skip
    return TlsConfig(d / "node.pem", d / "node.key", d / "ca.pem")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_mutual_tls(tmp_path: Path) -> None:
    tls = _make_certs(tmp_path)

    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        ta.send(hb())
        await until(lambda: gb == [hb()])
        # A client without a certificate is refused by the TLS handshake: nothing delivered.
        reader, writer = await asyncio.open_connection(LO, tb.config.listen[1])
        writer.write(b"\x16\x03\x01garbage-not-a-client-hello" * 3)
        await writer.drain()
        assert await closed_by_peer(reader)
        writer.close()
        assert gb == [hb()]

    run_pair(scenario, tls=tls)


def test_a_sending_task_that_fails_logs_one_line_and_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sending task must never die silently: its peer would look down for good."""

    async def scenario(ta: Transport, tb: Transport, ga: list[Message], gb: list[Message]) -> None:
        real = ta._connect_and_pump
        failures = [RuntimeError("boom")]

        async def flaky(peer: str) -> bool:
            if failures:
                raise failures.pop()
            return await real(peer)

        ta._connect_and_pump = flaky  # type: ignore[method-assign]
        ta._heard_from["n2"].set()  # redial at once
        for t in ta._tasks:
            t.cancel()
        ta._tasks = [asyncio.create_task(ta._dial_loop("n2"))]
        ta.send(hb())
        await until(lambda: gb == [hb()])
        assert ta.stats.send_task_restarts == 1

    with caplog.at_level("ERROR", logger="electorate.transport"):
        run_pair(scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "electorate.transport"]
    assert lines == ["sending to n2 failed (RuntimeError: boom); reconnecting"]
    assert not any(r.exc_info for r in caplog.records)


def test_stop_does_not_wait_forever_on_a_stuck_task_nor_swallow_cancellation() -> None:
    """stop() gives up on a task that ignores cancellation, and a caller cancelled while
    stopping stays cancelled."""

    released = False

    async def stubborn() -> None:
        while not released:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # a task stuck in code that ignores cancellation

    async def main() -> None:
        nonlocal released
        ca, _ = pair_configs()
        t = Transport(ca, lambda m: None)
        await t.start()
        stuck = asyncio.create_task(stubborn())
        t._tasks.append(stuck)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.wait_for(t.stop(), 5.0)
        assert loop.time() - start < 3.0
        t2 = Transport(ca, lambda m: None)
        await t2.start()
        t2._tasks.append(stuck)
        stopper = asyncio.create_task(t2.stop())
        await asyncio.sleep(0.05)
        stopper.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stopper
        released = True
        stuck.cancel()
        await asyncio.wait({stuck}, timeout=1.0)
        assert stuck.done()

    asyncio.run(main())
