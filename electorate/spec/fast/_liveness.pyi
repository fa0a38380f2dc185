CUT: int  # an instance code's flag: the successor is outside the exact quotient's span

class Space:
    """The packed quotient of one liveness model (spec/fast/_liveness.c): the capped one, or
    with a span the exact one."""

    def __init__(
        self,
        servers: int,
        links: list[tuple[int, int]],
        prevote: bool,
        check_quorum: bool,
        lease: bool,
        span: int = 0,
    ) -> None: ...
    def successors(self, state: bytes) -> list[tuple[bytes, int]]:
        """Every (successor, instance code) pair of a packed state, each once (code | CUT:
        the successor is outside the span)."""
        ...
