"""Reference adapters: the implementation (in process and as a subprocess) and the spec."""
