"""CEL conditions: declared, typed variables; compile-time checking; fail-closed evaluation.

Variables are declared with dotted names (`author.followers`) so that a misspelt field is an
unknown name at compile time. Helper functions are deterministic and read the mention's text
from a context variable set by the caller for the duration of one evaluation.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings, ext_math

from complaintflow.platforms.facts import SPECS
from complaintflow.rules.schema import nearest

T = cel.Type


class Scope(StrEnum):
    """Where a condition is written, which decides the variables it can see."""

    SIGNAL = "signal"  # seriousness.signals.*.when: the mention and what enrichment knows
    ROUTE = "route"  # routes[].when: + score, thresholds, signals
    STEP = "step"  # playbooks.*.steps[].when: + the running case


# name -> (CEL type, what it is): the names conditions can read, and `complaintflow variables`.
MENTION_VARIABLES: dict[str, tuple[Any, str]] = {
    "mention.id": (T.STRING, "the post's id on its platform"),
    "mention.platform": (T.STRING, " or ".join(", ".join(SPECS).rsplit(", ", 1))),
    "mention.kind": (T.STRING, "post, reply, comment, review or dm (a private message)"),
    "mention.private": (T.BOOL, "written privately to the brand (X DM, Messenger, Instagram)"),
    "mention.channel": (T.STRING, "'private' for a private message, else 'public'"),
    "mention.text": (T.STRING, "the post's text"),
    "mention.thread_id": (T.STRING, "id of the thread (conversation) the post belongs to"),
    "mention.reshares": (T.INT, "reshares (retweets, shares) so far"),
    "mention.replies": (T.INT, "replies so far"),
    "mention.likes": (T.INT, "likes so far"),
    "mention.rating": (T.INT, "review stars 1-5, 0 when not a review"),
    "mention.addressed": (T.BOOL, "written directly to a brand account"),
    "mention.repeat_contacts": (T.INT, "earlier posts by the same author in this thread"),
    "mention.cue_words": (T.INT, "problem/complaint cue words found in the text (English)"),
    "mention.language": (T.STRING, "the text's language, ISO 639-1 ('es'); '' when unknown"),
    "mention.language_confidence": (T.DOUBLE, "how sure the language is, 0.0 to 1.0"),
    "author.id": (T.STRING, "the author's id on the platform"),
    "author.handle": (T.STRING, "the author's handle, without @"),
    "author.name": (T.STRING, "the author's display name"),
    "author.followers": (T.INT, "the author's followers"),
    "author.verified": (T.BOOL, "the platform marks the author as verified"),
    "customer.known": (T.BOOL, "the CRM knows the author as a customer"),
    "customer.tier": (T.STRING, "the customer's tier in the CRM, '' when unknown"),
    "customer.id": (T.STRING, "the customer's id in the CRM"),
    "sentiment": (T.DOUBLE, "VADER compound sentiment of the text, -1.0 to 1.0 (English)"),
    "channel": (T.STRING, "the platform the case lives on (same as mention.platform)"),
}
ROUTE_VARIABLES: dict[str, tuple[Any, str]] = {
    "score": (T.DOUBLE, "seriousness score, 0.0 to 1.0"),
}
CASE_VARIABLES: dict[str, tuple[Any, str]] = {
    "case.id": (T.STRING, "the case key"),
    "case.resolved": (T.BOOL, "a supervisor marked the case resolved"),
    "case.contacted": (T.BOOL, "the customer got in touch offline"),
    "case.escalated": (T.BOOL, "the case was escalated"),
    "case.thanked": (T.BOOL, "the customer posted thanks in the thread"),
    "case.sla_breached": (T.BOOL, "the first public answer was late"),
    "case.priority": (T.STRING, "low, normal, high or urgent"),
    "case.mentions": (T.INT, "posts in the thread so far"),
}

_current_text: contextvars.ContextVar[str] = contextvars.ContextVar(
    "complaintflow_text", default="  "
)
_WORD = re.compile(r"[^\w']+")


def normalise_text(text: str) -> str:
    """Lowercase words separated by single spaces, padded with a space on each side."""
    return " " + " ".join(_WORD.split(text.lower())).strip() + " "


@functools.lru_cache(maxsize=4096)
def _needle(phrase: str) -> str:
    star = phrase.endswith("*")
    words = normalise_text(phrase.rstrip("*"))
    return words[:-1] if star else words


def _has_any(phrases: Sequence[str]) -> bool:
    text = _current_text.get()
    return any(_needle(p) in text for p in phrases)


def _has_all(phrases: Sequence[str]) -> bool:
    text = _current_text.get()
    return all(_needle(p) in text for p in phrases)


FUNCTIONS: dict[str, str] = {
    "text_has_any": "text_has_any(['refund', 'never arrived']): the text contains any of these "
    "words or phrases (case-insensitive, whole words; 'refund*' also matches "
    "'refunded')",
    "text_has_all": "text_has_all(['order', 'late']): the text contains all of them",
}
_DECLS = [
    cel.FunctionDecl(
        "text_has_any", [cel.Overload("text_has_any_list", T.BOOL, [T.List(T.STRING)])]
    ),
    cel.FunctionDecl(
        "text_has_all", [cel.Overload("text_has_all_list", T.BOOL, [T.List(T.STRING)])]
    ),
]
_IMPLS = {"text_has_any_list": _has_any, "text_has_all_list": _has_all}


@contextlib.contextmanager
def text_in_scope(normalised: str) -> Iterator[None]:
    """Make `normalised` (see normalise_text) the text the helper functions read."""
    token = _current_text.set(normalised)
    try:
        yield
    finally:
        _current_text.reset(token)


def set_text(normalised: str) -> contextvars.Token[str]:
    """Like text_in_scope, for hot loops: pass the token to reset_text when done."""
    return _current_text.set(normalised)


def reset_text(token: contextvars.Token[str]) -> None:
    _current_text.reset(token)


@dataclasses.dataclass(frozen=True)
class CompileProblem:
    """A CEL compile error at a 1-based (line, column) inside the expression."""

    line: int
    column: int
    message: str
    hint: str


@dataclasses.dataclass(frozen=True)
class EvalError:
    """A condition that could not be evaluated at run time; it counts as false (fail closed)."""

    expression: str
    message: str


def _tables(scope: Scope) -> list[dict[str, tuple[Any, str]]]:
    """The variable tables a condition in `scope` sees (signals and thresholds aside)."""
    tables = [MENTION_VARIABLES]
    if scope in (Scope.ROUTE, Scope.STEP):
        tables.append(ROUTE_VARIABLES)
    if scope is Scope.STEP:
        tables.append(CASE_VARIABLES)
    return tables


def reference(scope: Scope) -> list[tuple[str, str, str]]:
    """(name, type, what it is) for every variable a condition in `scope` can read."""
    rows = [
        (name, str(kind).lower(), text)
        for table in _tables(scope)
        for name, (kind, text) in table.items()
    ]
    if scope is not Scope.STEP:
        rows += [
            ("classifier.NAME", "double", "a declared classifier's output (see classifiers:)"),
        ]
    if scope is not Scope.SIGNAL:
        rows += [
            ("signals.NAME", "bool", "whether the seriousness signal NAME holds"),
            ("thresholds.NAME", "double", "the seriousness threshold NAME"),
        ]
    return rows


def variables_for(
    scope: Scope,
    signals: Sequence[str] = (),
    thresholds: Sequence[str] = (),
    classifiers: Sequence[str] = (),
) -> dict[str, Any]:
    """The declared CEL variables (name -> type) visible in `scope`.

    `classifiers` are the full `classifier.NAME...` variable names; they are read in signals
    and routes (triage computes them), not in steps.
    """
    names = {name: kind for table in _tables(scope) for name, (kind, _) in table.items()}
    if scope is not Scope.STEP:
        names.update(dict.fromkeys(classifiers, T.DOUBLE))
    if scope is not Scope.SIGNAL:
        names.update({f"signals.{s}": T.BOOL for s in signals})
        names.update({f"thresholds.{t}": T.DOUBLE for t in thresholds})
    return names


class ExpressionEnv:
    """A CEL environment for one scope of one policy; compiles conditions to Programs."""

    def __init__(self, scope: Scope, variables: Mapping[str, Any]) -> None:
        self.scope = scope
        self.variables = dict(variables)
        self._env = cel.NewEnv(
            variables=self.variables,
            functions=_DECLS,
            function_impls=_IMPLS,
            extensions=[ext_bindings.ExtBindings(), ext_math.ExtMath()],
        )

    def decision(
        self,
        signals: Sequence[tuple[str, Program, float]],
        thresholds: Mapping[str, float],
        routes: Sequence[Program],
    ) -> DecisionProgram:
        """Signals, capped and rounded score, and first matching route, as one expression.

        The route conditions read `signals.NAME`, `thresholds.NAME` and `score`; here those are
        local bindings (cel.bind), so this environment must be the signal scope's. Calls of the
        text helpers on literal lists are answered before evaluation (`cf_text[i]`), which
        saves a call back into Python per phrase list.
        """
        lists: list[tuple[bool, tuple[str, ...]]] = []

        def inline(source: str) -> str:
            def replace(match: re.Match[str]) -> str:
                phrases = tuple(a or b for a, b in _LITERAL.findall(match[2]))
                lists.append((match[1] == "all", tuple(_needle(p) for p in phrases)))
                return f"cf_text[{len(lists) - 1}]"

            return _TEXT_CALL.sub(replace, source)

        held = ", ".join(f"({inline(program.source)})" for _, program, _ in signals)
        total = " + ".join(
            f"(cf_held[{i}] ? {float(weight)!r} : 0.0)" for i, (_, _, weight) in enumerate(signals)
        )
        named = ", ".join(f"'{name}': cf_held[{i}]" for i, (name, _, _) in enumerate(signals))
        limits = ", ".join(f"'{name}': {float(value)!r}" for name, value in thresholds.items())
        chain = "-1"
        for index in range(len(routes) - 1, -1, -1):
            chain = f"(({inline(routes[index].source)}) ? {index} : {chain})"
        source = (
            f"cel.bind(cf_held, [{held}], "
            f"cel.bind(score, math.round(math.least(1.0, math.greatest(0.0, {total or '0.0'}))"
            f" * {SCORE_SCALE!r}) / {SCORE_SCALE!r}, "
            f"cel.bind(signals, {{{named}}}, cel.bind(thresholds, {{{limits}}}, "
            f"[cf_held, score, {chain}]))))"
        )
        env = cel.NewEnv(
            variables={**self.variables, "cf_text": T.List(T.BOOL)},
            functions=_DECLS,
            function_impls=_IMPLS,
            extensions=[ext_bindings.ExtBindings(), ext_math.ExtMath()],
        )
        return DecisionProgram(env.compile(source), tuple(lists))

    def compile(self, source: str) -> Program | list[CompileProblem]:
        """A Program, or the problems (with positions inside `source`) that stop it."""
        try:
            expression = self._env.compile(source)
        except RuntimeError as exc:
            return _problems(str(exc), self.variables, source)
        result = expression.return_type()
        if result != T.BOOL:
            return [
                CompileProblem(
                    1,
                    1,
                    f"the condition gives {_type_label(result)}, not true/false",
                    "compare it, e.g. `x >= 1.0`",
                )
            ]
        return Program(source, expression)

    def batch(self, programs: Sequence[Program]) -> Batch:
        """All of `programs` evaluated in one call (they compiled one by one, so together)."""
        joined = "[" + ", ".join(f"({p.source})" for p in programs) + "]"
        return Batch(tuple(programs), self._env.compile(joined))

    def first_match(self, programs: Sequence[Program]) -> FirstMatch:
        """The index of the first of `programs` that holds, found in one call."""
        chain = "-1"
        for index in range(len(programs) - 1, -1, -1):
            chain = f"(({programs[index].source}) ? {index} : {chain})"
        return FirstMatch(tuple(programs), self._env.compile(chain))


SCORE_SCALE = 10000.0  # scores are rounded to 4 decimals, so 0.35 + 0.1 meets 0.45


def _phrase_test(every: bool, needles: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether normalised text holds all (or any) of `needles`: for any, one regex search."""
    if every:
        return lambda text: all(n in text for n in needles)
    if not needles:
        return lambda text: False
    search = re.compile("|".join(map(re.escape, needles))).search
    return lambda text: search(text) is not None


def round_score(total: float) -> float:
    """Clamp to 0..1 and round half up to 4 decimals, exactly as DecisionProgram does."""
    return math.floor(min(1.0, max(0.0, total)) * SCORE_SCALE + 0.5) / SCORE_SCALE


class DecisionProgram:
    """A whole triage decision in one evaluation; None when any condition fails to evaluate."""

    __slots__ = ("_expression", "_lists", "_tests")

    def __init__(self, expression: Any, lists: tuple[tuple[bool, tuple[str, ...]], ...]) -> None:
        self._expression = expression
        self._lists = lists
        self._tests = tuple(_phrase_test(every, needles) for every, needles in lists)

    def run(
        self, values: dict[str, Any], normalised: str
    ) -> tuple[list[bool], float, int | None] | None:
        """Evaluate with `values` (changed in place) for text already normalised."""
        values["cf_text"] = [test(normalised) for test in self._tests]
        try:
            value = self._expression.eval(data=values)
        except RuntimeError:  # e.g. CEL's iteration budget: fail closed, one by one
            return None
        if value.type() == T.ERROR:
            return None
        held, score, index = value.plain_value()
        return held, score, (index if index >= 0 else None)


class Program:
    """A compiled, type-checked boolean condition."""

    __slots__ = ("_expression", "source")

    def __init__(self, source: str, expression: Any) -> None:
        self.source = source
        self._expression = expression

    def holds(self, values: Mapping[str, Any]) -> bool | EvalError:
        """True/False, or an EvalError (to be treated as False) when evaluation fails."""
        try:
            value = self._expression.eval(data=values)
        except RuntimeError as exc:  # e.g. CEL's iteration budget: fail closed
            return EvalError(self.source, str(exc).strip()[:300])
        if value.type() == T.BOOL:
            return bool(value.value())
        return EvalError(self.source, str(value.value()))


class Batch:
    """Several conditions evaluated together; falls back to one by one when one fails."""

    __slots__ = ("_expression", "programs")

    def __init__(self, programs: tuple[Program, ...], expression: Any) -> None:
        self.programs = programs
        self._expression = expression

    def evaluate(self, values: Mapping[str, Any]) -> list[bool | EvalError]:
        try:
            value = self._expression.eval(data=values)
        except RuntimeError:
            return [p.holds(values) for p in self.programs]
        if value.type() != T.ERROR:
            return [bool(v) for v in value.plain_value()]
        return [p.holds(values) for p in self.programs]


class FirstMatch:
    """Ordered conditions; which one holds first. A failing condition counts as false."""

    __slots__ = ("_expression", "programs")

    def __init__(self, programs: tuple[Program, ...], expression: Any) -> None:
        self.programs = programs
        self._expression = expression

    def find(self, values: Mapping[str, Any]) -> tuple[int | None, list[EvalError]]:
        """Index of the first condition that holds (None if none), and evaluation errors."""
        try:
            value = self._expression.eval(data=values)
        except RuntimeError:
            value = None
        if value is not None and value.type() == T.INT:
            index = int(value.value())
            return (index if index >= 0 else None), []
        errors: list[EvalError] = []
        for index, program in enumerate(self.programs):
            outcome = program.holds(values)
            if isinstance(outcome, EvalError):
                errors.append(outcome)
            elif outcome:
                return index, errors
        return None, errors


# text_has_any(['a', "b"]) / text_has_all([...]) on a list of plain string literals.
_TEXT_CALL = re.compile(
    r"""text_has_(any|all)\(\s*\[((?:\s*(?:'[^'\\\n]*'|"[^"\\\n]*")\s*,?)*\s*)\]\s*\)"""
)
_LITERAL = re.compile(r"'([^'\\\n]*)'|\"([^\"\\\n]*)\"")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def referenced(env: ExpressionEnv, programs: Sequence[Program]) -> tuple[str, ...]:
    """The declared variables that any of `programs` may read (a safe over-estimate)."""
    tokens = {t for p in programs for t in _DOTTED.findall(p.source)}
    return tuple(
        name
        for name in env.variables
        if name in tokens or any(t.startswith(name + ".") for t in tokens)
    )


_ERROR_LINE = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


def _problems(text: str, variables: Mapping[str, Any], source: str) -> list[CompileProblem]:
    found = []
    lines = source.splitlines() or [""]
    for match in _ERROR_LINE.finditer(text):
        line, column, message = int(match[1]), int(match[2]), match[3].strip()
        if (name := _UNDECLARED.search(message)) and 0 < line <= len(lines):
            column = _start_of(lines[line - 1], name[1], column)
        found.append(CompileProblem(line, column, *_explain(message, variables)))
    return found or [CompileProblem(1, 1, text.strip().splitlines()[0], "")]


def _start_of(line: str, name: str, column: int) -> int:
    """The 1-based column where `name` starts nearest to `column` (CEL points at the dot)."""
    starts = [m.start() + 1 for m in re.finditer(re.escape(name), line)]
    return min(starts, key=lambda s: abs(s - column), default=column)


_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")
_OVERLOAD = re.compile(r"found no matching overload for '([^']+)' applied to '\((.*)\)'")


def _explain(message: str, variables: Mapping[str, Any]) -> tuple[str, str]:
    if match := _UNDECLARED.search(message):
        name = match[1]
        known = [*variables, *FUNCTIONS]
        close = nearest(name, known)
        if close:
            return f"unknown name {name!r}", f"did you mean {close!r}?"
        prefix = name.split(".")[0] + "."
        fields = sorted(k for k in variables if k.startswith(prefix))
        if fields:
            return f"unknown name {name!r}", "known here: " + ", ".join(fields)
        return f"unknown name {name!r}", "see `complaintflow schema` for the variables"
    if match := _OVERLOAD.search(message):
        operator = match[1].strip("_") or match[1]
        types = match[2]
        hint = ""
        if "double" in types and "int" in types:
            hint = "numbers must be of one type: write 1.0 (not 1) next to a decimal value"
        elif operator in FUNCTIONS:
            hint = FUNCTIONS[operator]
        return f"cannot apply {operator!r} to ({types})", hint or "compare values of one type"
    if message.startswith("Syntax error"):
        return message.replace(
            "Syntax error: ", "syntax error: "
        ), "CEL uses &&, ||, !, ==, 'text' in quotes and [lists]"
    return message, ""


def _type_label(t: Any) -> str:
    name = str(t.name()).lower()
    return {"double": "a number", "int": "a whole number", "string": "text"}.get(name, name)
