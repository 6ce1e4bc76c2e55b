"""Turns a policy file into a CompiledPolicy, reporting every problem with its location.

Order: YAML -> JSON Schema -> expressions, templates, references, durations and the
platform rules (what can be removed where). All diagnostics are collected, then raised at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from complaintflow.errors import Diagnostic, PolicyError, Severity
from complaintflow.rules.classifiers import ModelError, load_model, resolve, variables
from complaintflow.rules.durations import (
    DURATION_HINT,
    MAX_DURATION_SECONDS,
    format_duration,
    parse_duration,
)
from complaintflow.rules.expressions import (
    Batch,
    DecisionProgram,
    ExpressionEnv,
    FirstMatch,
    Program,
    Scope,
    referenced,
    variables_for,
)
from complaintflow.rules.language import DEFAULT_MIN_CONFIDENCE, ENGLISH_ONLY
from complaintflow.rules.lru import LruCache
from complaintflow.rules.model import (
    Account,
    Approval,
    Brand,
    ClassifierRef,
    CompiledPolicy,
    Escalation,
    Platform,
    Playbook,
    Route,
    Signal,
    Step,
    StepKind,
    TemplateText,
    Threshold,
    Translation,
    Unread,
)
from complaintflow.rules.schema import did_you_mean, validate_document
from complaintflow.rules.source import Document, NodePath, load_yaml, parse_yaml
from complaintflow.rules.templates import (
    MESSAGE_LIMITS,
    REPLY_LIMITS,
    Template,
    parse_template,
)

DEFAULT_APPROVAL_TIMEOUT = "24h"
# Bounds that keep every compiled policy runnable: names reach search attributes (keyword
# values) and workflow ids; conditions run inside CEL's per-evaluation iteration budget
# (10,000); durations become Temporal timers.
MAX_NAME_CHARS = 64
MAX_VERSION = 1_000_000
MAX_CONDITION_CHARS = 4_000
MAX_ITERATIONS = 5_000
MAX_COMPILED_BYTES = 256 * 1024
DEFAULT_ON_TIMEOUT = "escalate"
# The route name decisions carry when a mention took the policy's `unread:` route.
UNREAD_ROUTE = "unread"
_NAMES = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# Which removal each platform lets a brand do on its own channel.
REMOVABLE: dict[str, frozenset[str]] = {
    "x": frozenset({"hide"}),
    "facebook": frozenset({"hide", "delete"}),
    "instagram": frozenset({"hide", "delete"}),
    "google_business": frozenset(),
}
_ACCOUNT_FIELDS = {
    "x": ("user_id", "handle"),
    "facebook": ("page_id", "name"),
    "instagram": ("account_id", "username"),
    "google_business": ("location_id", "account_id"),
}


@dataclasses.dataclass(frozen=True)
class Programs:
    """The compiled CEL programs of one policy: signals and routes batched, step conditions."""

    signals: tuple[Signal, ...]
    signal_batch: Batch
    routes: tuple[Route, ...]
    route_match: FirstMatch
    steps: dict[tuple[str, str], Program]  # (playbook, step id) -> condition
    # The variables the signal and route conditions read: only these are passed to CEL,
    # since converting each value costs more than evaluating most conditions.
    signal_variables: tuple[str, ...]
    route_variables: tuple[str, ...]
    # Everything above in one evaluation, reading `decision_variables`.
    decision: DecisionProgram
    decision_variables: tuple[str, ...]


def _assemble(
    signals: list[tuple[Signal, Program]],
    routes: list[tuple[Route, Program]],
    steps: dict[tuple[str, str], Program],
    thresholds: tuple[Threshold, ...],
    signal_env: ExpressionEnv,
    route_env: ExpressionEnv,
) -> Programs:
    signal_variables = referenced(signal_env, [p for _, p in signals])
    route_variables = referenced(route_env, [p for _, p in routes])
    mention_level = set(signal_env.variables)
    return Programs(
        signals=tuple(s for s, _ in signals),
        signal_batch=signal_env.batch([p for _, p in signals]),
        routes=tuple(r for r, _ in routes),
        route_match=route_env.first_match([p for _, p in routes]),
        steps=steps,
        signal_variables=signal_variables,
        route_variables=route_variables,
        decision=signal_env.decision(
            [(s.name, p, s.weight) for s, p in signals],
            {t.name: t.value for t in thresholds},
            [p for _, p in routes],
        ),
        decision_variables=tuple(
            dict.fromkeys([*signal_variables, *(v for v in route_variables if v in mention_level)])
        ),
    )


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


# The one home of compiled programs, by policy content hash: only `_Compiler.run` and
# `programs_for` below store in it (workflows reach it only through `programs_for`). Bounded,
# since a long-running worker sees every policy version its cases pinned; a miss recompiles.
_PROGRAMS: LruCache[str, Programs] = LruCache(maxsize=64)


def load_policy(path: str | Path) -> CompiledPolicy:
    """Load, validate and compile the policy file at `path`; raise PolicyError on any error."""
    result = check_file(path)
    if result.policy is None:
        raise PolicyError(result.diagnostics)
    return result.policy


def compile_policy(text: str | bytes, *, name: str = "<policy>") -> CompiledPolicy:
    """Compile policy YAML given as text; raise PolicyError on any error."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    result = check_document(parse_yaml(raw, name))
    if result.policy is None:
        raise PolicyError(result.diagnostics)
    return result.policy


def check_file(path: str | Path) -> Compilation:
    """Compile the file at `path`, returning the result and all diagnostics (never raises)."""
    try:
        document = load_yaml(path)
    except PolicyError as exc:
        return Compilation(None, None, exc.diagnostics)
    return check_document(document)


def check_document(document: Document) -> Compilation:
    """Compile a loaded document, returning the result and all diagnostics (never raises)."""
    schema_errors = validate_document(document)
    if schema_errors:
        return Compilation(None, None, tuple(sorted(schema_errors)))
    return _Compiler(document).run()


def programs_for(policy: CompiledPolicy) -> Programs:
    """The compiled programs of `policy`, compiled once per content hash and cached."""
    cached = _PROGRAMS.get(policy.content_hash)
    if cached is not None:
        return cached
    signal_names = [s.name for s in policy.signals]
    threshold_names = [t.name for t in policy.thresholds]
    outputs = classifier_variables(policy.classifiers)
    signal_env = ExpressionEnv(Scope.SIGNAL, variables_for(Scope.SIGNAL, classifiers=outputs))
    route_env = ExpressionEnv(
        Scope.ROUTE, variables_for(Scope.ROUTE, signal_names, threshold_names, outputs)
    )
    step_env = ExpressionEnv(Scope.STEP, variables_for(Scope.STEP, signal_names, threshold_names))

    def must(env: ExpressionEnv, source: str) -> Program:
        program = env.compile(source)
        if not isinstance(program, Program):
            raise ValueError(f"condition {source!r} does not compile: {program}")
        return program

    programs = _assemble(
        [(s, must(signal_env, s.when)) for s in policy.signals],
        [(r, must(route_env, r.when or "true")) for r in policy.routes],
        {
            (p.name, s.id): must(step_env, s.when)
            for p in policy.playbooks
            for s in p.steps
            if s.when
        },
        policy.thresholds,
        signal_env,
        route_env,
    )
    _PROGRAMS[policy.content_hash] = programs
    return programs


class _Compiler:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.data: dict[str, Any] = document.data
        self.diagnostics: list[Diagnostic] = []
        self.used_templates: set[str] = set()
        self.step_programs: dict[tuple[str, str], Program] = {}
        self.languages: tuple[str, ...] = tuple(self.data.get("languages", ()))
        # Templates written per language: name -> {language: parsed text}.
        self.translations: dict[str, dict[str, Template]] = {}
        # Templates customers read, per playbook: (playbook, template, where it is used).
        self.customer_templates: list[tuple[str, str, NodePath]] = []
        self.iterations = 0  # worst-case comprehension iterations of signals and routes

    # -- helpers -----------------------------------------------------------------------------
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
        if text is None:
            text = default
        if text is None:
            return 0
        seconds = parse_duration(text)
        if seconds is None:
            self.error(path, f"{_shown(text)} is not a duration", DURATION_HINT)
            return 0
        if seconds > MAX_DURATION_SECONDS:
            self.error(
                path,
                f"{_shown(text)} is longer than a case may wait "
                f"({format_duration(MAX_DURATION_SECONDS)})",
                f"write at most {format_duration(MAX_DURATION_SECONDS)}",
            )
            return 0
        return seconds

    def condition(self, env: ExpressionEnv, path: NodePath, source: str) -> Program | None:
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
                offset=_offset_of(source, problem.line, problem.column),
            )
        return None

    # -- the passes --------------------------------------------------------------------------
    def run(self) -> Compilation:
        brand = self.brand()
        signal_names = list(self.data["seriousness"]["signals"])
        threshold_names = list(self.data["seriousness"]["thresholds"])
        classifiers = self.classifiers()
        outputs = classifier_variables(classifiers)
        signal_env = ExpressionEnv(Scope.SIGNAL, variables_for(Scope.SIGNAL, classifiers=outputs))
        route_env = ExpressionEnv(
            Scope.ROUTE, variables_for(Scope.ROUTE, signal_names, threshold_names, outputs)
        )
        step_env = ExpressionEnv(
            Scope.STEP, variables_for(Scope.STEP, signal_names, threshold_names)
        )
        self.policy_name()
        signals = self.signals(signal_env)
        thresholds = tuple(
            Threshold(n, float(v)) for n, v in self.data["seriousness"]["thresholds"].items()
        )
        templates = self.templates(brand)
        routes = self.routes(route_env)
        if self.iterations > MAX_ITERATIONS:  # signals and routes run in one evaluation
            self.error(
                ("seriousness", "signals"),
                f"the signals and routes together may loop {self.iterations:,} times per "
                f"mention; at most {MAX_ITERATIONS:,} are allowed",
                "use text_has_any([...]) or `x in [...]` instead of comprehensions",
            )
        playbooks = tuple(
            self.playbook(name, body, brand, templates, step_env)
            for name, body in self.data["playbooks"].items()
        )
        unread = self.unread(routes)
        self.template_languages()
        self.unused(templates, routes)
        if any(d.severity is Severity.ERROR for d in self.diagnostics):
            return Compilation(None, None, tuple(sorted(set(self.diagnostics))))
        policy = CompiledPolicy(
            name=self.data["policy"],
            version=self.data["version"],
            content_hash="",
            brand=brand,
            signals=tuple(s for s, _ in signals),
            thresholds=thresholds,
            routes=tuple(r for r, _ in routes),
            playbooks=playbooks,
            templates=tuple(
                TemplateText(
                    t.name,
                    t.parts,
                    tuple(
                        Translation(language, variant.parts)
                        for language, variant in self.translations.get(t.name, {}).items()
                    ),
                )
                for t in templates.values()
            ),
            source=Path(self.doc.file).name,
            redact_customer_text=bool(self.data.get("privacy", {}).get("redact_customer_text")),
            languages=self.languages,
            unread=unread,
            classifiers=classifiers,
        )
        size = len(policy.to_json().encode())
        if size > MAX_COMPILED_BYTES:  # it rides in every case's input (2 MB payload limit)
            self.error(
                (),
                f"the compiled policy is {size // 1024} KiB; at most "
                f"{MAX_COMPILED_BYTES // 1024} KiB can travel with each case",
                "shorten the templates and conditions, or split the policy",
            )
            return Compilation(None, None, tuple(sorted(set(self.diagnostics))))
        digest = hashlib.sha256(policy.to_json().encode()).hexdigest()
        policy = dataclasses.replace(policy, content_hash=digest)
        programs = _assemble(signals, routes, self.step_programs, thresholds, signal_env, route_env)
        _PROGRAMS[digest] = programs
        return Compilation(policy, programs, tuple(sorted(set(self.diagnostics))))

    def policy_name(self) -> None:
        """The name and version reach search attributes and logs: keep them short."""
        name = self.data["policy"]
        if len(name) > MAX_NAME_CHARS:
            self.error(
                ("policy",),
                f"the policy name is {len(name)} characters; at most {MAX_NAME_CHARS}",
                "use a short name; say more under `description:`",
            )
        if not 1 <= self.data["version"] <= MAX_VERSION:
            self.error(("version",), f"the version must be from 1 to {MAX_VERSION:,}")
        for kind, names in (
            ("signal", self.data["seriousness"]["signals"]),
            ("threshold", self.data["seriousness"]["thresholds"]),
            ("playbook", self.data["playbooks"]),
            ("template", self.data["templates"]),
        ):
            for item in names:
                if len(item) > MAX_NAME_CHARS:
                    where: NodePath = {
                        "signal": ("seriousness", "signals", item),
                        "threshold": ("seriousness", "thresholds", item),
                        "playbook": ("playbooks", item),
                        "template": ("templates", item),
                    }[kind]
                    self.error(
                        where,
                        f"the {kind} name is {len(item)} characters; at most {MAX_NAME_CHARS}",
                        "use a shorter name",
                        key=True,
                    )
        for index, route in enumerate(self.data["routes"]):
            if len(route["name"]) > MAX_NAME_CHARS:
                self.error(
                    ("routes", index, "name"),
                    f"the route name is {len(route['name'])} characters; at most {MAX_NAME_CHARS}",
                    "use a shorter name",
                )

    def classifiers(self) -> tuple[ClassifierRef, ...]:
        """Load each declared model (relative to the policy file); its hash pins it."""
        refs = []
        base = Path(self.doc.file).parent
        for name, body in self.data.get("classifiers", {}).items():
            path = resolve(body["model"], base)
            try:
                model = load_model(path)
            except ModelError as exc:
                self.error(
                    ("classifiers", name, "model"),
                    str(exc),
                    "train one with `complaintflow train LABELLED.csv --out FILE`",
                )
                # declared anyway (widest outputs), so its uses are not reported as unknown
                refs.append(ClassifierRef(name, body["model"], "severity", ""))
                continue
            refs.append(ClassifierRef(name, body["model"], model.task, model.sha256))
        return tuple(refs)

    def brand(self) -> Brand:
        body = self.data["brand"]
        accounts = []
        for platform, fields in body["accounts"].items():
            id_field, handle_field = _ACCOUNT_FIELDS[platform]
            accounts.append(
                Account(
                    Platform(platform), str(fields[id_field]), str(fields.get(handle_field, ""))
                )
            )
        if not accounts:
            self.error(
                ("brand", "accounts"),
                "the brand has no accounts",
                'add at least one, e.g. `x: {user_id: "...", handle: ...}`',
            )
        contact = body["contact"]
        return Brand(
            body["name"],
            tuple(accounts),
            contact.get("email", ""),
            contact.get("phone", ""),
            contact.get("hours", ""),
        )

    def signals(self, env: ExpressionEnv) -> list[tuple[Signal, Program]]:
        out = []
        for name, body in self.data["seriousness"]["signals"].items():
            path: NodePath = ("seriousness", "signals", name, "when")
            program = self.condition(env, path, body["when"])
            if program is not None:
                out.append(
                    (
                        Signal(
                            name, body["when"], float(body["weight"]), body.get("description", "")
                        ),
                        program,
                    )
                )
        return out

    def routes(self, env: ExpressionEnv) -> list[tuple[Route, Program]]:
        out: list[tuple[Route, Program]] = []
        playbooks = self.data["playbooks"]
        names: dict[str, int] = {}
        catch_all: str | None = None
        for index, body in enumerate(self.data["routes"]):
            path: NodePath = ("routes", index)
            name = body["name"]
            if name in names:
                self.error(
                    (*path, "name"),
                    f"route name {name!r} is used twice",
                    "give each route its own name",
                )
            names[name] = index
            if catch_all is not None:
                self.error(
                    path,
                    f"route {name!r} can never match: route {catch_all!r} above "
                    "matches every mention",
                    "move it above, or remove it",
                )
            if body["playbook"] not in playbooks:
                self.error(
                    (*path, "playbook"),
                    f"unknown playbook {body['playbook']!r}",
                    did_you_mean(body["playbook"], playbooks, what="playbooks"),
                )
            when = body.get("when")
            if when is None or when.strip() == "true":
                catch_all = catch_all or name
                when = None
            program = self.condition(env, (*path, "when"), when or "true")
            if program is not None:
                out.append((Route(name, body["playbook"], when), program))
        return out

    def templates(self, brand: Brand) -> dict[str, Template]:
        static = {"brand.name": brand.name}
        static.update(
            {
                f"brand.contact.{k}": v
                for k, v in (("email", brand.email), ("phone", brand.phone), ("hours", brand.hours))
                if v
            }
        )
        static.update(
            {f"brand.{a.platform.value}.handle": a.handle for a in brand.accounts if a.handle}
        )
        out: dict[str, Template] = {}
        for name, text in self.data["templates"].items():
            if isinstance(text, dict):
                self.template_per_language(name, text, static, out)
                continue
            parsed = parse_template(name, text, static)
            if isinstance(parsed, Template):
                out[name] = parsed
                continue
            for problem in parsed:
                self.error(
                    ("templates", name), problem.message, problem.hint, offset=problem.offset
                )
        return out

    def template_per_language(
        self, name: str, texts: dict[str, str], static: dict[str, str], out: dict[str, Template]
    ) -> None:
        """A template written in several languages: `{en: ..., es: ...}`.

        Languages beyond `languages:` are for cases a supervisor routes by hand.
        """
        variants: dict[str, Template] = {}
        for language, text in texts.items():
            path: NodePath = ("templates", name, language)
            parsed = parse_template(name, text, static)
            if isinstance(parsed, Template):
                variants[language] = parsed
                continue
            for problem in parsed:
                self.error(path, problem.message, problem.hint, offset=problem.offset)
        if not variants:
            return
        first = next((lang for lang in self.languages if lang in variants), next(iter(variants)))
        out[name] = variants[first]
        self.translations[name] = variants

    def approval(self, path: NodePath, body: dict[str, Any] | None) -> Approval | None:
        if body is None:
            return None
        defaults = self.data.get("approvals", {})
        timeout = body.get("timeout")
        where = (*path, "timeout") if timeout is not None else ("approvals", "timeout")
        seconds = self.duration(where, timeout or defaults.get("timeout"), DEFAULT_APPROVAL_TIMEOUT)
        on_timeout = body.get("on_timeout") or defaults.get("on_timeout") or DEFAULT_ON_TIMEOUT
        return Approval(seconds, on_timeout, tuple(body.get("approvers", ())))

    def template_ref(
        self,
        path: NodePath,
        name: str | None,
        templates: dict[str, Template],
        limits: dict[str, int] | None,
        channels: list[str],
    ) -> None:
        if name is None:
            return
        self.used_templates.add(name)
        if name not in self.data["templates"]:
            self.error(
                path,
                f"unknown template {name!r}",
                did_you_mean(name, self.data["templates"], what="templates"),
            )
            return
        template = templates.get(name)
        if template is None or limits is None:
            return
        for variant in self.translations.get(name, {}).values() or [template]:
            self.template_limits(name, variant, limits, channels)

    def template_limits(
        self, name: str, template: Template, limits: dict[str, int], channels: list[str]
    ) -> None:
        for channel in channels:
            shortest, longest = template.length_bounds(channel)
            limit = limits[channel]
            if shortest > limit:
                self.error(
                    ("templates", name),
                    f"template {name!r} is {shortest} characters; {channel} allows {limit}",
                    "shorten it",
                )
            elif longest > limit:  # the platform would refuse the post
                self.error(
                    ("templates", name),
                    f"template {name!r} can reach {longest} characters with long names "
                    f"(as {channel} counts them); {channel} allows {limit}",
                    "shorten the text or use fewer placeholders",
                )

    def playbook(
        self,
        name: str,
        body: dict[str, Any],
        brand: Brand,
        templates: dict[str, Template],
        env: ExpressionEnv,
    ) -> Playbook:
        base: NodePath = ("playbooks", name)
        owned = [a.platform.value for a in brand.accounts]
        steps: list[Step] = []
        ids: set[str] = set()
        closed_at: int | None = None
        resolved_awaited = False
        for index, raw in enumerate(body["steps"]):
            path: NodePath = (*base, "steps", index)
            kinds = [k for k in raw if k != "id"]
            if len(kinds) != 1:
                found = f"found {', '.join(kinds)}" if kinds else "found none"
                self.error(
                    path,
                    f"a step has exactly one kind, {found}",
                    "split it into one list item per step"
                    if kinds
                    else "add one, e.g. `reply: {template: NAME}`",
                )
                continue
            kind_name = kinds[0]
            kind = StepKind(kind_name)
            options = raw[kind_name]
            opath: NodePath = (*path, kind_name)
            if closed_at is not None:
                self.error(
                    path,
                    "this step comes after an unconditional `close` and never runs",
                    "move it before the close, or give the close a `when:`",
                )
                closed_at = None  # report once
            options = _normalise_options(kind, options)
            step_id = raw.get("id") or _default_id(kind, options)
            if step_id in ids:
                step_id = _unique(step_id, ids) if "id" not in raw else step_id
                if step_id in ids:
                    self.error(
                        (*path, "id"),
                        f"step id {step_id!r} is used twice in playbook {name!r}",
                        "give each step its own id",
                    )
            ids.add(step_id)
            if len(step_id) > MAX_NAME_CHARS:
                self.error(
                    (*path, "id"),
                    f"the step id is {len(step_id)} characters; at most {MAX_NAME_CHARS}",
                    "use a shorter id",
                )
            when = options.get("when")
            if when is not None:
                program = self.condition(env, (*opath, "when"), when)
                if program is not None:
                    self.step_programs[(name, step_id)] = program
            approval = self.approval((*opath, "approval"), options.get("approval"))
            step = Step(id=step_id, kind=kind, when=when, approval=approval)
            if kind is StepKind.REPLY:
                self.customer_templates.append((name, options["template"], (*opath, "template")))
                self.template_ref(
                    (*opath, "template"), options["template"], templates, REPLY_LIMITS, owned
                )
                step = dataclasses.replace(step, template=options["template"])
            elif kind is StepKind.HANDOFF:
                self.customer_templates.append((name, options["template"], (*opath, "template")))
                step = self.handoff(opath, options, step, brand, templates, owned)
            elif kind in (StepKind.NOTIFY, StepKind.ESCALATE):
                self.template_ref(
                    (*opath, "template"), options.get("template"), templates, None, owned
                )
                step = dataclasses.replace(
                    step,
                    via=options.get("via"),
                    target=options.get("target"),
                    template=options.get("template"),
                    priority=options.get("priority"),
                )
            elif kind is StepKind.TICKET:
                step = dataclasses.replace(
                    step, system=options["system"], priority=options.get("priority")
                )
            elif kind is StepKind.AWAIT:
                step = self.await_step(opath, options, step)
                resolved_awaited = resolved_awaited or step.event == "resolution"
            elif kind is StepKind.WAIT:
                where = (*opath, "duration") if isinstance(raw[kind_name], dict) else opath
                step = dataclasses.replace(
                    step, duration_seconds=self.duration(where, options["duration"])
                )
            elif kind is StepKind.REMOVE_PUBLIC:
                step = self.removal(opath, options, step, owned, resolved_awaited)
            elif kind is StepKind.CLOSE:
                step = dataclasses.replace(step, reason=options.get("reason") or "done")
                if when is None:
                    closed_at = index
            steps.append(step)
        escalations = tuple(
            Escalation(
                self.duration((*base, "escalations", i, "after"), e["after"]),
                e["via"],
                e["target"],
                e.get("priority"),
            )
            for i, e in enumerate(body.get("escalations", []))
        )
        return Playbook(
            name=name,
            priority=body.get("priority", "normal"),
            respond_within_seconds=self.duration((*base, "respond_within"), body["respond_within"]),
            steps=tuple(steps),
            escalations=escalations,
            description=body.get("description", ""),
        )

    def handoff(
        self,
        path: NodePath,
        options: dict[str, Any],
        step: Step,
        brand: Brand,
        templates: dict[str, Template],
        owned: list[str],
    ) -> Step:
        self.template_ref(
            (*path, "template"), options["template"], templates, MESSAGE_LIMITS, owned
        )
        offer = tuple(options.get("offer", ["email", "phone"]))
        for item in offer:
            if not getattr(brand, item):
                self.error(
                    (*path, "offer"),
                    f"the handoff offers {item} but brand.contact has no {item}",
                    f"add `{item}:` under brand.contact",
                )
        wait = options.get("await_contact")
        return dataclasses.replace(
            step,
            via=options.get("via", "private_message"),
            template=options["template"],
            offer=offer,
            await_contact_seconds=self.duration((*path, "await_contact"), wait)
            if wait is not None
            else None,
            on_no_contact=options.get("on_no_contact", "close"),
        )

    def await_step(self, path: NodePath, options: dict[str, Any], step: Step) -> Step:
        event = options["event"]
        if event == "signal" and not options.get("signal"):
            self.error(
                path, "`await: {event: signal}` needs the signal's name", "add `signal: NAME`"
            )
        timeout = options.get("timeout")
        return dataclasses.replace(
            step,
            event=event,
            signal=options.get("signal"),
            timeout_seconds=self.duration((*path, "timeout"), timeout)
            if timeout is not None
            else None,
            on_timeout=options.get("on_timeout", "continue") if timeout is not None else None,
        )

    def removal(
        self,
        path: NodePath,
        options: dict[str, Any],
        step: Step,
        owned: list[str],
        resolved_awaited: bool,
    ) -> Step:
        action = options["action"]
        if step.approval is None:
            self.error(
                path,
                "removing a public post needs a supervisor's approval",
                "add `approval: {}` (or with timeout/on_timeout)",
            )
        elif step.approval.on_timeout == "approve":
            self.error(
                (*path, "approval", "on_timeout"),
                "a removal cannot approve itself when nobody decides",
                "use on_timeout: skip, escalate or close",
            )
        if not resolved_awaited and not (step.when and "case.resolved" in step.when):
            self.error(
                path,
                "remove_public runs only after the case is resolved",
                "put `- await: resolution` before it",
            )
        channels = options.get("channels")
        if channels is None:
            chosen = tuple(c for c in owned if action in REMOVABLE[c])
            if "x" in owned and action == "delete":
                self.error(
                    (*path, "action"),
                    "X does not let a brand delete a customer's post",
                    "use action: hide, or list `channels: [facebook, instagram]`",
                )
            if not chosen:
                self.error(
                    path,
                    f"the brand owns no channel where it can {action} a post",
                    "add a facebook or instagram account under brand.accounts",
                )
            return dataclasses.replace(step, action=action, channels=chosen)
        for index, channel in enumerate(channels):
            where = (*path, "channels", index)
            if channel not in owned:
                self.error(
                    where,
                    f"the brand has no {channel} account, so it cannot remove posts there",
                    f"add it under brand.accounts or remove {channel!r}",
                )
            elif action not in REMOVABLE[channel]:
                can = sorted(REMOVABLE[channel])
                self.error(
                    where,
                    f"{channel} does not let a brand {action} a customer's post",
                    f"use action: {can[0]}" if can else f"remove {channel!r}",
                )
        return dataclasses.replace(step, action=action, channels=tuple(channels))

    # -- languages ---------------------------------------------------------------------------
    def unread(self, routes: list[tuple[Route, Program]]) -> Unread | None:
        """The route for mentions the policy cannot read; a warning when there is none."""
        body = self.data.get("unread")
        if body is None:
            self.warn(
                ("languages",) if self.languages else ("routes",),
                "mentions in a language the policy cannot read have no route: "
                "they are scored by its signals and may be logged as throwaway remarks",
                "add `unread: {playbook: human_triage}` (with `languages: [en]`) so a person "
                "sees them",
            )
            return None
        if not self.languages:
            self.error(
                ("unread",),
                "`unread:` needs the languages the policy can read",
                "add `languages: [en]` (ISO 639-1 codes)",
            )
        if body["playbook"] not in self.data["playbooks"]:
            self.error(
                ("unread", "playbook"),
                f"unknown playbook {body['playbook']!r}",
                did_you_mean(body["playbook"], self.data["playbooks"], what="playbooks"),
            )
        elif any(p == body["playbook"] for p, _, _ in self.customer_templates):
            self.warn(
                ("unread", "playbook"),
                f"playbook {body['playbook']!r} replies to customers, but the unread route "
                "brings posts in languages the policy has no texts for",
                "let a person pick the playbook: notify, then `await: route`",
            )
        for route, _ in routes:
            if route.name == UNREAD_ROUTE:
                self.error(
                    ("routes",),
                    f"route name {UNREAD_ROUTE!r} is kept for the `unread:` route",
                    "rename the route",
                )
        return Unread(body["playbook"], float(body.get("min_confidence", DEFAULT_MIN_CONFIDENCE)))

    def template_languages(self) -> None:
        """Every language the policy reads has every template its playbooks send customers."""
        if not self.languages:
            return
        first = self.languages[0]
        for playbook, name, path in self.customer_templates:
            if name not in self.data["templates"]:
                continue  # reported as unknown
            variants = self.translations.get(name)
            written = set(variants) if variants is not None else {first}
            missing = [lang for lang in self.languages if lang not in written]
            if missing:
                self.error(
                    path,
                    f"playbook {playbook!r} replies with template {name!r}, which has no "
                    f"{', '.join(missing)} text, but the policy reads "
                    f"{', '.join(self.languages)}",
                    f"write it per language: `{name}: {{{first}: ..., {missing[0]}: ...}}`",
                )

    def english_only(self, path: NodePath, source: str) -> None:
        """Warn when a condition reads English-only signals for other languages too."""
        others = [lang for lang in self.languages if lang != "en"]
        if not others:
            return
        tokens = set(_NAMES.findall(source))
        if "mention.language" in tokens:
            return  # the author chose which languages it applies to
        for name, why in ENGLISH_ONLY.items():
            if name in tokens:
                self.warn(
                    path,
                    f"{name} reads English only ({why}), but the policy also reads "
                    f"{', '.join(others)}",
                    f"guard it, e.g. `mention.language == 'en' && {name} ...`",
                )

    def unused(self, templates: dict[str, Template], routes: list[tuple[Route, Program]]) -> None:
        for name in self.data["templates"]:
            if name not in self.used_templates:
                self.warn(
                    ("templates", name),
                    f"template {name!r} is never used",
                    "use it in a step or remove it",
                )
        routed = {r.playbook for r, _ in routes}
        if isinstance(self.data.get("unread"), dict):
            routed.add(self.data["unread"].get("playbook"))
        for name in self.data["playbooks"]:
            if name not in routed:
                self.warn(
                    ("playbooks", name),
                    f"playbook {name!r} is not used by any route",
                    "add a route to it or remove it",
                )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def iteration_bound(source: str) -> int:
    """A safe over-estimate of the comprehension iterations one evaluation of `source` does.

    Conditions read no lists from the mention, so every comprehension ranges over list or map
    literals (or what they produce: never more items than the literals hold); n nested
    comprehensions over at most `items` elements loop at most items ** n times.
    """
    code = _STRINGS.sub("''", source)
    deepest, depth = 0, 0
    stack: list[int] = []
    for match in re.finditer(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(|[()]", code):
        token = match[0]
        if token == ")":
            if stack and stack[-1] == depth:
                stack.pop()
            depth -= 1
            continue
        depth += 1
        if token != "(":
            stack.append(depth)
            deepest = max(deepest, len(stack))
    if not deepest:
        return 0
    items = code.count(",") + code.count("[") + code.count("{")
    bound: int = max(1, items) ** deepest
    return bound


_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def classifier_variables(refs: tuple[ClassifierRef, ...]) -> tuple[str, ...]:
    """The `classifier.NAME...` variables the declared classifiers provide."""
    return tuple(name for ref in refs for name in variables(ref.name, ref.task))


def _normalise_options(kind: StepKind, options: Any) -> dict[str, Any]:
    """Expand the scalar shorthands (`await: resolution`, `wait: 2h`, `close:`) to mappings."""
    if options is None:
        return {}
    if kind is StepKind.AWAIT and isinstance(options, str):
        return {"event": options}
    if kind is StepKind.WAIT and isinstance(options, str):
        return {"duration": options}
    result: dict[str, Any] = options
    return result


def _default_id(kind: StepKind, options: dict[str, Any]) -> str:
    for field in ("template", "event", "action"):
        if options.get(field):
            return f"{kind.value}_{options[field]}"
    return kind.value


def _unique(step_id: str, taken: set[str]) -> str:
    n = 2
    while f"{step_id}_{n}" in taken:
        n += 1
    return f"{step_id}_{n}"


def _offset_of(text: str, line: int, column: int) -> int:
    """0-based character offset of a 1-based (line, column) in `text`."""
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


def policy_json_schema() -> str:
    """The schema as pretty JSON text (for `complaintflow schema`)."""
    from complaintflow.rules.schema import policy_schema

    return json.dumps(policy_schema(), indent=2)
