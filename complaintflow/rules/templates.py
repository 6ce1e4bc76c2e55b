"""Message templates: `{path}` placeholders checked at compile time, rendered without code.

A template is split once into literal text and placeholder names; rendering only looks names up
in a flat mapping, so nothing in a template can execute. `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from complaintflow.rules.platform_spec import SPECS
from complaintflow.rules.schema import nearest

# What a template can name, with the longest value each can have (for the length checks).
TEMPLATE_VARIABLES: dict[str, int] = {
    "author.name": 50,
    "author.handle": 30,
    "customer.tier": 20,
    "channel": 15,
    "mention.id": 40,
    "mention.text": 280,
    "mention.language": 2,
    "case.id": 48,
    "case.ticket_id": 24,
}
# Names resolved from the policy itself when it is compiled.
STATIC_PREFIX = "brand."

# Characters a post may carry, per platform (X counts code points up to 280): from the
# platform spec table, the one home of per-platform facts.
REPLY_LIMITS: dict[str, int] = {name: spec.reply_limit for name, spec in SPECS.items()}
MESSAGE_LIMITS: dict[str, int] = {name: spec.message_limit for name, spec in SPECS.items()}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")


@dataclasses.dataclass(frozen=True)
class TemplateProblem:
    """A problem at a 0-based character offset inside the template text."""

    offset: int
    message: str
    hint: str


@dataclasses.dataclass(frozen=True)
class Template:
    """A parsed template: literal parts and placeholder names, alternating, literal first."""

    name: str
    parts: tuple[str, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def render(self, values: Mapping[str, object]) -> str:
        """The text with each placeholder replaced by its value ('' when missing)."""
        out = []
        for i, part in enumerate(self.parts):
            if i % 2 == 0:
                out.append(part)
            else:
                value = values.get(part)
                out.append("" if value is None else str(value))
        return "".join(out)

    def length_bounds(self) -> tuple[int, int]:
        """Shortest and longest rendered length, given the variables' maximum lengths."""
        literal = sum(len(p) for p in self.parts[0::2])
        longest = literal + sum(TEMPLATE_VARIABLES.get(p, 0) for p in self.placeholders)
        return literal, longest


def parse_template(
    name: str, text: str, static: Mapping[str, str]
) -> Template | list[TemplateProblem]:
    """Parse `text`, filling in `static` (brand.*) values; problems name their offsets."""
    parts: list[str] = []
    literal: list[str] = []
    problems: list[TemplateProblem] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match[0]
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if token in ("{", "}"):
            problems.append(
                TemplateProblem(
                    match.start(),
                    f"unmatched {token!r}",
                    f"write {token * 2!r} for a literal brace",
                )
            )
            continue
        placeholder = match[1].strip()
        if placeholder in static:
            literal.append(static[placeholder])
            continue
        if placeholder in TEMPLATE_VARIABLES:
            parts.append("".join(literal))
            parts.append(placeholder)
            literal = []
            continue
        problems.append(_unknown(match.start(), placeholder, static))
    literal.append(text[position:])
    parts.append("".join(literal))
    if problems:
        return problems
    return Template(name, tuple(parts))


def _unknown(offset: int, placeholder: str, static: Mapping[str, str]) -> TemplateProblem:
    known = [*TEMPLATE_VARIABLES, *static]
    if not _NAME.match(placeholder):
        return TemplateProblem(
            offset,
            f"{{{placeholder}}} is not a placeholder",
            "placeholders are names such as {author.name}; write {{ and }} for literal braces",
        )
    if placeholder.startswith(STATIC_PREFIX):
        return TemplateProblem(
            offset,
            f"{{{placeholder}}} is not set in brand:",
            _suggest(placeholder, static) or "add it under brand: or remove the placeholder",
        )
    return TemplateProblem(
        offset,
        f"unknown placeholder {{{placeholder}}}",
        _suggest(placeholder, known) or "known: " + ", ".join(sorted(known)),
    )


def _suggest(name: str, known: Iterable[str]) -> str:
    close = nearest(name, known)
    return f"did you mean {{{close}}}?" if close else ""


def render_parts(parts: tuple[str, ...], values: Mapping[str, object]) -> str:
    """Render a compiled template's parts (literal, name, literal, ...) with `values`."""
    return Template("", parts).render(values)
