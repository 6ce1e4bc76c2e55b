"""Reads a YAML file into plain Python values while keeping every node's line and column.

Only YAML's safe subset is accepted; anything a policy author can get wrong in the file itself
(encoding, tabs, duplicate keys, several documents, alias bombs, size) becomes a Diagnostic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from complaintflow.errors import Diagnostic, PolicyError

MAX_FILE_BYTES = 1024 * 1024
# libyaml's parser when PyYAML was built with it (about three times faster), else pure Python.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 50_000
# Numbers beyond this lose precision in JSON (the compiled policy travels as JSON).
MAX_INTEGER = 2**53

# A path from the document root to a node: mapping keys and sequence indexes.
NodePath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a node starts (1-based) and how its text is laid out, to place errors inside it."""

    line: int
    column: int
    style: str | None = None  # None (plain), "'", '"', "|" or ">"
    content_indent: int = 0  # for block scalars: the column where their lines start (1-based)


@dataclasses.dataclass(frozen=True)
class Document:
    """A loaded YAML document: its data, and the positions of its values and keys by path."""

    file: str
    data: Any
    values: dict[NodePath, Position]
    keys: dict[NodePath, Position]
    lines: tuple[str, ...] = ()

    def at(self, path: NodePath, *, key: bool = False) -> Position:
        """Position of the value at `path` (or of its key), else of its nearest located parent."""
        table = self.keys if key else self.values
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

    def diagnostic(
        self,
        path: NodePath,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        offset: int | None = None,
    ) -> Diagnostic:
        """A diagnostic at `path`; `offset` is a 0-based character offset inside its text."""
        pos = self.at(path, key=key)
        line, column = pos.line, pos.column
        if offset is not None:
            line, column = _inside_scalar(pos, self.lines, offset)
        return Diagnostic(self.file, line, column, message, hint)


def _inside_scalar(pos: Position, lines: tuple[str, ...], offset: int) -> tuple[int, int]:
    """Map a character offset inside a scalar's value onto the file's line and column.

    Block scalars start on the line after their indicator; plain and quoted scalars that span
    lines are folded with one space per line break, so each source line is walked in turn.
    """
    segments: list[tuple[int, int, int]] = []  # (line, first column, length), 1-based
    if pos.style in ("|", ">"):
        for number in range(pos.line + 1, len(lines) + 1):
            text = lines[number - 1]
            indent = len(text) - len(text.lstrip(" ")) + 1
            if text.strip() and indent < pos.content_indent:
                break
            segments.append((number, pos.content_indent, len(text) - pos.content_indent + 1))
    else:
        start = pos.column + (1 if pos.style in ("'", '"') else 0)
        first = lines[pos.line - 1] if pos.line <= len(lines) else ""
        segments.append((pos.line, start, len(first.rstrip()) - start + 1))
        for number in range(pos.line + 1, len(lines) + 1):
            text = lines[number - 1]
            indent = len(text) - len(text.lstrip())
            if not text.strip() or indent < pos.column - 1 or ": " in text:
                break
            segments.append((number, indent + 1, len(text.strip())))
    remaining = offset
    for number, column, length in segments:
        if remaining <= length:
            return number, column + remaining
        remaining -= length + 1
    return pos.line, pos.column


def load_yaml(path: str | Path, *, display_name: str | None = None) -> Document:
    """Load one YAML file; raise PolicyError naming every problem with the file itself."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(
            [
                Diagnostic(
                    name,
                    1,
                    1,
                    f"cannot read the file: {exc.strerror}",
                    "check the path and permissions",
                )
            ]
        ) from None
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes, name: str) -> Document:
    """Parse YAML bytes named `name` (for messages)."""

    def fail(line: int, column: int, message: str, hint: str = "") -> PolicyError:
        return PolicyError([Diagnostic(name, line, column, message, hint)])

    if len(raw) > MAX_FILE_BYTES:
        raise fail(
            1,
            1,
            f"the file is {len(raw) / 1e6:.1f} MB; a policy file may be at most "
            f"{MAX_FILE_BYTES // 1024} KiB",
            "split it into smaller policies",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise fail(
            line,
            column,
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            "save the file as UTF-8",
        ) from None
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise fail(1, 1, "the file is empty", "a policy starts with `policy: NAME`")
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    except yaml.YAMLError as exc:  # errors without a position (rare)
        raise fail(1, 1, f"not valid YAML: {exc}") from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise fail(1, 1, "the file is empty", "a policy starts with `policy: NAME`")
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise fail(
            mark.line + 1,
            mark.column + 1,
            "the file holds more than one YAML document ('---')",
            "put one policy per file",
        )
    builder = _Builder(name, text)
    data = builder.build(nodes[0], ())
    if builder.diagnostics:
        raise PolicyError(builder.diagnostics)
    return Document(name, data, builder.values, builder.keys, tuple(builder.lines))


def _yaml_error(exc: yaml.MarkedYAMLError, name: str, text: str) -> PolicyError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "not valid YAML"
    hint = ""
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in source_line[: max(column, 1)] and not source_line[: column - 1].strip(" \t"):
        problem, hint = "a tab character is used for indentation", "indent with spaces"
        column = source_line.index("\t") + 1
    elif "undefined alias" in problem:
        hint = "define the anchor (&name) before using it (*name)"
    elif "mapping values are not allowed" in problem:
        hint = "quote a value that contains ': '"
    elif "could not find expected ':'" in problem:
        hint = "each entry is `key: value`; quote text that spans lines"
    if exc.context and "tab character" not in problem:
        problem = f"{exc.context}, {problem}"
    return PolicyError([Diagnostic(name, line, column, f"not valid YAML: {problem}", hint)])


class _Builder:
    """Turns a composed node graph into Python values, recording positions and problems."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.splitlines()
        self.values: dict[NodePath, Position] = {}
        self.keys: dict[NodePath, Position] = {}
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()
        self.constructor = yaml.SafeLoader("")
        self.too_big = False

    def _position(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        style = getattr(node, "style", None)
        indent = 0
        if style in ("|", ">"):
            for text_line in self.lines[mark.line + 1 :]:
                if text_line.strip():
                    indent = len(text_line) - len(text_line.lstrip(" ")) + 1
                    break
        return Position(mark.line + 1, mark.column + 1, style, indent)

    def _problem(self, node: yaml.Node, message: str, hint: str = "") -> None:
        pos = self._position(node)
        self.diagnostics.append(Diagnostic(self.name, pos.line, pos.column, message, hint))

    def build(self, node: yaml.Node, path: NodePath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.too_big:
                self.too_big = True
                self._problem(
                    node,
                    f"the document expands to more than {MAX_NODES} values "
                    "(anchors and aliases repeated many times?)",
                    "write the values out, or use fewer aliases",
                )
            return None
        self.values[path] = self._position(node)
        if id(node) in self.active:
            self._problem(
                node,
                "an alias refers to a value that contains itself",
                "remove the recursive alias",
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        self._problem(node, "unsupported YAML node")
        return None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        construct: Callable[[yaml.ScalarNode], Any] = self.constructor.construct_object
        try:
            value = construct(node)
        except yaml.constructor.ConstructorError as exc:
            self._problem(
                node, f"cannot read this value: {exc.problem}", "quote it to make it text"
            )
            return None
        except ValueError:  # e.g. an integer of thousands of digits
            self._problem(node, "this number is too large to read", "write a number below 2**53")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(
                node,
                f"{node.value[:20]} is not a number a policy can use",
                "write a finite number such as 0.5",
            )
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            self._problem(
                node, "this number is too large", "write a number below 2**53 (9007199254740992)"
            )
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: NodePath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, "merge keys ('<<') are not supported", "write the keys out")
                continue
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                self._problem(key_node, f"key {shown!r} is not text", f'quote it: "{shown}"')
                continue
            if key in result:
                first = self.keys[(*path, key)]
                self._problem(
                    key_node,
                    f"duplicate key {key!r} (first at line {first.line})",
                    "keep one of them",
                )
                continue
            self.keys[(*path, key)] = self._position(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result
