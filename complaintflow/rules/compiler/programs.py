"""The compiled CEL programs of a policy, and their one cache keyed by content hash.

`remember` is the only writer of the cache; workflows reach it only through `programs_for`.
"""

from __future__ import annotations

import dataclasses

from complaintflow.rules.classifiers import variables
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
from complaintflow.rules.lru import LruCache
from complaintflow.rules.model import ClassifierRef, CompiledPolicy, Route, Signal, Threshold


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


@dataclasses.dataclass(frozen=True)
class Environments:
    """Which variables the conditions of each scope may read."""

    signal: ExpressionEnv
    route: ExpressionEnv
    step: ExpressionEnv


# The one home of compiled programs, by policy content hash; only `remember` stores in it.
# Bounded, since a long-running worker sees every policy version its cases pinned; a miss
# recompiles.
_PROGRAMS: LruCache[str, Programs] = LruCache(maxsize=64)


def remember(content_hash: str, programs: Programs) -> None:
    """Keep the programs of the policy with `content_hash` for `programs_for`."""
    _PROGRAMS[content_hash] = programs


def classifier_variables(refs: tuple[ClassifierRef, ...]) -> tuple[str, ...]:
    """The `classifier.NAME...` variables the declared classifiers provide."""
    return tuple(name for ref in refs for name in variables(ref.name, ref.task))


def environments(
    signal_names: list[str], threshold_names: list[str], refs: tuple[ClassifierRef, ...]
) -> Environments:
    """The expression environments of a policy with these signals, thresholds, classifiers."""
    outputs = classifier_variables(refs)
    return Environments(
        signal=ExpressionEnv(Scope.SIGNAL, variables_for(Scope.SIGNAL, classifiers=outputs)),
        route=ExpressionEnv(
            Scope.ROUTE, variables_for(Scope.ROUTE, signal_names, threshold_names, outputs)
        ),
        step=ExpressionEnv(Scope.STEP, variables_for(Scope.STEP, signal_names, threshold_names)),
    )


def assemble(
    signals: list[tuple[Signal, Program]],
    routes: list[tuple[Route, Program]],
    steps: dict[tuple[str, str], Program],
    thresholds: tuple[Threshold, ...],
    signal_env: ExpressionEnv,
    route_env: ExpressionEnv,
) -> Programs:
    """Batch the signal and route programs into the one evaluation triage runs."""
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


def programs_for(policy: CompiledPolicy) -> Programs:
    """The compiled programs of `policy`, compiled once per content hash and cached."""
    cached = _PROGRAMS.get(policy.content_hash)
    if cached is not None:
        return cached
    envs = environments(
        [s.name for s in policy.signals], [t.name for t in policy.thresholds], policy.classifiers
    )

    def must(env: ExpressionEnv, source: str) -> Program:
        program = env.compile(source)
        if not isinstance(program, Program):
            raise ValueError(f"condition {source!r} does not compile: {program}")
        return program

    programs = assemble(
        [(s, must(envs.signal, s.when)) for s in policy.signals],
        [(r, must(envs.route, r.when or "true")) for r in policy.routes],
        {
            (p.name, s.id): must(envs.step, s.when)
            for p in policy.playbooks
            for s in p.steps
            if s.when
        },
        policy.thresholds,
        envs.signal,
        envs.route,
    )
    remember(policy.content_hash, programs)
    return programs
