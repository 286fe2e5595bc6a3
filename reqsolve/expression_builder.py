"""The values of a requirement expression, built as lark's LALR parser reduces each grammar rule.

:class:`Builder` has one method per rule of ``grammars/requirement.lark``; lark calls it with the
rule's children (tokens, or the :class:`Piece` values of inner rules) and it returns the rule's
:class:`Piece`: a value of :mod:`reqsolve.requirement` and the span it is written at. A value
that is wrong (``cores=0``, ``duration=90:00``, too many alternatives) raises :class:`Located`,
which :func:`reqsolve.parser.parse` turns into an ``InvalidExpression`` pointing at the span.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from reqsolve.errors import InvalidValue, ReqsolveError
from reqsolve.requirement import (
    MAX_CORES,
    MAX_GPUS,
    MAX_NODES,
    MAX_TASKS,
    Accelerator,
    Alternative,
    Cpu,
    Requirement,
    check_cores,
    check_gpu_count,
    check_model,
    check_nodes,
    check_tasks,
    merge,
)
from reqsolve.units import parse_duration, parse_memory

MAX_ALTERNATIVES = 1024
"""``(a|b) & (c|d) & ...`` multiplies alternatives; past this many it is a mistake, not a job."""

_CLOCK_MM_SS = re.compile(r"\d+:\d+")


class Piece:
    """A parsed part of the expression and where it is written.

    (A plain class: a dataclass costs ~1 ms to create at every cold start.)"""

    __slots__ = ("end", "start", "value")

    def __init__(self, value: Any, start: int, end: int) -> None:
        self.value = value
        self.start = start
        self.end = end


class Token(Protocol):
    """What the builder reads of the tokens lark hands it (lark itself stays behind
    :mod:`reqsolve.parser`): their text and where they stand in it."""

    value: str
    start_pos: int | None
    end_pos: int | None


def _start(token: Token) -> int:
    return token.start_pos or 0


def _end(token: Token) -> int:
    return token.end_pos if token.end_pos is not None else _start(token)


class Builder:
    """lark calls the method named after each rule with that rule's children."""

    def alternatives(self, children: list[Piece]) -> Piece:
        if len(children) == 1:  # no '|': the conjunction's requirement is the whole one
            return children[0]
        alternatives: list[Alternative] = []
        for child in children:
            alternatives.extend(child.value.alternatives)
        if len(alternatives) > MAX_ALTERNATIVES:
            raise Located(
                f"expression expands to {len(alternatives)} alternatives "
                f"(at most {MAX_ALTERNATIVES})",
                children[0].start,
                children[-1].end,
                "write fewer alternatives; (a | b) & (c | d) multiplies them",
            )
        return Piece(Requirement(tuple(alternatives)), children[0].start, children[-1].end)

    def conjunction(self, children: list[Piece]) -> Piece:
        start, end = children[0].start, children[-1].end
        combined: tuple[Alternative, ...] = _alternatives_of(children[0].value)
        for child in children[1:]:
            right = _alternatives_of(child.value)
            if len(combined) * len(right) > MAX_ALTERNATIVES:
                raise Located(
                    f"expression expands to {len(combined) * len(right)} alternatives "
                    f"(at most {MAX_ALTERNATIVES})",
                    start,
                    child.end,
                    "write fewer alternatives; (a | b) & (c | d) multiplies them",
                )
            try:
                combined = tuple(merge(a, b) for a in combined for b in right)
            except InvalidValue as error:
                raise Located.from_value(
                    error, start, child.end, "a job asks for at most 1024 GPUs on one node"
                ) from None
        return Piece(Requirement(combined), start, end)

    def group(self, children: list[Any]) -> Piece:
        lpar, inner, rpar = children
        return Piece(inner.value, _start(lpar), _end(rpar))

    def duration(self, children: list[Token]) -> Piece:
        keyword, token = children
        text = token.value
        if _CLOCK_MM_SS.fullmatch(text):
            hours, minutes = text.split(":")
            raise Located(
                f"duration '{text}' is ambiguous (Slurm reads MM:SS, people mean HH:MM)",
                _start(token),
                _end(token),
                f"write {text}:00 for hours and minutes, or {hours}m{minutes}s",
            )
        try:
            seconds = parse_duration(text)
        except InvalidValue as error:
            raise Located.from_value(error, _start(token), _end(token)) from None
        return Piece(Alternative(duration=seconds), _start(keyword), _end(token))

    def nodes(self, children: list[Token]) -> Piece:
        keyword, token = children
        value = self._count(token, "nodes", MAX_NODES, check_nodes)
        return Piece(Alternative(nodes=value), _start(keyword), _end(token))

    def tasks(self, children: list[Token]) -> Piece:
        keyword, token = children
        value = self._count(token, "tasks", MAX_TASKS, check_tasks)
        return Piece(Alternative(tasks=value), _start(keyword), _end(token))

    @staticmethod
    def _count(token: Token, name: str, limit: int, check: Any, example: int = 2) -> int:
        """A whole number >= 1 written after ``cores=``, ``nodes=`` or ``tasks=``, located
        when wrong."""
        text = token.value
        try:
            if not text.lstrip("+-").isdigit():
                raise InvalidValue(f"{name} must be a whole number >= 1, got '{text}'")
            value: int = check(_whole_number(text, f"{name}={text} is over {limit}"))
        except InvalidValue as error:
            raise Located.from_value(
                error, _start(token), _end(token), f"write e.g. {name}={example}"
            ) from None
        return value

    def mem(self, children: list[Token]) -> Piece:
        keyword, token = children
        try:
            value = parse_memory(token.value)
        except InvalidValue as error:
            raise Located.from_value(error, _start(token), _end(token)) from None
        return Piece(("mem", value), _start(keyword), _end(token))

    def cores(self, children: list[Token]) -> Piece:
        keyword, token = children
        value = self._count(token, "cores", MAX_CORES, check_cores, example=4)
        return Piece(("cores", value), _start(keyword), _end(token))

    def model(self, children: list[Token]) -> Piece:
        keyword, token = children
        name = token.value
        if name[:1] in ("'", '"'):
            name = name[1:-1]
        try:
            check_model(name)
        except InvalidValue as error:
            raise Located.from_value(error, _start(token), _end(token)) from None
        return Piece(("model", name), _start(keyword), _end(token))

    def _arguments(self, keyword: Token, args: list[Piece]) -> dict[str, Any]:
        seen: dict[str, Piece] = {}
        for arg in args:
            name, _ = arg.value
            if name in seen:
                raise Located(
                    f"{name}= is given twice in {keyword}(...)",
                    arg.start,
                    arg.end,
                    f"keep only one {name}=; the first one is at column {seen[name].start + 1}",
                )
            seen[name] = arg
        return {name: piece.value[1] for name, piece in seen.items()}

    def cpu(self, children: list[Any]) -> Piece:
        keyword, *args, rpar = children
        values = self._arguments(keyword, args[1:])
        cpu = Cpu(values.get("cores", 1), values.get("mem", 0))
        return Piece(Alternative(cpu=cpu), _start(keyword), _end(rpar))

    def accelerator(self, children: list[Any]) -> Piece:
        keyword = children[0]
        count_token = children[-1] if children[-1].type == "COUNT" else None
        body = children[1:-1] if count_token is not None else children[1:]
        rpar = body[-1]
        values = self._arguments(keyword, body[1:-1])
        end = _end(rpar)
        count = 1
        if count_token is not None:
            end = _end(count_token)
            text = count_token.value
            try:
                if not text.lstrip("+-").isdigit():
                    raise InvalidValue(
                        f"GPU count must be a whole number, got '{text}'", "write e.g. *2"
                    )
                count = check_gpu_count(_whole_number(text, f"{text} GPUs is over {MAX_GPUS}"))
            except InvalidValue as error:
                raise Located.from_value(error, _start(count_token), end) from None
        try:
            gpu = Accelerator(values.get("mem", 0), values.get("model"))
        except InvalidValue as error:
            raise Located.from_value(error, _start(keyword), end) from None
        return Piece(Alternative(gpus=(gpu,) * count), _start(keyword), end)




def _whole_number(text: str, over: str) -> int:
    """The value of a count written with digits, zeros in front (``0004``) changing nothing; a
    value of over 18 digits is refused with the message ``over`` (Python's ``int`` refuses text
    of over 4,300 digits, and no limit has 18)."""
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) <= 18:
        return int(text[0] + digits if text[0] in "+-" else digits)
    if text.startswith("-"):
        return -1  # refused by the check that follows, as any number below 1
    raise InvalidValue(over, "this looks like a typo")


def _alternatives_of(value: Requirement | Alternative) -> tuple[Alternative, ...]:
    return value.alternatives if isinstance(value, Requirement) else (value,)


class Located(ReqsolveError):
    """A mistake found while building values; :func:`parse` adds the text around it."""

    def __init__(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint

    @classmethod
    def from_value(
        cls, error: InvalidValue, start: int, end: int, hint: str | None = None
    ) -> Located:
        """``hint`` is used when the value error has none of its own."""
        return cls(error.message, start, end, error.hint or hint)
