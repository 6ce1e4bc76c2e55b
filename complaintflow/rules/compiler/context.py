"""What the compiler's passes share: the document, the diagnostics so far, and what earlier
passes found (templates used, translations, step conditions, comprehension iterations)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from complaintflow.errors import Diagnostic, Severity
from complaintflow.rules.durations import (
    DURATION_HINT,
    MAX_DURATION_SECONDS,
    format_duration,
    parse_duration,
)
from complaintflow.rules.expressions import ExpressionEnv, Program
from complaintflow.rules.language import ENGLISH_ONLY
from complaintflow.rules.source import Document, NodePath
from complaintflow.rules.templates import Template

from .limits import MAX_CONDITION_CHARS, MAX_ITERATIONS, iteration_bound, offset_of, shown

_NAMES = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


class Context:
    """One compilation in progress: report problems here, read what earlier passes found."""

    def __init__(self, document: Document) -> None:
        self.doc = document
        self.data: dict[str, Any] = document.data
        self.diagnostics: list[Diagnostic] = []
        self.used_templates: set[str] = set()
        self.step_programs: dict[tuple[str, str], Program] = {}
        self.languages: tuple[str, ...] = tuple(self.data.get("languages", ()))
        # Each declared classifier's language (what its model was trained on).
        self.classifier_languages: dict[str, str] = {}
        # Templates written per language: name -> {language: parsed text}.
        self.translations: dict[str, dict[str, Template]] = {}
        # Templates customers read, per playbook: (playbook, template, where it is used).
        self.customer_templates: list[tuple[str, str, NodePath]] = []
        self.iterations = 0  # worst-case comprehension iterations of signals and routes

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def found(self) -> tuple[Diagnostic, ...]:
        """Every diagnostic so far, once each, in file order."""
        return tuple(sorted(set(self.diagnostics)))

    def error(
        self,
        path: NodePath,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        offset: int | None = None,
    ) -> None:
        self.diagnostics.append(self.doc.diagnostic(path, message, hint, key=key, offset=offset))

    def warn(self, path: NodePath, message: str, hint: str = "") -> None:
        found = self.doc.diagnostic(path, message, hint)
        self.diagnostics.append(dataclasses.replace(found, severity=Severity.WARNING))

    def duration(self, path: NodePath, text: str | None, default: str | None = None) -> int:
        """Seconds of the duration written at `path` (0, with an error, when it is invalid)."""
        if text is None:
            text = default
        if text is None:
            return 0
        seconds = parse_duration(text)
        if seconds is None:
            self.error(path, f"{shown(text)} is not a duration", DURATION_HINT)
            return 0
        if seconds > MAX_DURATION_SECONDS:
            self.error(
                path,
                f"{shown(text)} is longer than a case may wait "
                f"({format_duration(MAX_DURATION_SECONDS)})",
                f"write at most {format_duration(MAX_DURATION_SECONDS)}",
            )
            return 0
        return seconds

    def condition(self, env: ExpressionEnv, path: NodePath, source: str) -> Program | None:
        """The compiled condition written at `path`, or None (with errors) when it is invalid."""
        if len(source) > MAX_CONDITION_CHARS:
            self.error(
                path,
                f"the condition is {len(source)} characters; at most {MAX_CONDITION_CHARS}",
                "split it into several signals",
            )
            return None
        iterations = iteration_bound(source)
        if iterations > MAX_ITERATIONS:
            self.error(
                path,
                f"the condition may loop {iterations:,} times per mention (nested "
                f"all/exists/map/filter over lists); at most {MAX_ITERATIONS:,} are allowed",
                "use text_has_any([...]) or `x in [...]` instead of nested comprehensions",
                offset=0,
            )
            return None
        self.iterations += iterations
        compiled = env.compile(source)
        if isinstance(compiled, Program):
            self.english_only(path, source)
            return compiled
        for problem in compiled:
            self.error(
                path,
                f"in condition: {problem.message}",
                problem.hint,
                offset=offset_of(source, problem.line, problem.column),
            )
        return None

    def english_only(self, path: NodePath, source: str) -> None:
        """Warn when a condition reads a one-language signal (VADER, the cue words, a model
        trained on one language) for mentions in the policy's other languages too."""
        tokens = set(_NAMES.findall(source))
        if "mention.language" in tokens:
            return  # the author chose which languages it applies to
        readers = [(name, "en", why) for name, why in ENGLISH_ONLY.items()]
        readers += [
            (f"classifier.{name}", language, f"its model learnt from {language} texts")
            for name, language in self.classifier_languages.items()
        ]
        for name, language, why in readers:
            others = [lang for lang in self.languages if lang != language]
            if others and any(t == name or t.startswith(name + "_") for t in tokens):
                shown = "English" if language == "en" else f"'{language}'"
                self.warn(
                    path,
                    f"{name} reads {shown} only ({why}), but the policy also reads "
                    f"{', '.join(others)}",
                    f"guard it, e.g. `mention.language == '{language}' && {name} ...`",
                )
