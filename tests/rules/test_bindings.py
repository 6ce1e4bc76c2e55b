"""Same answers everywhere: every declared variable is bound by triage and by the workflow, to
the same value, and triage's one-evaluation path agrees with its condition-by-condition path.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.learning.files import read_mentions
from complaintflow.rules.bindings import step_scope
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.expressions import (
    MENTION_VARIABLES,
    Scope,
    normalise_text,
    variables_for,
)
from complaintflow.rules.mention import Author, Customer, Mention
from complaintflow.rules.triage import Triage
from complaintflow.workflows.messages import CaseState, CaseStatus
from tests.support.paths import AIRLINE, EXAMPLE_POLICY

POLICY = load_policy(EXAMPLE_POLICY)
TRIAGE = Triage(POLICY)
SIGNALS = [s.name for s in POLICY.signals]
THRESHOLDS = [t.name for t in POLICY.thresholds]


def _case(score: float = 0.5) -> CaseState:
    return CaseState(
        case_id="case-x-1",
        status=CaseStatus.OPEN,
        platform="x",
        thread_id="1",
        author="jo",
        score=score,
        route="respond",
        playbook="standard",
        policy=POLICY.label,
        priority="normal",
        mentions=["1", "2"],
    )


def test_every_declared_name_is_bound_by_triage_and_by_the_workflow() -> None:
    mention = Mention(id="1", text="@NorthwindCares it broke", sentiment=-0.4)
    values, normalised = TRIAGE.values(mention)
    declared_signal = set(variables_for(Scope.SIGNAL, classifiers=_classifier_names()))
    assert declared_signal <= set(values), declared_signal - set(values)
    step = step_scope(
        POLICY,
        mention,
        normalised,
        signals=dict.fromkeys(SIGNALS, False),
        case=_case(),
    )
    declared_step = set(variables_for(Scope.STEP, SIGNALS, THRESHOLDS))
    assert declared_step <= set(step), declared_step - set(step)
    assert step["case.mentions"] == 2 and step["score"] == 0.5


def _classifier_names() -> list[str]:
    from complaintflow.rules.compiler import classifier_variables

    return list(classifier_variables(POLICY.classifiers))


WORDS = st.sampled_from(
    [
        "@NorthwindCares",
        "@northwindcares",
        "@NorthwindCaresX",
        "@someone",
        "my",
        "order",
        "never arrived",
        "refund",
        "broken",
        "thanks",
        "love",
        "fire",
        "why",
        "please",
        "still waiting",
        "!!",
        "?",
        "😡",
        "great",
        "charged twice",
        "hours",
        "nobody",
        "http://t.co/x",
        "Ünïcode",
        "",
    ]
)
MENTIONS = st.builds(
    Mention,
    id=st.just("m"),
    text=st.lists(WORDS, max_size=14).map(" ".join),
    platform=st.sampled_from(["x", "facebook", "instagram", "google_business"]),
    author=st.builds(
        Author,
        handle=st.sampled_from(["", "jo"]),
        followers=st.integers(0, 200_000),
        verified=st.booleans(),
    ),
    customer=st.builds(
        Customer, known=st.booleans(), tier=st.sampled_from(["", "gold", "silver", "platinum"])
    ),
    reshares=st.integers(0, 400),
    replies=st.integers(0, 40),
    rating=st.integers(0, 5),
    addressed=st.booleans(),
    repeat_contacts=st.integers(0, 3),
    sentiment=st.floats(-1.0, 1.0),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MENTIONS)
def test_the_workflow_binds_the_mention_as_triage_does(mention: Mention) -> None:
    values, _ = TRIAGE.values(mention)
    step = step_scope(POLICY, mention, normalise_text(mention.text), signals={}, case=_case())
    for name in MENTION_VARIABLES:
        assert step[name] == values[name], name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MENTIONS)
def test_the_fast_and_the_slow_decision_agree(mention: Mention) -> None:
    values, normalised = TRIAGE.values(mention)
    fast = TRIAGE._decide(mention.id, dict(values), normalised)
    slow = TRIAGE._decide_slowly(mention.id, dict(values), normalised)
    assert not fast.errors and not slow.errors
    assert (fast.score, fast.route, fast.held) == (slow.score, slow.route, slow.held)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        MENTIONS | MENTIONS.map(lambda m: dataclasses.replace(m, sentiment=None)), max_size=300
    )
)
def test_a_batch_is_decided_as_each_mention_alone(mentions: list[Mention]) -> None:
    assert TRIAGE.decide_many(mentions) == [TRIAGE.decide(m) for m in mentions]


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data not present")
def test_real_tweets_in_a_batch_are_decided_as_alone() -> None:
    tweets = list(read_mentions(AIRLINE, text_column="text", id_column="tweet_id"))[:1500]
    batch = TRIAGE.decide_many(tweets)
    assert batch == [TRIAGE.decide(m) for m in tweets]
    assert len({d.route for d in batch}) >= 3
