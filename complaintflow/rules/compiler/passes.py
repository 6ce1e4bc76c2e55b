"""The compiler's passes in order: brand -> classifiers -> names -> signals -> templates ->
routes -> playbooks -> languages and unused -> assemble, with the size bound and hash last."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from complaintflow.errors import Diagnostic, Severity
from complaintflow.rules.expressions import Program
from complaintflow.rules.model import (
    Brand,
    ClassifierRef,
    CompiledPolicy,
    Playbook,
    Route,
    Signal,
    TemplateText,
    Threshold,
    Translation,
    Unread,
)
from complaintflow.rules.source import Document
from complaintflow.rules.templates import Template

from . import sections, steps, texts
from .context import Context
from .limits import MAX_COMPILED_BYTES
from .programs import Programs, assemble, environments, remember


@dataclasses.dataclass(frozen=True)
class Compilation:
    """What compiling produced: the policy (None when it has errors) and every diagnostic."""

    policy: CompiledPolicy | None
    programs: Programs | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)


@dataclasses.dataclass(frozen=True)
class _Parts:
    """What the checking passes produced, for assembling the compiled policy."""

    brand: Brand
    classifiers: tuple[ClassifierRef, ...]
    signals: list[tuple[Signal, Program]]
    thresholds: tuple[Threshold, ...]
    templates: dict[str, Template]
    routes: list[tuple[Route, Program]]
    playbooks: tuple[Playbook, ...]
    unread: Unread | None


def run(document: Document) -> Compilation:
    """Compile a document that passed the schema, collecting every diagnostic."""
    c = Context(document)
    brand = sections.brand(c)
    seriousness = c.data["seriousness"]
    classifiers = sections.classifiers(c)
    envs = environments(list(seriousness["signals"]), list(seriousness["thresholds"]), classifiers)
    sections.names(c)
    signals = sections.signals(c, envs.signal)
    thresholds = tuple(Threshold(n, float(v)) for n, v in seriousness["thresholds"].items())
    templates = texts.templates(c, brand)
    routes = sections.routes(c, envs.route)
    sections.iterations(c)
    playbooks = tuple(
        steps.playbook(c, name, body, brand, templates, envs.step)
        for name, body in c.data["playbooks"].items()
    )
    unread = sections.unread(c, routes)
    texts.languages(c)
    sections.unused(c, routes)
    if c.failed:
        return Compilation(None, None, c.found())
    parts = _Parts(brand, classifiers, signals, thresholds, templates, routes, playbooks, unread)
    policy = _policy(c, parts)
    if policy is None:
        return Compilation(None, None, c.found())
    programs = assemble(signals, routes, c.step_programs, thresholds, envs.signal, envs.route)
    remember(policy.content_hash, programs)
    return Compilation(policy, programs, c.found())


def _policy(c: Context, parts: _Parts) -> CompiledPolicy | None:
    """The compiled policy with its content hash; None (with an error) when it is too big."""
    policy = CompiledPolicy(
        name=c.data["policy"],
        version=c.data["version"],
        content_hash="",
        brand=parts.brand,
        signals=tuple(s for s, _ in parts.signals),
        thresholds=parts.thresholds,
        routes=tuple(r for r, _ in parts.routes),
        playbooks=parts.playbooks,
        templates=_texts(c, parts.templates),
        source=Path(c.doc.file).name,
        redact_customer_text=bool(c.data.get("privacy", {}).get("redact_customer_text")),
        languages=c.languages,
        unread=parts.unread,
        classifiers=parts.classifiers,
    )
    size = len(policy.to_json().encode())
    if size > MAX_COMPILED_BYTES:  # it rides in every case's input (2 MB payload limit)
        c.error(
            (),
            f"the compiled policy is {size // 1024} KiB; at most "
            f"{MAX_COMPILED_BYTES // 1024} KiB can travel with each case",
            "shorten the templates and conditions, or split the policy",
        )
        return None
    digest = hashlib.sha256(policy.to_json().encode()).hexdigest()
    return dataclasses.replace(policy, content_hash=digest)


def _texts(c: Context, templates: dict[str, Template]) -> tuple[TemplateText, ...]:
    """Each template's text, with its translations."""
    return tuple(
        TemplateText(
            t.name,
            t.parts,
            tuple(
                Translation(language, variant.parts)
                for language, variant in c.translations.get(t.name, {}).items()
            ),
        )
        for t in templates.values()
    )
