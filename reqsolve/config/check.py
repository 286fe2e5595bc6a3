"""Check a node tree against the field description, collecting every problem with its place.

The result is plain data (dicts keyed by field name, lists, ints in bytes/seconds, names as
written) in which a wrong value is simply absent, so the model can still be built and linted
while the problems are reported: a user sees all mistakes of a file at once, not the first.
"""

from __future__ import annotations

import re
from typing import Any

from reqsolve.answers.names import SLURM_NAME_OUTSIDE_RE, SLURM_NAME_RE
from reqsolve.config.nodes import Mapping, Node, Scalar, Sequence
from reqsolve.config.regex import check_features_regex
from reqsolve.config.spec import EXTENSION_PREFIX, Leaf, ListOf, MapOf, Obj, Spec
from reqsolve.errors import InvalidValue, Problem
from reqsolve.tokens import NAME_RULE_HINT, TOKEN_NAME_RE
from reqsolve.units import parse_duration, parse_memory

INVALID: Any = object()

_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_FLOAT_RE = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?")
_MAX_DIGITS = 18  # a whole number written longer is a typo: no count, weight or priority needs more
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
_BARE_NUMBER_RE = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*")

# The one alphabet of Slurm names, shared with SlurmOptions (ASCII only), so that a name the
# loader accepts is never refused later when the options are built.
_SLURM_FORBIDDEN = SLURM_NAME_OUTSIDE_RE
_SLURM_OK = SLURM_NAME_RE
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# Plausible sizes, to suggest a unit for a bare number: (smallest, largest) in bytes
_PER_CPU_RANGE = (2**27, 2**37)  # 128 MiB .. 128 GiB per core
_GPU_RANGE = (2**30, 2**39)  # 1 GiB .. 512 GiB on one GPU
_NODE_RANGE = (2**30, 2**45)  # 1 GiB .. 32 TiB on one node


# aliases that are the correct spelling of a field experimaestro misspelt: typo hints offer them
CORRECT_SPELLINGS = frozenset({"use_memory_constraint"})


def plausible_unit(path: str, text: str) -> str:
    """The unit (``M``, ``G`` or ``T``) that makes a bare number a plausible size for its
    field: ``mem_per_cpu: 4000`` means 4000M (Slurm's DefMemPerCPU is MiB), not 4000G."""
    if path.endswith("mem_per_cpu"):
        low, high = _PER_CPU_RANGE
    elif ".gpu" in path or "gpus[" in path or path.endswith("min_memory"):
        low, high = _GPU_RANGE
    else:
        low, high = _NODE_RANGE
    try:
        number = float(text)
    except ValueError:
        return "G"
    for unit, factor in (("G", 10**9), ("M", 10**6), ("T", 10**12)):
        if low <= number * factor <= high:
            return unit
    return "G"


_LIST_FOR_MAPPING = (
    "write 'name: value' entries without '- ' (e.g. partitions: {gpu: {nodes: [...]}}, or"
    " qos: {short: {max_duration: 2h}})"
)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checker:
    """Walks one document; ``problems`` and ``positions`` fill up as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        # path -> (line, column): the key for a collection under a key, else the value itself
        self.positions: dict[str, tuple[int, int]] = {}
        # every memory size as written: (path, text, line, column), for the units lint rule
        self.memory_texts: list[tuple[str, str, int, int]] = []
        self._memory: dict[str, int] = {}  # text -> bytes: a file repeats a few sizes

    # --- reporting

    def error(
        self, node: Node, path: str, message: str, hint: str | None = None, *, column: int = 0
    ) -> None:
        self.problems.append(
            Problem(self.file, node.line, column or node.column, path, "error", message, hint)
        )

    # --- walking

    def check(self, node: Node, spec: Spec, path: str) -> Any:
        # one dict look-up instead of an isinstance chain: runs for every value of the file
        return _WALKERS[type(spec)](self, node, spec, path)

    def entries(self, node: Mapping, path: str) -> list[tuple[Scalar, Node]]:
        """The key/value pairs of a mapping: keys checked, duplicates refused, ``<<`` merged."""
        explicit: list[tuple[Scalar, Node]] = []
        merged: list[tuple[Scalar, Node]] = []
        seen: dict[str, Scalar] = {}
        for key, value in node.items:
            if not isinstance(key, Scalar):
                self.error(key, path, f"a key must be a name, not {key.describe()}")
                continue
            if key.plain and key.value == "<<":
                sources = value.items if isinstance(value, Sequence) else [value]
                for source in sources:
                    if isinstance(source, Mapping):
                        merged.extend(self.entries(source, path))
                    else:
                        self.error(
                            source,
                            path,
                            f"'<<' merges a mapping, not {source.describe()}",
                            "write '<<: *anchor' where the anchor names a mapping",
                        )
                continue
            first = seen.get(key.value)
            if first is not None:
                self.error(
                    key,
                    join(path, key.value),
                    f"duplicate key '{key.value}' (first at line {first.line})",
                    "remove one of them: YAML would silently keep the last",
                )
                continue
            seen[key.value] = key
            explicit.append((key, value))
        for key, value in merged:
            if key.value not in seen:
                seen[key.value] = key
                explicit.append((key, value))
        return explicit

    def _obj(self, node: Node, spec: Obj, path: str) -> Any:
        if isinstance(node, Scalar) and node.is_null and spec.nullable:
            return None
        if spec.shorthand is not None and isinstance(node, Scalar) and not node.is_null:
            # ``a100: 40GiB`` is short for ``a100: {memory: 40GiB}``
            value = self.check(node, spec.fields[spec.shorthand], path)
            return INVALID if value is INVALID else {spec.shorthand: value}
        if not isinstance(node, Mapping):
            self.error(
                node,
                path,
                f"expected a {spec.title} (a mapping), got {node.describe()}",
                _LIST_FOR_MAPPING if isinstance(node, Sequence) else None,
            )
            return INVALID
        result: dict[str, Any] = {}
        written: dict[str, str] = {}
        aliases, fields, positions = spec.aliases, spec.fields, self.positions
        for key, value in self.entries(node, path):
            if spec.extensions and key.value.startswith(EXTENSION_PREFIX):
                continue  # e.g. ``x-gpu-node: &gpu {...}``, a place to define anchors
            name = aliases.get(key.value, key.value) if aliases else key.value
            child = f"{path}.{key.value}" if path else key.value
            field_spec = fields.get(name)
            if field_spec is None:
                import difflib  # only when a key is unknown

                known = sorted([*spec.fields, *spec.aliases])
                # the field's own name before an alias of it, except an alias that is the
                # correct spelling of a misspelt field: a typo of use_memory_constraint is
                # offered that, not experimaestro's use_memory_contraint
                first = [*spec.fields, *(a for a in spec.aliases if a in CORRECT_SPELLINGS)]
                close = difflib.get_close_matches(
                    key.value, first, n=1, cutoff=0.6
                ) or difflib.get_close_matches(key.value, list(spec.aliases), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
                self.error(key, child, f"unknown key '{key.value}' in a {spec.title}", hint)
                continue
            if name in written:
                self.error(
                    key,
                    child,
                    f"'{key.value}' and '{written[name]}' are the same field, written twice",
                    "keep one of them",
                )
                continue
            written[name] = key.value
            # a scalar is known by its value, a collection (or null) by its key
            if type(value) is Scalar and not value.is_null:
                positions[child] = (value.line, value.column)
            else:
                positions[child] = (key.line, key.column)
            converted = _WALKERS[type(field_spec)](self, value, field_spec, child)
            if converted is not INVALID:
                result[name] = converted
        for name in spec.required:
            if name not in written:
                self.error(node, path, f"missing required key '{name}' in a {spec.title}")
        return result

    def _list(self, node: Node, spec: ListOf, path: str) -> Any:
        if isinstance(node, Scalar) and node.is_null and spec.nullable:
            return []
        if not isinstance(node, Sequence):
            hint = None
            if isinstance(node, Scalar) and node.value:
                # `slurm: 5` is not a list of one 5: say what the items are
                hint = (
                    f"a list of {spec.item.title} mappings, each item on a '- ' line"
                    if isinstance(spec.item, Obj)
                    else f"write [{node.value}]"
                )
            if isinstance(node, Scalar) and node.is_null:
                hint = "write [] for an empty list"
            self.error(node, path, f"expected a list, got {node.describe()}", hint)
            return INVALID
        result: list[Any] = []
        item_spec = spec.item
        walk = _WALKERS[type(item_spec)]
        positions = self.positions
        # hosts and features lists: a well-formed Slurm name is taken as is (as leaf() would)
        slurm_ok = (
            _SLURM_OK.fullmatch
            if type(item_spec) is Leaf and item_spec.kind == "slurm"
            else None
        )
        for index, item in enumerate(node.items):
            child = f"{path}[{index}]"
            positions[child] = (item.line, item.column)
            if slurm_ok is not None and type(item) is Scalar and slurm_ok(item.value):
                result.append(item.value)
                continue
            converted = walk(self, item, item_spec, child)
            if converted is not INVALID:
                result.append(converted)
            elif spec.keep_places:
                result.append(None)
        return result

    def _map(self, node: Node, spec: MapOf, path: str) -> Any:
        if not isinstance(node, Mapping):
            hint = "write {} for an empty mapping" if isinstance(node, Scalar) else None
            if isinstance(node, Sequence):
                hint = _LIST_FOR_MAPPING
            self.error(node, path, f"expected a mapping, got {node.describe()}", hint)
            return INVALID
        result: dict[str, Any] = {}
        for key, value in self.entries(node, path):
            child = join(path, key.value)
            name = self.leaf(key, spec.key, child)
            self.positions[child] = (key.line, key.column)  # an entry is known by its name
            converted = self.check(value, spec.value, child)  # even under a bad name: all problems
            if name is not INVALID and converted is not INVALID:
                result[name] = converted
        return result

    # --- leaves

    def leaf(self, node: Node, spec: Leaf, path: str) -> Any:
        kind = spec.kind
        if not isinstance(node, Scalar):
            self.error(node, path, f"expected {_EXPECTED[kind]}, got {node.describe()}")
            return INVALID
        text = node.value
        try:
            if kind in ("name", "slurm", "token", "text"):
                return self._name(node, kind, path)
            if kind == "bool":
                return self._bool(node, path)
            if kind in ("int", "number", "ratio"):
                return self._number(node, spec, path)
            if node.is_null:
                self.error(node, path, f"expected {_EXPECTED[kind]}, got null")
                return INVALID
            if kind == "memory":
                if node.plain and _BARE_NUMBER_RE.fullmatch(text):
                    unit = plausible_unit(path, text)
                    self.error(
                        node,
                        path,
                        f"memory size '{text}' has no unit (bytes? MiB?)",
                        f"write a unit, e.g. {text.strip()}{unit} (decimal) or "
                        f"{text.strip()}{unit}iB (binary)",
                    )
                    return INVALID
                try:
                    value = self._memory.get(text)
                    if value is None:
                        value = self._memory[text] = parse_memory(text)
                except InvalidValue:
                    if _is_duration(text):
                        message = f"'{text}' is a duration, expected a memory size"
                        self.error(node, path, message, "e.g. 8G")
                        return INVALID
                    raise
                self.memory_texts.append((path, text, node.line, node.column))
                return value
            if kind == "duration":
                try:
                    return parse_duration(text)
                except InvalidValue:
                    if _is_memory(text):
                        message = f"'{text}' is a memory size, expected a duration"
                        self.error(node, path, message, "e.g. 20h")
                        return INVALID
                    raise
            return self._regex(node, path)
        except InvalidValue as exc:
            self.error(node, path, exc.message, exc.hint)
            return INVALID

    def _name(self, node: Scalar, kind: str, path: str) -> Any:
        text = node.value
        if kind == "slurm" and _SLURM_OK.fullmatch(text):  # the common case, one regex
            return text
        if text == "":
            got = "nothing" if node.plain else "an empty string"
            self.error(node, path, f"expected {_EXPECTED[kind]}, got {got}")
            return INVALID
        if _CONTROL_RE.search(text):
            self.error(node, path, "a name cannot hold control characters or line breaks")
            return INVALID
        if kind == "slurm":
            bad = _SLURM_FORBIDDEN.search(text)
            if bad is not None or text.startswith("-"):
                what = repr(bad.group()) if bad is not None else "a leading '-'"
                self.error(
                    node,
                    path,
                    f"'{text}' cannot be a Slurm name: it contains {what}",
                    "Slurm names are letters, digits and _ . - @ + : /",
                )
                return INVALID
        elif kind == "token" and not TOKEN_NAME_RE.fullmatch(text):
            # the one rule of token names: what validate accepts, submit holds
            self.error(node, path, f"'{text}' cannot be a token name", NAME_RULE_HINT)
            return INVALID
        return text

    def _bool(self, node: Scalar, path: str) -> Any:
        if node.plain and node.value in _TRUE:
            return True
        if node.plain and node.value in _FALSE:
            return False
        hint = node.unquote_hint if not node.plain and node.value in _TRUE | _FALSE else None
        self.error(node, path, f"expected true or false, got {node.describe()}", hint)
        return INVALID

    def _number(self, node: Scalar, spec: Leaf, path: str) -> Any:
        text = node.value
        hint = node.unquote_hint if not node.plain else None
        value: int | float
        digits = len(text.replace("_", "").lstrip("+-"))
        if node.plain and digits > _MAX_DIGITS and _INT_RE.fullmatch(text):
            # Python's int refuses text of over 4,300 digits; no count, weight or priority has 19
            self.error(
                node,
                path,
                f"expected {_EXPECTED[spec.kind]}, got a number of {digits} digits",
                "this looks like a typo",
            )
            return INVALID
        if node.plain and _INT_RE.fullmatch(text):
            value = int(text.replace("_", ""))
        elif spec.kind != "int" and node.plain and _FLOAT_RE.fullmatch(text):
            value = float(text.replace("_", ""))
        else:
            if not node.plain and _FLOAT_RE.fullmatch(text) is None:
                hint = None
            self.error(node, path, f"expected {_EXPECTED[spec.kind]}, got {node.describe()}", hint)
            return INVALID
        if spec.kind == "ratio" and not 0 <= value <= 1:
            self.error(
                node, path, f"expected a ratio between 0 and 1, got {text}", "e.g. 0.7 for 70%"
            )
            return INVALID
        if spec.minimum is not None and value < spec.minimum:
            self.error(node, path, f"expected a number ≥ {spec.minimum}, got {text}")
            return INVALID
        if spec.maximum is not None and value > spec.maximum:
            self.error(node, path, f"expected a number ≤ {spec.maximum}, got {text}")
            return INVALID
        return value

    def _regex(self, node: Scalar, path: str) -> Any:
        try:
            check_features_regex(node.value)
        except InvalidValue as exc:
            offset = getattr(exc, "offset", None)
            column = node.column + offset if node.plain and offset is not None else 0
            self.error(node, path, exc.message, exc.hint, column=column)
            return INVALID
        return node.value


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except InvalidValue:
        return False
    return True


def _is_memory(text: str) -> bool:
    try:
        parse_memory(text)
    except InvalidValue:
        return False
    return True


_EXPECTED: dict[str, str] = {
    "name": "a name",
    "slurm": "a Slurm name",
    "token": "a token name",
    "text": "a text",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "memory": "a memory size such as 8G",
    "duration": "a duration such as 20h",
    "ratio": "a ratio between 0 and 1",
    "regex": "a regular expression",
}


_WALKERS: dict[type, Any] = {
    Obj: Checker._obj,
    ListOf: Checker._list,
    MapOf: Checker._map,
    Leaf: Checker.leaf,
}
