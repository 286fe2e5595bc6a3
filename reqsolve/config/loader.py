"""Read a launcher file safely and completely: every problem, with file, line and column.

This is the only module that imports PyYAML. It does not let PyYAML build Python objects: it
reads the parser's events and builds a small positioned tree (:mod:`reqsolve.config.nodes`), so

- nothing but plain mappings, lists and scalars can come out of a file (safe loading),
- duplicate keys are seen (PyYAML's constructor silently keeps the last one),
- every value keeps its line and column, and its text as written (``on``, ``3080`` and ``null``
  stay names where names are expected; YAML 1.1 booleans and numbers do not leak into them),
- size, nesting depth and alias expansion are bounded before any work proportional to them
  (a "billion laughs" document is refused after reading its few lines).

``tokens.yaml`` and ``connectors.yaml`` beside the file are read too, as experimaestro does.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from reqsolve.config.build import build_connectors, build_counters, build_launchers
from reqsolve.config.check import Checker
from reqsolve.config.lint import lint
from reqsolve.config.model import LauncherFile
from reqsolve.config.nodes import Mapping, Node, Scalar, Sequence
from reqsolve.config.spec import CONNECTORS, LAUNCHER_FILE, TOKENS_FILE, Obj
from reqsolve.config.trust import not_regular
from reqsolve.errors import ConfigError, Problem
from reqsolve.garbage_collector import collector_paused

MAX_FILE_BYTES = 8 * 2**20
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 250_000  # values after alias expansion, the whole document
MAX_ALIASED_NODES = 100_000  # values reached through aliases (anchors share blocks, not data)

_Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_STR_TAG = "tag:yaml.org,2002:str"
_ALLOWED_TAGS = frozenset(
    {
        None,
        "!",
        _STR_TAG,
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    }
)


class _Refused(Exception):
    """Stops composing; carries the problem to report."""

    def __init__(self, line: int, column: int, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.line, self.column, self.message, self.hint = line, column, message, hint


def read_text(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    """The file's text, or the problem that prevents reading it (size, encoding, tabs)."""

    def refuse(line: int, column: int, message: str, hint: str | None = None) -> Problem:
        return Problem(file, line, column, "", "error", message, hint)

    try:
        # opened without waiting, then looked at: a FIFO named as a launcher file would
        # otherwise block the open (or the read) forever, a directory or device is no file
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return None, [refuse(1, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        info = os.fstat(descriptor)
    except OSError as exc:
        os.close(descriptor)
        return None, [refuse(1, 1, f"cannot read the file: {exc.strerror or exc}")]
    wrong = not_regular(info.st_mode, path)
    if wrong is not None:
        os.close(descriptor)
        return None, [refuse(1, 1, *wrong)]
    size = info.st_size
    try:
        if size > MAX_FILE_BYTES:
            os.close(descriptor)
            return None, [
                refuse(
                    1,
                    1,
                    f"file is {size} bytes, over the {MAX_FILE_BYTES // 2**20} MiB limit",
                    "a launcher file is a few kilobytes; is this the right file?",
                )
            ]
        with open(descriptor, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [refuse(1, 1, f"cannot read the file: {exc.strerror or exc}")]
    if len(data) > MAX_FILE_BYTES:
        return None, [refuse(1, 1, f"file is over the {MAX_FILE_BYTES // 2**20} MiB limit")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, [
            refuse(
                line,
                column,
                f"byte 0x{data[exc.start]:02x} is not UTF-8",
                "save the file as UTF-8",
            )
        ]
    problems = []
    if "\t" not in text:  # the common case: no line to look at
        return text, []
    for number, line_text in enumerate(text.splitlines(), 1):
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent and line_text.strip() and not line_text.lstrip().startswith("#"):
            problems.append(
                refuse(
                    number,
                    indent.index("\t") + 1,
                    "tab character in indentation (YAML allows only spaces there)",
                    "indent with spaces",
                )
            )
    if problems:
        return None, problems
    return text, []


def compose(text: str) -> Node | None:
    """The single document of ``text`` as a node tree (``None`` when there is no content).

    Raises :class:`_Refused` for YAML syntax errors, several documents, unknown tags, undefined
    aliases, nesting deeper than :data:`MAX_DEPTH` or aliases expanding past
    :data:`MAX_EXPANDED_NODES` nodes.
    """
    # Newer libyaml refuses some input while scanning ahead (deep flow nesting, before this
    # module sees the events); the pure-Python parser emits events as it goes. So a file libyaml
    # refuses is read again by it, and its error (or our own limit) is the one reported: the
    # same place and words whatever libyaml is installed, without reading libyaml's message.
    # Only a broken file pays for the second reading.
    for make_loader in dict.fromkeys((_Loader, yaml.SafeLoader)):
        loader = make_loader(text)
        try:
            return _compose_events(loader)
        except yaml.MarkedYAMLError as exc:
            if make_loader is not yaml.SafeLoader:
                continue
            mark = exc.problem_mark or exc.context_mark
            message = " ".join(part for part in (exc.context, exc.problem) if part)
            opened = _unclosed(exc, text)
            if opened is not None:  # where the '[', '{' or quote opened, not where YAML gave up
                mark, message = opened
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            raise _Refused(line, column, f"YAML syntax error: {message}") from None
        except yaml.YAMLError as exc:
            raise _Refused(1, 1, f"YAML syntax error: {exc}") from None
        finally:
            loader.dispose()
    raise AssertionError("the pure-Python loader answers or raises")  # pragma: no cover


def _refuse_tag(event: Any) -> _Refused:
    mark = event.start_mark
    return _Refused(
        mark.line + 1,
        mark.column + 1,
        f"YAML tag '{event.tag}' is not allowed in a launcher file",
        "remove the tag: values are plain mappings, lists and scalars",
    )


_OPENERS = {
    "while parsing a flow sequence": "'[' is not closed",
    "while parsing a flow mapping": "'{' is not closed",
    "while scanning a quoted scalar": "the quote is not closed",
}


def _unclosed(exc: yaml.MarkedYAMLError, text: str) -> tuple[Any, str] | None:
    """(where, message) of a '[', '{' or quote that is never closed: the place it opened is the
    mistake (PyYAML marks where it gave up, often lines further on)."""
    what = _OPENERS.get(exc.context or "")
    opened = exc.context_mark
    end = exc.problem_mark
    if exc.context == "while parsing a flow node" and end is not None:
        # the file ended inside a flow collection: PyYAML says where it ended, not which opened
        opener = _innermost_open_flow(text)
        if opener is not None:
            opened = opener.start_mark
            what = "'[' is not closed"
            if isinstance(opener, yaml.FlowMappingStartToken):
                what = "'{' is not closed"
    if what is None or opened is None or end is None:
        return None
    return opened, f"{what} ({exc.problem} at line {end.line + 1}, column {end.column + 1})"


def _innermost_open_flow(text: str) -> Any:
    """The last '[' or '{' token of ``text`` that no ']' or '}' closes (None when all are)."""
    stack: list[Any] = []
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken):
                stack.append(token)
            elif stack and isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken):
                stack.pop()
    except yaml.YAMLError:
        pass  # the scan stops where the error is: the stack is what was open there
    return stack[-1] if stack else None


def _compose_events(loader: Any) -> Node | None:
    """Nodes from events, without recursion; the hot loop of loading (one pass per event)."""
    anchors: dict[str, Node] = {}
    # open containers: [container, pending key or None, anchor, values expanded before it];
    # a container's size is the count of values expanded between its start and its end
    stack: list[list[Any]] = []
    root: Node | None = None
    documents = 0
    expanded = 0
    aliased = 0
    allowed_tags = _ALLOWED_TAGS
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    collection_end = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    get_event = loader.get_event
    while True:
        event = get_event()
        if event is None:
            break
        cls = type(event)
        node: Node
        if cls is scalar_event:
            tag = event.tag
            if tag is not None and tag not in allowed_tags:
                raise _refuse_tag(event)
            mark = event.start_mark
            line = mark.line + 1
            column = mark.column + 1
            tagged = tag == _STR_TAG
            node = Scalar(event.value, not event.style and not tagged, line, column, tagged)
            if event.anchor is not None:
                anchors[event.anchor] = node
            expanded += 1
        elif cls is mapping_start or cls is sequence_start:
            if event.tag is not None and event.tag not in allowed_tags:
                raise _refuse_tag(event)
            mark = event.start_mark
            if len(stack) >= MAX_DEPTH:
                raise _Refused(
                    mark.line + 1,
                    mark.column + 1,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    "a launcher file needs about ten levels",
                )
            container: Node = (Mapping if cls is mapping_start else Sequence)(
                mark.line + 1, mark.column + 1
            )
            stack.append([container, None, event.anchor, expanded])
            expanded += 1
            continue
        elif cls in collection_end:
            frame = stack.pop()
            node = frame[0]
            node.size = expanded - frame[3]
            if frame[2] is not None:
                anchors[frame[2]] = node
        elif cls is alias_event:
            mark = event.start_mark
            target = anchors.get(event.anchor)
            if target is None:
                raise _Refused(
                    mark.line + 1, mark.column + 1, f"alias '*{event.anchor}' names no anchor"
                )
            expanded += target.size
            aliased += target.size
            if aliased > MAX_ALIASED_NODES:
                raise _Refused(
                    mark.line + 1,
                    mark.column + 1,
                    f"aliases expand to more than {MAX_ALIASED_NODES} values (an alias bomb?)",
                    "use anchors for shared configuration, not to multiply data",
                )
            node = target
        elif cls is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                mark = event.start_mark
                raise _Refused(
                    mark.line + 1,
                    mark.column + 1,
                    "more than one YAML document in the file",
                    "remove the second '---' and what follows, or merge the documents",
                )
            continue
        else:
            continue
        if expanded > MAX_EXPANDED_NODES:
            mark = event.start_mark
            raise _Refused(
                mark.line + 1,
                mark.column + 1,
                f"more than {MAX_EXPANDED_NODES} values in the file",
                "a launcher file describes groups of nodes, not each value of a data set",
            )
        # attach the finished node to its parent
        if not stack:
            root = node
            continue
        frame = stack[-1]
        parent = frame[0]
        if type(parent) is Sequence:
            parent.items.append(node)
        elif frame[1] is None:
            frame[1] = node
        else:
            parent.items.append((frame[1], node))
            frame[1] = None
    return root


def _check_document(
    file: str, text: str, spec: Obj, *, empty_ok: bool
) -> tuple[dict[str, Any] | None, Checker, list[str]]:
    """Compose and check one file; also returns the order of its top-level keys."""
    checker = Checker(file)
    try:
        root = compose(text)
    except _Refused as exc:
        checker.problems.append(
            Problem(file, exc.line, exc.column, "", "error", exc.message, exc.hint)
        )
        return None, checker, []
    if root is None or (isinstance(root, Scalar) and root.is_null):
        if empty_ok:
            return {}, checker, []
        checker.problems.append(
            Problem(
                file,
                1,
                1,
                "",
                "error",
                "the file is empty",
                "declare launchers under 'local:' or 'slurm:' (write 'local: []' for none)",
            )
        )
        return None, checker, []
    if not isinstance(root, Mapping):
        checker.error(
            root,
            "",
            f"the top level must be a mapping (local:, slurm:), not {root.describe()}",
            "start the file with 'local:' or 'slurm:'",
        )
        return None, checker, []
    order = [key.value for key, _ in root.items if isinstance(key, Scalar)]
    data = checker.check(root, spec, "")
    return (data if isinstance(data, dict) else None), checker, order


def _side_file(path: Path, name: str, spec: Obj, problems: list[Problem]) -> dict[str, Any] | None:
    side = path.parent / name
    if not side.is_file():
        return None
    file = str(side)
    text, read_problems = read_text(side, file)
    problems.extend(read_problems)
    if text is None:
        return None
    data, checker, _ = _check_document(file, text, spec, empty_ok=True)
    problems.extend(checker.problems)
    return data


def check_config(path: str | os.PathLike[str]) -> tuple[LauncherFile | None, list[Problem]]:
    """Every problem of a launcher file (errors and warnings) and, when no error, its model."""
    with collector_paused():
        return _check_config(path)


def _check_config(path: str | os.PathLike[str]) -> tuple[LauncherFile | None, list[Problem]]:
    source = Path(path)
    file = str(path)
    text, problems = read_text(source, file)
    if text is None:
        return None, problems
    data, checker, order = _check_document(file, text, LAUNCHER_FILE, empty_ok=False)
    problems = list(checker.problems)
    if data is None:
        return None, problems
    tokens = _side_file(source, "tokens.yaml", TOKENS_FILE, problems)
    connectors = _side_file(source, "connectors.yaml", CONNECTORS, problems)
    inline = data.get("connectors")
    launchers, launcher_paths = build_launchers(
        data, [key for key in order if key in ("local", "slurm")]
    )
    launcher_file = LauncherFile(
        path=file,
        launchers=launchers,
        token_counters=build_counters(tokens),
        connectors=build_connectors(connectors) + build_connectors(inline),
    )
    problems.extend(
        lint(
            launcher_file,
            checker.positions,
            file=file,
            tokens_file=tokens is not None,
            launcher_paths=launcher_paths,
            memory_texts=checker.memory_texts,
        )
    )
    problems = _unique(_without_follow_ups(problems))
    problems.sort(key=lambda p: (p.file != file, p.file, p.line, p.column))
    if any(p.severity == "error" for p in problems):
        return None, problems
    warnings = tuple(p for p in problems if p.severity == "warning")
    return _with_extras(launcher_file, checker.positions, warnings), problems


def _unique(problems: list[Problem]) -> list[Problem]:
    """One report per place and message: a block shared through an alias is checked at each use,
    but its mistake is written once."""
    seen: set[tuple[str, int, int, str, str]] = set()
    unique = []
    for problem in problems:
        key = (problem.file, problem.line, problem.column, problem.severity, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def _without_follow_ups(problems: list[Problem]) -> list[Problem]:
    """Drop warnings about a part of the file that has errors: they may only echo the error
    (a wrong value is absent from the model); they show up again once the errors are fixed."""
    errors = [p.path for p in problems if p.severity == "error"]
    if not errors:
        return problems

    def covered(path: str) -> bool:
        return any(
            e == path or e.startswith(path + ".") or e.startswith(path + "[") for e in errors
        )

    return [p for p in problems if p.severity == "error" or not (p.path and covered(p.path))]


def _with_extras(
    launcher_file: LauncherFile, positions: dict[str, tuple[int, int]], warnings: Any
) -> LauncherFile:

    return replace(launcher_file, positions=positions, warnings=warnings)


def load_config(path: str | os.PathLike[str]) -> LauncherFile:
    """The launcher file as a typed model; :class:`ConfigError` with every problem if any error.

    Warnings do not stop loading; they are kept in ``LauncherFile.warnings``.
    """
    launcher_file, problems = check_config(path)
    if launcher_file is None:
        raise ConfigError(problems)
    return launcher_file


def dump_yaml(data: dict[str, Any]) -> str:
    """Launcher data as YAML text that this loader reads back (safe dumper only).

    Lists of plain names go on one line (``hosts: [yop, yep]``), mappings in block style, keys
    in the order given. Lives here so that PyYAML stays behind this one module.
    """

    class _Dumper(yaml.SafeDumper):
        pass

    def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
        flow = all(isinstance(item, (str, int, float)) for item in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)

    _Dumper.add_representer(list, _list)
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return text
