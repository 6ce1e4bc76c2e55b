"""Triage: a compiled policy and a mention in, a Decision out (score, signals, route, playbook).

Pure and fast: no I/O, no clock. A condition that fails to evaluate counts as false (fail
closed) and is reported in the Decision's `errors`, so a bad field can never open or skip a
case silently.
"""

import dataclasses
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from complaintflow.rules.bindings import brand_handles
from complaintflow.rules.classifiers import Classifiers, Model, ModelError, loaded
from complaintflow.rules.compiler import UNREAD_ROUTE, programs_for
from complaintflow.rules.expressions import (
    EvalError,
    Program,
    normalise_text,
    reset_text,
    round_score,
    set_text,
    text_in_scope,
)
from complaintflow.rules.features import language_of, mention_values, tone_of
from complaintflow.rules.language import prior_for
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, Step


@dataclasses.dataclass(frozen=True)
class SignalResult:
    """Whether one seriousness signal held, and what it adds to the score."""

    name: str
    held: bool
    weight: float
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the policy decided for one mention; route None means a throwaway remark."""

    mention_id: str
    score: float
    route: str | None
    playbook: str | None
    signals: tuple[SignalResult, ...]
    policy: str
    policy_version: int
    policy_hash: str
    errors: tuple[str, ...] = ()
    language: str = ""  # ISO 639-1 of the mention, "" when unknown
    language_confidence: float = 0.0

    @property
    def held(self) -> tuple[str, ...]:
        """Names of the signals that held."""
        return tuple(s.name for s in self.signals if s.held)

    def to_record(self) -> dict[str, Any]:
        """The decision-log / simulate line for this decision."""
        return {
            "id": self.mention_id,
            "route": self.route,
            "playbook": self.playbook,
            "score": self.score,
            "signals": list(self.held),
            "policy": self.policy,
            "policy_version": self.policy_version,
            "language": self.language,
            "language_confidence": self.language_confidence,
        }


class StepOutlook(StrEnum):
    """Whether a step will run, judged when the case opens."""

    RUNS = "runs"
    SKIPPED = "skipped"
    LATER = "decided when reached"  # its condition reads the case's state


@dataclasses.dataclass(frozen=True)
class PlannedStep:
    step: Step
    outlook: StepOutlook


CHUNK = 256  # mentions per stage in values_many: small enough to stay in the CPU's caches


class Triage:
    """Triage for one compiled policy; reuse it across mentions (the programs are cached)."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.programs = programs_for(policy)
        self.classifiers = classifiers_for(policy)
        self.handles = brand_handles(policy)
        self.thresholds = {f"thresholds.{t.name}": t.value for t in policy.thresholds}
        # Results are immutable: share one per signal and outcome instead of building them.
        self._held = {s.name: SignalResult(s.name, True, s.weight) for s in policy.signals}
        self._not_held = {s.name: SignalResult(s.name, False, s.weight) for s in policy.signals}
        self._patterns: dict[tuple[bool, ...], tuple[SignalResult, ...]] = {}
        self._signal_keys = tuple(f"signals.{s.name}" for s in self.programs.signals)
        self.languages = frozenset(policy.languages)
        self.unread = policy.unread
        self.prior = prior_for(policy)
        self._route_from_mention = tuple(
            name
            for name in self.programs.route_variables
            if name != "score" and not name.startswith(("signals.", "thresholds."))
        )

    def values(self, mention: Mention) -> tuple[dict[str, Any], str]:
        """The route-scope variable values (without score/signals) and normalised text.

        What `values_many` gives for one mention, without its lists and chunks: ingest calls
        this once per mention.
        """
        tone = tone_of(mention)
        normalised = normalise_text(mention.text)
        found = mention_values(
            mention, normalised, self.handles, known=(tone, language_of(mention, self.prior))
        )
        if self.classifiers is not None:
            found.update(self.classifiers.values(mention.text, tone))
        return found, normalised

    def values_many(self, mentions: Sequence[Mention]) -> list[tuple[dict[str, Any], str]]:
        """`values` of each mention, computed stage by stage over chunks of them.

        Sentiment, language, the classifiers: each runs over a chunk before the next starts,
        which keeps one stage's code and data in the CPU's caches (see `decide_many`).
        """
        out: list[tuple[dict[str, Any], str]] = []
        for start in range(0, len(mentions), CHUNK):
            chunk = mentions[start : start + CHUNK]
            tones = [tone_of(m) for m in chunk]
            languages = [language_of(m, self.prior) for m in chunk]
            texts = [normalise_text(m.text) for m in chunk]
            known = list(zip(tones, languages, strict=True))
            values = [
                mention_values(m, n, self.handles, known=k)
                for m, n, k in zip(chunk, texts, known, strict=True)
            ]
            if self.classifiers is not None:
                scored = [
                    self.classifiers.values(m.text, t) for m, t in zip(chunk, tones, strict=True)
                ]
                for found, output in zip(values, scored, strict=True):
                    found.update(output)
            out.extend(zip(values, texts, strict=True))
        return out

    def decide(self, mention: Mention) -> Decision:
        """Score the mention and pick the first matching route."""
        values, normalised = self.values(mention)
        return self.decide_values(mention.id, values, normalised)

    def decide_many(self, mentions: Sequence[Mention]) -> list[Decision]:
        """`decide` each mention, the same decisions, faster for a batch (evaluation,
        simulation, a backfill): stage by stage over chunks instead of mention by mention,
        which on the airline tweets triages about 1.6 times as many per second."""
        return [
            self.decide_values(m.id, values, normalised)
            for m, (values, normalised) in zip(mentions, self.values_many(mentions), strict=True)
        ]

    def decide_values(self, mention_id: str, values: dict[str, Any], normalised: str) -> Decision:
        """Decide from `values(mention)` computed earlier (evaluation tries variants of one
        policy on the same values): exactly what `decide` decides."""
        language: str = values["mention.language"]
        confidence: float = values["mention.language_confidence"]
        unread = self.unread
        decision = self._decide(mention_id, values, normalised)
        # Words the policy's signals cannot read go to a person, never the bin; a post with no
        # words at all (a bare link, handles, emoji) is no language's and is scored as it is.
        if (
            unread is not None
            and language
            and (language not in self.languages or confidence < unread.min_confidence)
        ):
            return dataclasses.replace(decision, route=UNREAD_ROUTE, playbook=unread.playbook)
        return decision

    def _decide(self, mention_id: str, values: dict[str, Any], normalised: str) -> Decision:
        programs = self.programs
        token = set_text(normalised)
        try:
            fast = programs.decision.run(
                {n: values[n] for n in programs.decision_variables}, normalised
            )
        finally:
            reset_text(token)
        if fast is None:  # a condition failed: evaluate one by one to report which
            return self._decide_slowly(mention_id, values, normalised)
        held, score, index = fast
        return self._decision(mention_id, score, index, self._results(tuple(held)), (), values)

    def _results(self, held: tuple[bool, ...]) -> tuple[SignalResult, ...]:
        """The SignalResults for one pattern of held signals (patterns repeat: memoised)."""
        found = self._patterns.get(held)
        if found is None:
            found = tuple(
                self._held[s.name] if h else self._not_held[s.name]
                for s, h in zip(self.programs.signals, held, strict=True)
            )
            if len(self._patterns) < 4096:
                self._patterns[held] = found
        return found

    def _decide_slowly(self, mention_id: str, values: dict[str, Any], normalised: str) -> Decision:
        programs = self.programs
        errors: list[str] = []
        results: list[SignalResult] = []
        score = 0.0
        token = set_text(normalised)
        try:
            outcomes = programs.signal_batch.evaluate(
                {name: values[name] for name in programs.signal_variables}
            )
            for signal, outcome in zip(programs.signals, outcomes, strict=True):
                if outcome is True:
                    score += signal.weight
                    results.append(self._held[signal.name])
                elif outcome is False:
                    results.append(self._not_held[signal.name])
                else:
                    errors.append(f"signal {signal.name}: {outcome.message}")
                    results.append(SignalResult(signal.name, False, signal.weight, outcome.message))
            score = round_score(score)
            route_values = {name: values[name] for name in self._route_from_mention}
            route_values.update(self.thresholds)
            route_values["score"] = score
            for key, result in zip(self._signal_keys, results, strict=True):
                route_values[key] = result.held
            index, failures = programs.route_match.find(route_values)
        finally:
            reset_text(token)
        errors.extend(
            f"route {programs.routes[i].name}: {f.message}"
            for i, f in _failures(programs.route_match.programs, failures)
        )
        return self._decision(mention_id, score, index, tuple(results), tuple(errors), values)

    def _decision(
        self,
        mention_id: str,
        score: float,
        route_index: int | None,
        results: tuple[SignalResult, ...],
        errors: tuple[str, ...],
        values: dict[str, Any],
    ) -> Decision:
        route = self.programs.routes[route_index] if route_index is not None else None
        policy = self.policy
        return Decision(
            mention_id,
            score,
            route.name if route else None,
            route.playbook if route else None,
            results,
            policy.name,
            policy.version,
            policy.content_hash,
            errors,
            values["mention.language"],
            values["mention.language_confidence"],
        )

    def plan(self, mention: Mention, decision: Decision) -> list[PlannedStep]:
        """The chosen playbook's steps, each marked runs / skipped / decided when reached."""
        if decision.playbook is None:
            return []
        values, normalised = self.values(mention)
        values.update(self.thresholds)
        values["score"] = decision.score
        values.update({f"signals.{r.name}": r.held for r in decision.signals})
        planned = []
        with text_in_scope(normalised):
            for step in self.policy.playbook(decision.playbook).steps:
                condition = self.programs.steps.get((decision.playbook, step.id))
                if condition is None:
                    planned.append(PlannedStep(step, StepOutlook.RUNS))
                    continue
                # The case's variables are left unset: a condition that needs them errors.
                outcome = condition.holds(values)
                if isinstance(outcome, EvalError):
                    planned.append(PlannedStep(step, StepOutlook.LATER))
                else:
                    planned.append(
                        PlannedStep(step, StepOutlook.RUNS if outcome else StepOutlook.SKIPPED)
                    )
        return planned


def classifiers_for(policy: CompiledPolicy) -> Classifiers | None:
    """The policy's classifiers, as loaded when it compiled (None when it declares none).

    Raises ModelError when a model was not loaded in this process: compile the policy file
    (load_policy) first, which checks each model against its pinned hash.
    """
    if not policy.classifiers:
        return None
    models: dict[str, Model] = {}
    for ref in policy.classifiers:
        model = loaded(ref.sha256)
        if model is None:
            raise ModelError(
                f"classifier {ref.name}: model {ref.model!r} ({ref.sha256[:12]}) is not loaded; "
                "compile the policy file to load it"
            )
        models[ref.name] = model
    return Classifiers(models)


def triage(policy: CompiledPolicy, mention: Mention) -> Decision:
    """Decide one mention with `policy` (see Triage to decide many)."""
    return Triage(policy).decide(mention)


def _failures(
    programs: tuple[Program, ...], failures: list[EvalError]
) -> list[tuple[int, EvalError]]:
    """Pair each evaluation error with the index of the condition it came from."""
    by_source = {p.source: i for i, p in enumerate(programs)}
    return [(by_source.get(f.expression, 0), f) for f in failures]


def shadow_policy(policy: CompiledPolicy) -> CompiledPolicy | None:
    """The policy as it would decide with its classifiers' shadow models (None: it runs no
    shadow); its decisions are recorded beside the live ones, never acted on."""
    if not any(ref.shadow_sha256 for ref in policy.classifiers):
        return None
    refs = tuple(
        dataclasses.replace(ref, model=ref.shadow, sha256=ref.shadow_sha256)
        if ref.shadow_sha256
        else ref
        for ref in policy.classifiers
    )
    return dataclasses.replace(
        policy, classifiers=refs, content_hash=f"{policy.content_hash}:shadow"
    )
