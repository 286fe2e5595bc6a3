"""The one exception tree of reqsolve, and the rendering of a mistake under its source text.

Every error a user can cause derives from :class:`ReqsolveError`, so a caller (or the CLI) can
catch one class and be sure nothing else escapes from bad input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range ``[start, end)`` in an expression, 0-based."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span {self.start}..{self.end}")

    @property
    def column(self) -> int:
        """1-based column of the first character, as editors show it."""
        return self.start + 1


CARET_WINDOW = 100  # characters of a long line shown around a caret


def caret_line(text: str, span: Span) -> str:
    """The source line followed by ``~~~^`` under the span (the caret marks its last character).

    Multi-line text shows only the line holding the start of the span.
    """
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    start = span.start - line_start
    end = min(span.end, line_end) - line_start
    if len(line) > CARET_WINDOW:
        # a window around the span, not 10,000 characters of one line
        left = max(0, min(start - CARET_WINDOW // 3, len(line) - CARET_WINDOW))
        right = left + CARET_WINDOW
        shown = ("…" if left else "") + line[left:right] + ("…" if right < len(line) else "")
        offset = left - (1 if left else 0)
        line, start, end = shown, start - offset, min(end, right) - offset
    width = max(end - start, 1)
    marker = " " * start + "~" * (width - 1) + "^"
    return f"    {visible(line)}\n    {marker}"


def visible(text: str) -> str:
    """``text`` with each control character shown as its Unicode control picture (U+0001 as
    ␁, DEL as ␡) and other invisible characters as ⍰: one column each, so a caret under the
    text still points at the right place."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _picture(c) for c in text)


def _picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟
    return "\u2421" if code == 0x7F else "\u2370"  # ␡, or ⍰ for an invisible format character


class ReqsolveError(Exception):
    """Root of every error reqsolve raises on purpose."""


class InvalidExpression(ReqsolveError, ValueError):
    """A requirement expression that cannot be understood; knows where the mistake is."""

    def __init__(self, message: str, text: str, span: Span, hint: str | None = None) -> None:
        self.message = message
        self.text = text
        self.span = span
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.message, caret_line(self.text, self.span)]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class InvalidValue(ReqsolveError, ValueError):
    """A size, duration or count that is wrong in itself (no expression around it).

    The parser and the config loader turn it into an :class:`InvalidExpression` or a
    :class:`Problem` with a position; builders called from Python raise it as it is.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nhint: {hint}")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in a launcher file: where, how bad, what, and how to fix it."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # YAML path such as ``slurm[0].partitions.gpu.configuration.gpu.memory``
    severity: str  # "error" or "warning"
    message: str
    hint: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
        }
        if self.hint is not None:
            data["hint"] = self.hint
        return data


class ConfigError(ReqsolveError):
    """A launcher file that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], summary: str | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        shown = errors or list(self.problems)
        if summary is None:
            if shown:
                first = shown[0]
                where = f"{first.path}: " if first.path else ""  # a whole-file problem has none
                summary = f"{first.file}:{first.line}:{first.column}: {where}{first.message}"
                if len(shown) > 1:
                    summary += f" (and {len(shown) - 1} more)"
            else:
                summary = "invalid launcher file"
        super().__init__(summary)


FAR = 1 << 30  # the distance of a launcher that could not be used at all (discovery failed)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one candidate does not answer, in numbers: the first unmet condition and how far
    the candidate is from answering.

    ``stage`` is how far the checks went (an index of ``reqsolve.matching.STAGES``: 0
    duration, 1 cores, 2 memory, 3 mem_per_cpu, 4 min_gpu, 5 gpu_count, 6 gpus; 7 for a
    candidate that fits but was dropped as unsound; -1 for a launcher that could not be used);
    ``asked`` what the alternative asked there and ``limit`` the capacity that fell short
    (bytes, seconds, cores or GPUs; 0 where there is none); ``distance`` the number of
    conditions unmet and the sum of their relative shortfalls (docs/matching.md, "No answer").
    The default is a launcher that could not be used: it comes after every candidate.
    """

    stage: int = -1
    asked: int = 0
    limit: int = 0
    distance: tuple[int, float] = (FAR, 0.0)

    @property
    def closeness(self) -> tuple[int, float, int, int]:
        """The sort key of "closest" (smallest first): fewest unmet conditions, smallest
        relative shortfall, then — on a tie — the checks that went furthest (a node whose
        GPUs are of the wrong model is closer to a GPU job than a node without GPUs) and the
        largest capacity where it fell short."""
        unmet, shortfall = self.distance
        return (unmet, round(shortfall, 9), -self.stage, -self.limit)


UNUSABLE = Refusal()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one candidate did not satisfy one alternative: where, the structured ``reason``
    (bytes and seconds, for programs), the ``detail`` a person reads (units as asked) and the
    :class:`Refusal` in numbers."""

    alternative: int
    launcher: str
    partition: str | None
    group: int | None
    qos: str | None
    account: str | None
    reason: str
    code: str = "unmet"
    detail: str = field(default="", compare=False)
    refusal: Refusal = field(default=UNUSABLE, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "alternative": self.alternative,
            "launcher": self.launcher,
            "partition": self.partition,
            "group": self.group,
            "qos": self.qos,
            "account": self.account,
            "reason": self.reason,
            "code": self.code,
        }


def closest(reasons: Iterable[Reason]) -> Reason | None:
    """The candidate a person would change least (:attr:`Refusal.closeness`), the first on a
    tie; None without reasons (docs/matching.md, "No answer")."""
    return min(reasons, key=_closeness, default=None)


def _closeness(reason: Reason) -> tuple[int, float, int, int]:
    return reason.refusal.closeness


class LauncherNotFoundError(ReqsolveError, LookupError):
    """No launcher satisfies any alternative; ``reasons`` has one entry per candidate tried,
    :attr:`closest` is the one the message names."""

    def __init__(
        self,
        reasons: list[Reason] | tuple[Reason, ...],
        message: str | None = None,
        closest_reason: Reason | None = None,
    ) -> None:
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        self._closest = closest_reason
        if message is None:
            if self.reasons:
                best = self.reasons[0]
                where = best.launcher + (f"/{best.partition}" if best.partition else "")
                message = f"no launcher satisfies the requirement; e.g. {where}: {best.reason}"
            else:
                message = "no launcher satisfies the requirement: no launcher is eligible"
        super().__init__(message)

    @property
    def closest(self) -> Reason | None:
        """The reason of the candidate a person would change least (:func:`closest`; the one
        ``reqsolve find``'s message names), None when no candidate was tried."""
        if self._closest is None:
            self._closest = closest(self.reasons)
        return self._closest

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reasons, str(self), self.closest))


class SlurmQueryError(ReqsolveError):
    """A Slurm command run for discovery or submission failed; says which, how, and its stderr."""

    def __init__(
        self,
        command: list[str] | tuple[str, ...],
        message: str,
        *,
        returncode: int | None = None,
        stderr: str = "",
        timed_out: bool = False,
    ) -> None:
        self.command = tuple(command)
        self.message = message  # what went wrong, without the command, status or stderr
        self.returncode = returncode
        self.stderr = stderr
        self.timed_out = timed_out
        text = f"{' '.join(self.command)}: {message}"
        if returncode is not None:
            text += f" (exit status {returncode})"
        if stderr.strip():
            text += f"\nstderr: {stderr.strip()[:2000]}"
        super().__init__(text)
