"""Message templates: `{path}` placeholders checked at compile time, rendered without code.

A template is split once into literal text and placeholder names; rendering only looks names up
in a flat mapping, so nothing in a template can execute. `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping

from complaintflow.platforms.facts import SPECS
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
    "case.ref": 10,  # complaintflow.caseref: initials, a dash, six characters
}
# The ones people write freely (any script, emoji); the others are ids and keywords (ASCII:
# X handles are letters, digits and _).
FREE_TEXT_VARIABLES = frozenset({"author.name", "customer.tier"})
# Names resolved from the policy itself when it is compiled.
STATIC_PREFIX = "brand."

# Characters a post may carry, per platform (X weighs them: see post_length): from the
# platform spec table, the one home of per-platform facts.
REPLY_LIMITS: dict[str, int] = {name: spec.reply_limit for name, spec in SPECS.items()}
MESSAGE_LIMITS: dict[str, int] = {name: spec.message_limit for name, spec in SPECS.items()}

# X's counting (twitter-text configuration v3, github.com/twitter/twitter-text config/v3.json,
# and https://docs.x.com/resources/fundamentals/counting-characters): text is NFC-normalised;
# code points in these ranges weigh 1, every other one 2; an emoji sequence weighs 2 however
# many code points it has; a URL counts as 23 (t.co) whatever its length.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
X_URL_LENGTH = 23
_X_URL = re.compile(
    r"(?<![\w@.])(?:https?://|www\.)[^\s]+"
    r"|(?<![\w@.\-/])(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|ly|me|app|dev|info|biz|uk|de)"
    r"(?![\w-])(?:/[^\s]*)?",
    re.IGNORECASE,
)
_EMOJI_BASE = "\u00a9\u00ae\u203c-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
_EMOJI_MOD = "\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_X_EMOJI = re.compile(
    f"[\U0001f1e6-\U0001f1ff]{{2}}"
    f"|[0-9#*]\ufe0f?\u20e3"
    f"|[{_EMOJI_BASE}][{_EMOJI_MOD}]*(?:\u200d[{_EMOJI_BASE}][{_EMOJI_MOD}]*)*"
)


def _x_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _X_LIGHT) else 2


def x_length(text: str) -> int:
    """The length X gives `text` (its weighted length): what X compares with 280."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for url in _X_URL.finditer(text):
        total += _plain_x_length(text[position : url.start()]) + X_URL_LENGTH
        position = url.end()
    return total + _plain_x_length(text[position:])


def _plain_x_length(text: str) -> int:
    total, position = 0, 0
    for emoji in _X_EMOJI.finditer(text):
        total += sum(_x_weight(c) for c in text[position : emoji.start()]) + 2
        position = emoji.end()
    return total + sum(_x_weight(c) for c in text[position:])


def post_length(platform: str, text: str) -> int:
    """The length `platform` compares with its limit: X's weighting where the platform
    weighs characters, else code points."""
    return x_length(text) if _weighted(platform) else len(text)


def _weighted(platform: str) -> bool:
    spec = SPECS.get(platform)
    return spec is not None and spec.weighted_text


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

    def length_bounds(self, platform: str = "") -> tuple[int, int]:
        """Shortest and longest rendered length on `platform`, given the variables' maximum
        lengths (on X a character of free text may weigh 2: CJK or an emoji)."""
        literal = post_length(platform, "".join(self.parts[0::2]))
        longest = literal + sum(
            (2 if _weighted(platform) and p in FREE_TEXT_VARIABLES else 1)
            * TEMPLATE_VARIABLES.get(p, 0)
            for p in self.placeholders
        )
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
