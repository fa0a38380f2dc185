"""Conformance suite: judge an implementation against the spec through a language-neutral
adapter protocol (docs/conformance.md).

- ``protocol``, ``canonical``, ``schemas/``: the wire (commands, replies, canonical messages);
- ``model``, ``compose``, ``observe``: what a step may do in the spec (the action table per
  feature set, the allowed compositions) and the refinement mapping;
- ``harness``: one session (spec, network, clocks) driving one adapter, the checks per step;
- ``coverage``, ``machine``, ``minimize``, ``script``, ``bundle``: coverage targets, the steered
  Hypothesis search, delta debugging, replayable scripts, failure bundles;
- ``suite``, ``cli``, ``pytest_plugin``: a run (stored scenarios, levels, search), the
  ``electorate conform`` command, the pytest fixture;
- ``registry``, ``mutants``, ``adapters/``: built-in adapters, the mutant catalogue, the
  adapters themselves.
"""
