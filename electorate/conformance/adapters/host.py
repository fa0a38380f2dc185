"""The server side of the protocol, shared by every Python adapter: envelope and dispatch.

A subclass implements the commands on its nodes; this class turns each request into exactly one
reply (``<type>_ok`` or ``error`` with a code) and never lets an exception escape.
"""

from __future__ import annotations

from typing import Any

from electorate.conformance.canonical import JSON, CanonicalError, show
from electorate.conformance.protocol import PROTOCOL


class CommandError(Exception):
    """Raised by a command handler: becomes an ``error`` reply with ``code``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


class Host:
    """Dispatches commands to ``cmd_<type>`` methods; subclasses define them."""

    name = "host"
    implementation = "?"
    capabilities: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # implementation choices (protocol.OPTIONS)
    mutants: tuple[str, ...] = ()  # planted bugs it can run (conformance.mutants)

    def __init__(self) -> None:
        self._reply_id = 0
        self.initialized = False

    def call(self, request: JSON) -> JSON:
        kind = request.get("type")
        msg_id = request.get("msg_id")
        try:
            if not isinstance(kind, str) or not isinstance(msg_id, int):
                raise CommandError("bad_request", "a command needs a string type and int msg_id")
            handler = getattr(self, f"cmd_{kind}", None)
            if handler is None:
                raise CommandError("unsupported", f"unknown command {show(kind)}")
            if kind not in ("hello", "init", "shutdown") and not self.initialized:
                raise CommandError("not_initialized", f"{kind} before init")
            body: JSON = handler(request)
            return self._reply(f"{kind}_ok", msg_id, body)
        except CommandError as e:
            return self._reply("error", msg_id, {"code": e.code, "text": str(e)})
        except (CanonicalError, KeyError, TypeError, ValueError) as e:
            return self._reply("error", msg_id, {"code": "bad_request", "text": str(e)})
        except Exception as e:  # an adapter answers every command, even when it has a bug
            text = f"{type(e).__name__}: {e}"
            return self._reply("error", msg_id, {"code": "internal", "text": text})

    def _reply(self, kind: str, msg_id: Any, body: JSON) -> JSON:
        self._reply_id += 1
        return {"type": kind, "msg_id": self._reply_id, "in_reply_to": msg_id, **body}

    def cmd_hello(self, req: JSON) -> JSON:
        if req.get("protocol") != PROTOCOL:
            raise CommandError(
                "unsupported", f"protocol {show(req.get('protocol'))}; I speak {PROTOCOL}"
            )
        return {
            "protocol": PROTOCOL,
            "implementation": self.implementation,
            "capabilities": list(self.capabilities),
            "options": list(self.options),
            "mutants": list(self.mutants),
            "observables": ["role", "term", "voted_for", "votes_granted", "leader"],
        }

    def cmd_shutdown(self, req: JSON) -> JSON:
        return {}

    def close(self) -> None:
        """Transport hook: nothing to release in process."""
