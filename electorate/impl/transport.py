"""TCP transport: length-prefixed, versioned, HMAC-authenticated frames between known peers.

Each node dials every peer once for its outbound messages (connections are one-way). On accept,
the acceptor sends a challenge frame carrying a fresh random nonce; every later frame on that
connection carries ``HMAC-SHA256(secret, nonce || seq || header || payload)`` where ``seq`` counts
frames from 1. A frame from a replayed or spliced connection therefore fails its MAC. Frame 1 is
a hello naming the dialer and its cluster; it must arrive within the handshake timeout, and every
later message must come from the node the hello named.

Frame: header ``magic(4) version(1) kind(1) reserved(2) length(4)``, then ``length`` payload
bytes (JSON of one message), then the 32-byte MAC. A malformed, oversized or unauthenticated frame,
or a message from an unknown peer, another cluster or for another node, closes that connection with
a logged reason; nothing reaches the node, so its state is never affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import socket
import ssl
import struct
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from electorate.impl.config import NodeConfig, TlsConfig
from electorate.impl.messages import (
    Message,
    MessageError,
    MessageRangeError,
    decode_message,
    encode_message,
)

log = logging.getLogger("electorate.transport")

MAGIC = b"ELEC"
VERSION = 1
KIND_CHALLENGE = 0
KIND_MESSAGE = 1
KIND_HELLO = 2
HEADER = struct.Struct(">4sBBHI")
MAC_LEN = 32
NONCE_LEN = 16
HANDSHAKE_TIMEOUT_S = 2.0
OUTBOX_LIMIT = 256
STOP_TIMEOUT_S = 1.0


class FrameError(Exception):
    """A frame was rejected; ``reason`` is a short tag, the message says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _mac(secret: bytes, nonce: bytes, seq: int, header: bytes, payload: bytes) -> bytes:
    h = hmac.new(secret, nonce, hashlib.sha256)
    h.update(seq.to_bytes(8, "big"))
    h.update(header)
    h.update(payload)
    return h.digest()


def build_frame(secret: bytes, nonce: bytes, seq: int, kind: int, payload: bytes) -> bytes:
    """One authenticated frame (also used by tests to craft valid and invalid frames)."""
    header = HEADER.pack(MAGIC, VERSION, kind, 0, len(payload))
    return header + payload + _mac(secret, nonce, seq, header, payload)


async def read_frame(
    reader: asyncio.StreamReader, secret: bytes, nonce: bytes, seq: int, max_bytes: int
) -> tuple[int, bytes]:
    """Read and verify one frame; FrameError on any defect, IncompleteReadError on EOF."""
    header = await reader.readexactly(HEADER.size)
    magic, version, kind, _reserved, length = HEADER.unpack(header)
    if magic != MAGIC:
        raise FrameError("bad-magic", f"not an electorate frame (starts {magic!r})")
    if version != VERSION:
        raise FrameError("bad-version", f"frame version {version}, this node speaks {VERSION}")
    if length > max_bytes:
        raise FrameError("oversized", f"frame of {length} bytes exceeds the {max_bytes} limit")
    payload = await reader.readexactly(length)
    mac = await reader.readexactly(MAC_LEN)
    if not hmac.compare_digest(mac, _mac(secret, nonce, seq, header, payload)):
        raise FrameError("bad-mac", "authentication failed (wrong secret, replay or tampering)")
    return kind, payload


def server_ssl(tls: TlsConfig) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tls.ca))
    ctx.load_cert_chain(str(tls.cert), str(tls.key))
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the dialer must present a CA-signed cert
    return ctx


def client_ssl(tls: TlsConfig) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca))
    ctx.load_cert_chain(str(tls.cert), str(tls.key))
    # Peers are addressed by IP; trust comes from the private CA, not from host names.
    ctx.check_hostname = False
    return ctx


def _tune_socket(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 2)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


@dataclass
class TransportStats:
    sent: int = 0
    received: int = 0
    dropped_outbox: int = 0
    dropped_injected: int = 0
    dropped_unencodable: int = 0
    send_task_restarts: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class Network(Protocol):
    """How a node reaches its peers: ``send`` never blocks; verified inbound messages go to the
    ``deliver`` callback the network was built with.

    ``Transport`` is the real one (TCP); ``electorate.testing.fakes.MemoryNetwork`` builds
    in-process test doubles.
    """

    stats: TransportStats
    isolated: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def send(self, msg: Message) -> None: ...


class Transport:
    """Sends messages to peers and delivers verified inbound ones to ``deliver``.

    Must be started and used on one event loop. ``send`` never blocks: each peer has a bounded
    outbox drained by its own connection task (reconnecting with jittered exponential backoff).
    """

    def __init__(self, config: NodeConfig, deliver: Callable[[Message], None]) -> None:
        self.config = config
        self.deliver = deliver
        self.stats = TransportStats()
        self.isolated = False  # demo control: drop everything in and out
        self._rng = random.Random(config.seed)
        # Queued (enqueue time, message); a message older than one election timeout is dropped
        # when its turn comes, as a lossy network would: a burst of stale heartbeats helps nobody.
        self._max_age = config.election_timeout_ms / 1000.0
        self._outboxes: dict[str, deque[tuple[float, Message]]] = {
            p: deque(maxlen=OUTBOX_LIMIT) for p in config.peers
        }
        self._wakeups = {p: asyncio.Event() for p in config.peers}
        self._heard_from = {p: asyncio.Event() for p in config.peers}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self.handshake_timeout = HANDSHAKE_TIMEOUT_S
        # Peers hold one inbound connection each (two while one reconnects); the rest is slack
        # for probes. More than that is refused so that strangers cannot exhaust the node.
        self.max_inbound = 2 * len(config.peers) + 4

    async def start(self) -> None:
        tls = server_ssl(self.config.tls) if self.config.tls else None
        host, port = self.config.listen
        self._server = await asyncio.start_server(self._serve, host, port, ssl=tls)
        for peer in self.config.peers:
            self._tasks.append(asyncio.create_task(self._dial_loop(peer), name=f"dial-{peer}"))

    async def stop(self) -> None:
        """Close the listener and every connection, and end the sending tasks.

        Waits at most ``STOP_TIMEOUT_S`` for the tasks (a task stuck in uncancellable code is
        logged and left behind, never waited on forever), and never swallows the caller's own
        cancellation: ``asyncio.wait`` re-raises it.
        """
        if self._server is not None:
            self._server.close()
        for w in list(self._conns):
            w.close()
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
            for t in stuck:
                log.warning("%s: task %s did not stop in time", self.config.node_id, t.get_name())
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT_S)

    def send(self, msg: Message) -> None:
        box = self._outboxes.get(msg.dst)
        if box is None:
            log.warning("not sending to unknown peer %r", msg.dst)
            return
        if self.isolated:
            self.stats.dropped_injected += 1
            return
        if self.config.drop_rate and self._rng.random() < self.config.drop_rate:
            self.stats.dropped_injected += 1
            return
        if len(box) == box.maxlen:
            self.stats.dropped_outbox += 1  # the oldest message is the least useful one
        box.append((time.monotonic(), msg))
        self._wakeups[msg.dst].set()

    # -- inbound -------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _tune_socket(writer)
        peer = writer.get_extra_info("peername")
        if len(self._conns) >= self.max_inbound:
            self.stats.rejected["too-many-connections"] += 1
            log.warning("refusing connection from %s: %d already open", peer, len(self._conns))
            writer.close()
            return
        self._conns.add(writer)
        try:
            nonce = os.urandom(NONCE_LEN)
            writer.write(build_frame(self.config.secret, b"challenge", 0, KIND_CHALLENGE, nonce))
            await writer.drain()
            src = await self._read_hello(reader, nonce)
            seq = 1
            while True:
                seq += 1
                kind, payload = await read_frame(
                    reader, self.config.secret, nonce, seq, self.config.max_frame_bytes
                )
                if kind != KIND_MESSAGE:
                    raise FrameError("bad-kind", f"unexpected frame kind {kind}")
                self._accept(self._parse(payload), src)
        except FrameError as e:
            self._reject(e.reason, f"closing connection from {peer}: {e}")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass  # peer went away; nothing was delivered from a partial frame
        except Exception as e:
            # Every frame this node cannot handle is refused and counted, never a traceback
            # in the log; the reason says it was not foreseen, the line says what it was.
            self._reject("internal-error", f"closing connection from {peer}: {_describe(e)}")
        finally:
            self._conns.discard(writer)
            writer.close()

    def _reject(self, reason: str, line: str) -> None:
        self.stats.rejected[reason] += 1
        log.warning("%s", line)

    async def _read_hello(self, reader: asyncio.StreamReader, nonce: bytes) -> str:
        """The first frame must be an authenticated hello naming a known peer, and soon."""
        try:
            kind, payload = await asyncio.wait_for(
                read_frame(reader, self.config.secret, nonce, 1, self.config.max_frame_bytes),
                self.handshake_timeout,
            )
        except TimeoutError:
            raise FrameError("no-hello", "no authenticated hello in time") from None
        if kind != KIND_HELLO:
            raise FrameError("no-hello", f"first frame is of kind {kind}, not a hello")
        hello = _json(payload)
        if not isinstance(hello, dict) or set(hello) != {"cluster", "node"}:
            raise FrameError("bad-payload", "a hello is a JSON object with cluster and node")
        cluster, src = hello["cluster"], hello["node"]
        if not isinstance(cluster, str) or not isinstance(src, str):
            raise FrameError("bad-payload", "hello: cluster and node must be strings")
        if cluster != self.config.cluster:
            raise FrameError("wrong-cluster", f"hello from cluster {cluster!r}")
        if src not in self.config.peers:
            raise FrameError("unknown-peer", f"hello from unknown node {src[:64]!r}")
        return src

    def _parse(self, payload: bytes) -> Message:
        try:
            return decode_message(_json(payload))
        except MessageRangeError as e:
            raise FrameError("out-of-range", str(e)) from None
        except MessageError as e:
            raise FrameError("bad-message", str(e)) from None

    def _accept(self, msg: Message, src: str) -> None:
        c = self.config
        if msg.cluster != c.cluster:
            raise FrameError("wrong-cluster", f"message for cluster {msg.cluster!r}")
        if msg.src != src:
            raise FrameError("spoofed-source", f"message from {msg.src!r} on {src!r}'s connection")
        if msg.dst != c.node_id:
            raise FrameError("wrong-destination", f"message for {msg.dst!r}")
        if self.isolated:  # loss injection (drop_rate) is applied once, on the sending side
            self.stats.dropped_injected += 1
            return
        self.stats.received += 1
        self._heard_from[msg.src].set()
        self.deliver(msg)

    # -- outbound ------------------------------------------------------------------------------

    async def _dial_loop(self, peer: str) -> None:
        failures = 0
        # Also checked, not only cancelled: asyncio.wait_for of Python 3.11 can swallow a
        # cancellation that races with its inner future, and this loop would run on.
        while not self._stopped:
            connected = False
            try:
                connected = await self._connect_and_pump(peer)
            except asyncio.CancelledError:
                raise
            except FrameError as e:
                log.warning("peer %s rejected: %s", peer, e)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ssl.SSLError):
                pass  # down or restarting: retry below
            except Exception as e:
                # A sending task must never die silently: the peer would look down forever.
                self.stats.send_task_restarts += 1
                log.error("sending to %s failed (%s); reconnecting", peer, _describe(e))
            failures = 1 if connected else failures + 1
            heard = self._heard_from[peer]
            heard.clear()
            # Retry after the backoff, or at once when the peer shows it is back by dialing us.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(heard.wait(), self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        # Jittered exponential backoff from half a heartbeat up to a quarter of the minimum
        # election timeout: a restarted peer must be reachable again well before anyone's
        # election timer fires, and a refused connect costs next to nothing.
        base = self.config.heartbeat_ms / 2000.0
        cap_s = min(1.0, self.config.election_timeout_ms / 4000.0)
        cap: float = min(cap_s, base * 2.0 ** min(failures, 10))
        return cap * (0.5 + self._rng.random())

    async def _connect_and_pump(self, peer: str) -> bool:
        """Dial ``peer`` and send its outbox until the connection fails; True if it was up."""
        host, port = self.config.peers[peer]
        tls = client_ssl(self.config.tls) if self.config.tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls), HANDSHAKE_TIMEOUT_S
        )
        _tune_socket(writer)
        try:
            kind, nonce = await asyncio.wait_for(
                read_frame(reader, self.config.secret, b"challenge", 0, NONCE_LEN),
                HANDSHAKE_TIMEOUT_S,
            )
            if kind != KIND_CHALLENGE or len(nonce) != NONCE_LEN:
                raise FrameError("bad-challenge", "peer sent no valid challenge")
            hello = json.dumps({"cluster": self.config.cluster, "node": self.config.node_id})
            writer.write(build_frame(self.config.secret, nonce, 1, KIND_HELLO, hello.encode()))
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await self._pump(peer, nonce, reader, writer)
            return True
        finally:
            writer.close()

    async def _pump(
        self, peer: str, nonce: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        box, wake, seq = self._outboxes[peer], self._wakeups[peer], 1  # 1 was the hello
        # The acceptor never writes after its challenge: a completed read means it closed.
        eof = asyncio.ensure_future(reader.read(1))
        try:
            while True:
                waiter = asyncio.ensure_future(wake.wait())
                done, _ = await asyncio.wait({waiter, eof}, return_when=asyncio.FIRST_COMPLETED)
                if eof in done:
                    waiter.cancel()
                    return
                wake.clear()
                while box:
                    queued, msg = box.popleft()
                    if time.monotonic() - queued > self._max_age:
                        self.stats.dropped_outbox += 1
                        continue
                    payload = _encode(msg)
                    if payload is None:
                        self.stats.dropped_unencodable += 1
                        continue
                    seq += 1
                    writer.write(build_frame(self.config.secret, nonce, seq, KIND_MESSAGE, payload))
                    self.stats.sent += 1
                await writer.drain()
        finally:
            eof.cancel()


def _json(payload: bytes) -> object:
    """Parse a frame's JSON payload; FrameError for bytes that are not JSON or hold a number
    too long to parse (Python refuses integers of more than 4,300 digits)."""
    try:
        return json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FrameError("bad-payload", f"payload is not JSON: {e}") from None
    except RecursionError:
        raise FrameError("bad-payload", "payload is nested too deeply") from None
    except ValueError as e:
        raise FrameError("out-of-range", f"payload holds an unparsable number: {e}") from None


def _encode(msg: Message) -> bytes | None:
    """The frame payload of ``msg``, or None (logged) if it cannot be encoded."""
    try:
        return json.dumps(encode_message(msg), separators=(",", ":")).encode()
    except (ValueError, TypeError) as e:
        log.error("not sending %s to %s: cannot encode it (%s)", type(msg).__name__, msg.dst, e)
        return None


def _describe(e: BaseException) -> str:
    """One line naming an unexpected error, for logs that must not carry a traceback."""
    text = str(e).splitlines()[0][:200] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
