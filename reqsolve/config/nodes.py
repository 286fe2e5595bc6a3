"""The YAML document as a small tree of positioned nodes, independent of PyYAML.

The loader builds these from the parser's events (it is the only module that imports ``yaml``);
the checker walks them. Scalars keep their text *as written* and whether it was quoted, so the
checker decides what a value is from where it stands: a partition called ``on`` or ``3080`` stays
that string, while ``disabled: true`` is a boolean.
"""

from __future__ import annotations

NULL_TEXTS = frozenset({"", "~", "null", "Null", "NULL"})

# Plain classes with __slots__ rather than dataclasses: nodes compare by identity and are only
# built by the loader, and each dataclass costs ~1 ms of a cold ``reqsolve find`` to create.


class Scalar:
    __slots__ = ("column", "line", "plain", "size", "tagged", "value")

    def __init__(
        self, value: str, plain: bool, line: int, column: int, tagged: bool = False, size: int = 1
    ) -> None:
        self.value = value
        self.plain = plain  # written without quotes and without an explicit ``!!str`` tag
        self.line = line  # 1-based
        self.column = column  # 1-based
        self.tagged = tagged  # made a string by an explicit ``!!str`` tag rather than quotes
        self.size = size

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}, plain={self.plain}, line={self.line}, column={self.column})"

    @property
    def unquote_hint(self) -> str:
        return "remove the !!str tag" if self.tagged else "remove the quotes"

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in NULL_TEXTS

    def describe(self) -> str:
        if self.is_null:
            return "null"
        if not self.plain:
            return f"the string '{self.value}'"
        return f"'{self.value}'"


class Sequence:
    __slots__ = ("column", "items", "line", "size")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.items: list[Node] = []
        self.size = 1

    def __repr__(self) -> str:
        return f"Sequence(line={self.line}, column={self.column}, {len(self.items)} items)"

    def describe(self) -> str:
        return "a list"


class Mapping:
    __slots__ = ("column", "items", "line", "size")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.items: list[tuple[Node, Node]] = []
        self.size = 1

    def __repr__(self) -> str:
        return f"Mapping(line={self.line}, column={self.column}, {len(self.items)} items)"

    def describe(self) -> str:
        return "a mapping"


Node = Scalar | Sequence | Mapping
