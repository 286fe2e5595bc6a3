"""The YAML document as a small tree of positioned nodes, independent of PyYAML.

The loader builds these from the parser's events (it is the only module that imports ``yaml``);
the checker walks them. Scalars keep their text *as written* and whether it was quoted, so the
checker decides what a value is from where it stands: a partition called ``on`` or ``3080`` stays
that string, while ``disabled: true`` is a boolean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NULL_TEXTS = frozenset({"", "~", "null", "Null", "NULL"})


@dataclass(slots=True, eq=False)
class Scalar:
    value: str
    plain: bool  # written without quotes and without an explicit ``!!str`` tag
    line: int  # 1-based
    column: int  # 1-based
    tagged: bool = False  # made a string by an explicit ``!!str`` tag rather than quotes
    size: int = 1

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


@dataclass(slots=True, eq=False)
class Sequence:
    line: int
    column: int
    items: list[Node] = field(default_factory=list)
    size: int = 1

    def describe(self) -> str:
        return "a list"


@dataclass(slots=True, eq=False)
class Mapping:
    line: int
    column: int
    items: list[tuple[Node, Node]] = field(default_factory=list)
    size: int = 1

    def describe(self) -> str:
        return "a mapping"


Node = Scalar | Sequence | Mapping
