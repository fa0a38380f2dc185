"""The `electorate` command: one entry point, a subcommand per part of the project."""

from __future__ import annotations

import difflib
import importlib
import os
import signal
import sys

# subcommand -> (module with main(argv), whether argv keeps the subcommand name, summary)
COMMANDS: dict[str, tuple[str, bool, str]] = {
    "check": ("electorate.app.check", False, "model-check the spec (default: 3 servers, election)"),
    "prove": ("electorate.proofs.cli", False, "run the Z3 proofs (all cluster sizes)"),
    "node": ("electorate.impl.cli", True, "run one production node"),
    "status": ("electorate.impl.cli", True, "show a node's role, term, leader and lease"),
    "cluster": (
        "electorate.impl.cli",
        True,
        "run a local cluster of real processes with a live table",
    ),
    "alerts": ("electorate.impl.alerts", False, "print the Prometheus alert rules for nodes"),
    "sim": (
        "electorate.testing.sim",
        False,
        "simulate a cluster of the production core (seeded, replayable)",
    ),
    "conform": ("electorate.conformance.cli", True, "run the conformance suite against an adapter"),
    "validate": ("electorate.validate.cli", False, "check traces of real runs against the spec"),
    "adapter": ("electorate.conformance.cli", True, "run a conformance adapter over stdin/stdout"),
}


def usage() -> str:
    lines = ["usage: electorate [--version] COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<9} {summary}" for name, (_, _, summary) in COMMANDS.items()]
    lines.append("\n`electorate COMMAND --help` for a command's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from electorate import __version__

        print(f"electorate {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"electorate: unknown command {name!r}{hint}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, keep_name, _ = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
        code: int = module.main(args if keep_name else args[1:])
    except ModuleNotFoundError as e:
        print(f"electorate: {name} is not available in this build ({e})", file=sys.stderr)
        return 2
    except ImportError as e:  # e.g. a compiled spec module older than its source
        print(f"electorate: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130  # Ctrl-C: the shell's convention, and no traceback
    except BrokenPipeError:
        return _reader_gone()
    return code


def _reader_gone() -> int:
    """The reader of our output went away (`electorate prove --json | head`): stop quietly
    with the status a process killed by SIGPIPE has (Python ignores that signal, so a write
    raises instead), and point stdout at /dev/null so that flushing it at exit does not
    raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
