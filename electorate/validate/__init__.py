"""Trace validation: check the event logs of real runs against the spec.

- `tracefile`: the NDJSON event format (one JSON Schema, shipped in `schemas/`), the writer any
  implementation can call, and the strict reader (one-line errors with file and line);
- `mapping`: a trace's nodes, features and messages in the spec's terms;
- `match`: the spec actions that may explain one step of one node (the refinement mapping);
- `search`: the BFS over spec states consistent with the trace so far, and its verdict;
- `rules`: named safety rules checked on the events themselves (for the failure message);
- `report`, `tla`, `cli`: the verdict as text or JSON, the matched behaviour as a TLA+ module
  for TLC, and `electorate validate`.

The production node writes traces with `electorate.impl.tracelog`; docs/trace-validation.md
describes the format, the abstraction (what is not checked) and the figures.
"""
