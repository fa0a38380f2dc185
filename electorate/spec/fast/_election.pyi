from typing import Any

from numpy.typing import NDArray

Buffer = bytes | NDArray[Any]

Fields = tuple[
    tuple[int, ...],
    tuple[int, ...],
    tuple[int, ...],
    tuple[int, ...],
    tuple[int, ...],
    tuple[tuple[int, int, int, int, int, int], ...],
]

class Space:
    """The packed election model of one Params (spec/fast/_election.c)."""

    def __init__(
        self,
        servers: int,
        max_term: int,
        max_msgs: int,
        bugs: int,
        invariants: bytes,
        negated: bytes,
        sometimes: bytes,
        symmetry: bool,
    ) -> None: ...
    @property
    def words(self) -> int: ...
    def pack(
        self,
        terms: tuple[int, ...],
        roles: tuple[int, ...],
        voted: tuple[int, ...],
        resp: tuple[int, ...],
        granted: tuple[int, ...],
        messages: tuple[tuple[int, int, int, int, int, int], ...],
    ) -> bytes: ...
    def unpack(self, row: Buffer) -> Fields: ...
    def key(self, row: Buffer) -> bytes: ...
    def fingerprint(self, row: Buffer) -> int: ...
    def check(self, row: Buffer) -> tuple[tuple[bool, ...], tuple[bool, ...], bool]: ...
    def successors(self, row: Buffer) -> list[bytes]: ...
    def expand(
        self, rows: Buffer
    ) -> tuple[bytes, bytes, bytes, bytes, int, tuple[int, bytes, int] | None, int]: ...
