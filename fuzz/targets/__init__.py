"""One fuzz target per parser; each module exposes `check(data: bytes) -> None`."""
