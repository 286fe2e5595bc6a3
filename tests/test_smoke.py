"""The package imports and the registry converts the seed's sizes (smoke, replaced by tables)."""

import pytest

from reqsolve.units import parse_memory


@pytest.mark.parametrize(("text", "expected"), [("400M", 400_000_000), ("8116MiB", 8510242816)])
def test_parse_memory(text: str, expected: int) -> None:
    assert parse_memory(text) == expected
