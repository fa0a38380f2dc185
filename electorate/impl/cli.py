"""``electorate node|status|cluster``: ``main(argv)`` with argv[0] the subcommand.

Exit codes: 0 ok, 1 failure (node stopped on an error, refused start-up, endpoint unreachable),
2 usage or configuration error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

from electorate.impl.config import ConfigError, add_node_flags, from_args, parse_addr
from electorate.impl.core import Role
from electorate.impl.runtime import NodeRuntime
from electorate.impl.status import StatusError, fetch_status, format_status
from electorate.impl.storage import StorageError, StorageFatalError

log = logging.getLogger("electorate.node")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="electorate", description="Raft leader election node and tools")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    node = sub.add_parser("node", help="run one node")
    add_node_flags(node)
    node.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    node.add_argument(
        "--trace-file", metavar="PATH", help="append this node's events for `electorate validate`"
    )
    st = sub.add_parser("status", help="print a node's role, term, leader and lease")
    st.add_argument("addr", metavar="HOST:PORT", help="the node's status endpoint")
    st.add_argument("--json", action="store_true", help="print the raw JSON document")
    cl = sub.add_parser("cluster", help="run a local demo cluster with a live table")
    cl.add_argument("--nodes", type=int, default=3)
    cl.add_argument(
        "--base-port", type=int, default=0, help="node i uses BASE+2i and BASE+2i+1 (0: free ports)"
    )
    cl.add_argument("--election-timeout-ms", type=int, default=150)
    cl.add_argument("--heartbeat-ms", type=int, default=15)
    cl.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    cl.add_argument("--data-dir", default=None, help="keep node state here (default: temp)")
    cl.add_argument(
        "--trace-dir", metavar="DIR", help="each node appends its events to DIR/<id>.ndjson"
    )
    return p


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130  # Ctrl-C before the node's own handlers are in place: no traceback


def _main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if args.cmd == "node":
        return _node(args)
    if args.cmd == "status":
        return _status(args)
    from electorate.impl.cluster import (
        run_cluster,  # the demo pulls in rich: load it only when used
    )

    return run_cluster(args)


def _status(args: argparse.Namespace) -> int:
    try:
        addr = parse_addr(args.addr, "status address")
        doc = fetch_status(addr)
    except ConfigError as e:
        print(f"electorate status: {e}", file=sys.stderr)
        return 2
    except StatusError as e:
        print(f"electorate status: {e}", file=sys.stderr)
        return 1
    print(json.dumps(doc, indent=2, sort_keys=True) if args.json else format_status(doc))
    return 0


def _node(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        config = from_args(args)
        for warning in config.validate():
            print(f"electorate node: warning: {warning}", file=sys.stderr)
    except ConfigError as e:
        print(f"electorate node: {e}", file=sys.stderr)
        return 2
    try:
        node = NodeRuntime(config, trace=args.trace_file)
    except StorageError as e:
        print(f"electorate node: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # the core's own config check
        print(f"electorate node: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the trace file cannot be opened
        print(f"electorate node: --trace-file {args.trace_file}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(node))
    except StorageFatalError as e:
        print(f"electorate node: stopped: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"electorate node: {e}", file=sys.stderr)
        return 1
    return 0


async def _serve(node: NodeRuntime) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    shutdown: list[asyncio.Task[None]] = []

    def on_term() -> None:
        if not shutdown:
            shutdown.append(loop.create_task(_graceful_exit(node, stop)))

    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, on_term)
    if node.config.demo_controls:
        loop.add_signal_handler(signal.SIGUSR1, lambda: _toggle_isolation(node))
    try:
        await node.run(stop)
    finally:
        _release_signals(loop)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _release_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Hand SIGTERM/SIGINT back to the OS default (end the process, silently) while the loop
    still runs. Left to asyncio.run, the loop closes its wakeup pipe before it removes its
    handlers, and a signal in between prints "Exception ignored ... Bad file descriptor"."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        for sig in (*_STOP_SIGNALS, signal.SIGUSR1):
            loop.remove_signal_handler(sig)
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


async def _graceful_exit(node: NodeRuntime, stop: asyncio.Event) -> None:
    """SIGTERM: a leader hands over (TimeoutNow) and waits briefly for a successor, then exits."""
    if node.snapshot.role is Role.LEADER:
        log.info("SIGTERM: transferring leadership before exit")
        node.call(lambda: node.core.transfer_leadership(None))
        budget = 2 * node.config.election_timeout_ms / 1000.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while loop.time() < deadline and node.snapshot.role is Role.LEADER:
            await asyncio.sleep(node.tick_s / 2)
        # Give the transport a moment to flush the last messages to the successor.
        await asyncio.sleep(node.tick_s)
    stop.set()


def _toggle_isolation(node: NodeRuntime) -> None:
    isolate = not node.transport.isolated
    node.set_isolated(isolate)
    log.warning("demo control: node %s", "isolated" if isolate else "rejoined")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
