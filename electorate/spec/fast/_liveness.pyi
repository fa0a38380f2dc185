class Space:
    """The packed capped quotient of one liveness model (spec/fast/_liveness.c)."""

    def __init__(
        self,
        servers: int,
        links: list[tuple[int, int]],
        prevote: bool,
        check_quorum: bool,
        lease: bool,
    ) -> None: ...
    def successors(self, state: bytes) -> list[tuple[bytes, int]]:
        """Every (successor, instance code) pair of a packed state, each once."""
        ...
