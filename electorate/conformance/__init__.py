"""Conformance suite: judge an implementation against the spec through a language-neutral
adapter protocol (docs/conformance.md)."""
