"""Triage scores mentions, picks routes, fails closed on evaluation errors, and plans steps."""

from __future__ import annotations

import pytest

from complaintflow import compile_policy, triage
from complaintflow.rules.expressions import normalise_text, text_in_scope
from complaintflow.rules.features import cue_words
from complaintflow.rules.mention import Author, Customer, Mention, MentionError
from complaintflow.rules.sentiment import sentiment
from complaintflow.rules.triage import StepOutlook, Triage
from tests.support.policies import SMALL_POLICY, small

ANGRY = "@AcmeCares my kettle arrived broken and I want a refund. Terrible service"


class TestScore:
    def test_signals_that_hold_add_their_weights(self) -> None:
        decision = triage(compile_policy(SMALL_POLICY), Mention(id="1", text=ANGRY))
        assert decision.held == ("negative_tone", "problem_words")
        assert decision.score == 0.8
        assert (decision.route, decision.playbook) == ("escalated", "urgent")

    def test_score_is_capped_at_one(self) -> None:
        mention = Mention(id="1", text=ANGRY, author=Author(followers=50_000))
        decision = triage(compile_policy(SMALL_POLICY), mention)
        assert decision.held == ("negative_tone", "problem_words", "wide_reach")
        assert decision.score == 1.0

    def test_negative_weights_lower_the_score_but_not_below_zero(self) -> None:
        policy = compile_policy(small("weight: 0.3}", "weight: -0.9}"))
        decision = triage(policy, Mention(id="1", text="hi", author=Author(followers=20_000)))
        assert decision.held == ("wide_reach",)
        assert decision.score == 0.0

    def test_conditions_read_whether_a_mention_came_privately(self) -> None:
        """`mention.private` and `mention.channel` tell a private message from a post."""
        private = (
            "  - {name: private, playbook: standard,"
            " when: \"mention.private && mention.channel == 'private'\"}\n"
        )
        policy = compile_policy(small("  - {name: escalated,", private + "  - {name: escalated,"))
        dm = Mention(id="9", text=ANGRY, kind="dm", thread_id="77")
        assert (triage(policy, dm).route, triage(policy, Mention(id="1", text=ANGRY)).route) == (
            "private",
            "escalated",
        )
        assert not Mention(id="1", text=ANGRY).private and Mention(id="1", text="").channel == (
            "public"
        )

    def test_throwaway_remark_gets_no_route(self) -> None:
        decision = triage(compile_policy(SMALL_POLICY), Mention(id="7", text="nice weather"))
        assert (decision.route, decision.playbook, decision.score) == (None, None, 0.0)
        assert decision.to_record() == {
            "id": "7",
            "route": None,
            "playbook": None,
            "score": 0.0,
            "signals": [],
            "policy": "small",
            "policy_version": 2,
            "language": "en",
            "language_confidence": decision.language_confidence,
        }

    def test_first_matching_route_wins(self) -> None:
        policy = compile_policy(
            small('when: "score >= thresholds.escalate"', 'when: "score >= 0.0"')
        )
        decision = triage(policy, Mention(id="1", text=ANGRY))
        assert decision.route == "escalated"


class TestFailClosed:
    def test_evaluation_error_counts_as_not_held_and_is_reported(self) -> None:
        """Dividing by zero reshares cannot make a signal hold; the error is in the decision."""
        policy = compile_policy(
            small('"author.followers >= 10000"', '"100 / mention.reshares > 1"')
        )
        decision = triage(policy, Mention(id="1", text=ANGRY, reshares=0))
        assert "wide_reach" not in decision.held
        assert decision.score == 0.8
        assert decision.errors == ("signal wide_reach: INVALID_ARGUMENT: divide by zero",)
        held = triage(policy, Mention(id="1", text=ANGRY, reshares=5))
        assert "wide_reach" in held.held and held.errors == ()

    def test_failing_route_is_skipped_not_taken(self) -> None:
        policy = compile_policy(
            small('when: "score >= thresholds.escalate"', 'when: "100 / mention.reshares > 1"')
        )
        decision = triage(policy, Mention(id="1", text=ANGRY))
        assert decision.route == "respond"
        assert decision.errors == ("route escalated: INVALID_ARGUMENT: divide by zero",)


class TestHelpers:
    @pytest.mark.parametrize(
        ("text", "phrases", "expected"),
        [
            ("I want a REFUND now", ["refund"], True),
            ("they refunded me", ["refund"], False),
            ("they refunded me", ["refund*"], True),
            ("my order never   arrived!", ["never arrived"], True),
            ("it never really arrived", ["never arrived"], False),
            ("brokenhearted", ["broken"], False),
            ("", ["anything"], False),
        ],
    )
    def test_text_has_any_matches_whole_words(
        self, text: str, phrases: list[str], expected: bool
    ) -> None:
        from complaintflow.rules.expressions import _has_any

        with text_in_scope(normalise_text(text)):
            assert _has_any(phrases) is expected

    def test_text_has_all_needs_every_phrase(self) -> None:
        from complaintflow.rules.expressions import _has_all

        with text_in_scope(normalise_text("the order was late and damaged")):
            assert _has_all(["late", "damaged"]) is True
            assert _has_all(["late", "broken"]) is False

    def test_cue_words_counts_distinct_problem_words(self) -> None:
        assert cue_words(normalise_text("Order never arrived, still waiting on a refund")) == 4
        assert cue_words(normalise_text("Lovely sofa, thank you")) == 0

    def test_sentiment_reads_social_media_tone(self) -> None:
        assert sentiment("This is the worst service ever 😡") < -0.5
        assert sentiment("Love it!!! Thank you so much 😍") > 0.5

    def test_brand_handle_in_text_makes_a_mention_addressed(self) -> None:
        policy = compile_policy(small('"author.followers >= 10000"', '"mention.addressed"'))
        assert "wide_reach" in triage(policy, Mention(id="1", text="hey @acmecares")).held
        assert "wide_reach" not in triage(policy, Mention(id="1", text="hey acme")).held


class TestPlan:
    def test_conditions_on_the_case_are_decided_later(self) -> None:
        policy = compile_policy(
            small(
                "      - close: {reason: resolved}",
                "      - reply: {template: acknowledge, when: "
                '"case.resolved"}\n      - close: {reason: resolved}',
            )
        )
        engine = Triage(policy)
        mention = Mention(id="1", text="@AcmeCares I would like a refund")
        decision = engine.decide(mention)
        assert decision.playbook == "standard"
        outlook = {p.step.id: p.outlook for p in engine.plan(mention, decision)}
        assert outlook["reply_acknowledge_2"] is StepOutlook.LATER
        assert outlook["reply_acknowledge"] is StepOutlook.RUNS

    def test_conditions_on_the_mention_are_decided_now(self) -> None:
        policy = compile_policy(
            small(
                '      - notify: {via: slack, target: "#leads"}',
                '      - notify: {via: slack, target: "#leads", when: "author.followers > 5"}',
            )
        )
        engine = Triage(policy)
        for followers, expected in ((10, StepOutlook.RUNS), (1, StepOutlook.SKIPPED)):
            mention = Mention(id="1", text=ANGRY, author=Author(followers=followers))
            plan = engine.plan(mention, engine.decide(mention))
            assert plan[0].step.id == "notify" and plan[0].outlook is expected

    def test_no_plan_for_a_throwaway_remark(self) -> None:
        engine = Triage(compile_policy(SMALL_POLICY))
        mention = Mention(id="1", text="hello")
        assert engine.plan(mention, engine.decide(mention)) == []


class TestMentionInput:
    def test_reads_the_json_shape(self) -> None:
        mention = Mention.from_dict(
            {
                "id": 5,
                "text": "hi",
                "platform": "facebook",
                "author": {"handle": "@dana", "followers": 3},
                "customer": {"known": True, "tier": "gold"},
            }
        )
        assert mention.id == "5" and mention.author.handle == "dana"
        assert mention.customer == Customer(known=True, tier="gold")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ([], "a mention must be a JSON object"),
            ({"id": "1"}, "mention.text is required and must be a string"),
            ({"text": "x", "platform": "myspace"}, "mention.platform 'myspace' is not one of"),
            ({"text": "x", "reshares": -1}, "mention.reshares must be a whole number >= 0"),
            (
                {"text": "x", "author": {"folowers": 3}},
                "unknown field 'folowers' in mention.author",
            ),
            ({"text": "x", "sentiment": 3}, "mention.sentiment must be a number from -1 to 1"),
        ],
    )
    def test_bad_fields_are_named(self, data: object, message: str) -> None:
        with pytest.raises(MentionError, match=message.replace("(", r"\(")):
            Mention.from_dict(data)
