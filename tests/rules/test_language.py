"""Language as a variable: identification, the `unread:` route, per-language templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from complaintflow.errors import Severity
from complaintflow.learning.evaluation import Example, evaluate
from complaintflow.rules.compiler import check_file, compile_policy
from complaintflow.rules.language import Prior, clean, identify, playbooks_in
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.triage import Triage
from tests.support.paths import EXAMPLE_POLICY
from tests.support.policies import small

WritePolicy = Callable[..., Path]

READS_EN = small(
    "routes:\n",
    "languages: [en]\nunread: {playbook: standard}\nroutes:\n",
)


def diagnostics(write: WritePolicy, text: str) -> list[tuple[str, str]]:
    result = check_file(write(text))
    return [(d.severity.value, d.message) for d in result.diagnostics]


class TestIdentify:
    def test_handles_links_and_emoji_do_not_count(self) -> None:
        assert clean("@AcmeCares Mi pedido 😡 https://t.co/x #fail 12:30") == "mi pedido fail"
        assert identify("@AcmeCares 😡😡 https://t.co/x 1234") == ("", 0.0)

    def test_the_complaint_from_the_report(self) -> None:
        text = "@NorthwindCares mi pedido nunca llegó y nadie responde, quiero mi reembolso"
        language, confidence = identify(text)
        assert language == "es" and confidence > 0.9

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=300))
    def test_any_text_gets_a_code_and_a_confidence(self, text: str) -> None:
        language, confidence = identify(text)
        assert language == "" or (len(language) == 2 and language.islower())
        assert 0.0 <= confidence <= 1.0


ENGLISH_BRAND = Prior(frozenset({"en"}), 0.9)


class TestPrior:
    def test_short_posts_lean_to_the_brands_languages(self) -> None:
        for text in ("@AcmeCares Dm sent", "@AcmeCares Check DM", "Nice!!", "@AcmeCares No"):
            assert identify(text, ENGLISH_BRAND)[0] == "en", text

    def test_short_posts_plainly_in_another_language_keep_it(self) -> None:
        for text, language in (
            ("@AcmeCares nadie contesta!!", "es"),
            ("@AcmeCares ich bin sauer", "de"),
            ("@AcmeCares très déçu", "fr"),
        ):
            assert identify(text, ENGLISH_BRAND)[0] == language, text

    def test_without_a_prior_a_short_post_is_a_guess(self) -> None:
        language, confidence = identify("@AcmeCares Dm sent")
        assert language != "en" or confidence < 0.1

    def test_a_long_post_outweighs_the_prior(self) -> None:
        text = "@NorthwindCares mi pedido nunca llegó y nadie responde, quiero mi reembolso"
        assert identify(text, ENGLISH_BRAND) == identify(text)
        assert identify(text, Prior(frozenset({"en"}), 0.999))[0] == "es"

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=120), st.floats(0.01, 0.99))
    def test_any_text_and_prior_give_a_code_and_a_confidence(self, text: str, share: float) -> None:
        language, confidence = identify(text, Prior(frozenset({"en", "es"}), share))
        assert language == "" or (len(language) == 2 and language.islower())
        assert 0.0 <= confidence <= 1.0

    def test_the_prior_is_a_policy_setting(self, policy_file: WritePolicy) -> None:
        sure = READS_EN.replace("{playbook: standard}", "{playbook: standard, prior: 0.999}")
        policy = compile_policy(sure)
        assert policy.unread is not None and policy.unread.prior == 0.999
        bad = READS_EN.replace("{playbook: standard}", "{playbook: standard, prior: 1}")
        errors = [m for s, m in diagnostics(policy_file, bad) if s == "error"]
        assert errors == ["1 is out of range in unread.prior"]
        (refused,) = check_file(policy_file(bad)).diagnostics
        assert refused.hint == "write a number < 1"


class TestTriage:
    def test_another_language_takes_the_unread_route(self) -> None:
        policy = compile_policy(READS_EN)
        decision = Triage(policy).decide(
            Mention(id="1", text="@AcmeCares mein Paket ist nie angekommen, niemand antwortet")
        )
        assert (decision.route, decision.playbook, decision.language) == (
            "unread",
            "standard",
            "de",
        )

    def test_a_read_language_is_scored_as_before(self) -> None:
        policy = compile_policy(READS_EN)
        decision = Triage(policy).decide(Mention(id="1", text="nice weather today in town"))
        assert (decision.route, decision.language) == (None, "en")

    def test_below_the_confidence_floor_a_person_decides(self) -> None:
        policy = compile_policy(
            READS_EN.replace("{playbook: standard}", "{playbook: standard, min_confidence: 0.9}")
        )
        mention = Mention(id="1", text="nice", language="en", language_confidence=0.5)
        assert Triage(policy).decide(mention).route == "unread"

    def test_a_short_english_remark_is_scored_not_sent_to_a_person(self) -> None:
        decision = Triage(compile_policy(READS_EN)).decide(
            Mention(id="1", text="@AcmeCares Dm sent")
        )
        assert (decision.route, decision.language) == (None, "en")

    def test_a_short_post_in_another_language_still_goes_to_a_person(self) -> None:
        decision = Triage(compile_policy(READS_EN)).decide(
            Mention(id="1", text="@AcmeCares nadie contesta!!")
        )
        assert (decision.route, decision.language) == ("unread", "es")

    def test_a_post_without_words_is_scored_by_the_signals(self) -> None:
        triage = Triage(compile_policy(READS_EN))
        quiet = triage.decide(Mention(id="1", text="@AcmeCares https://t.co/x1"))
        assert (quiet.route, quiet.language) == (None, "")
        loud = Mention.from_dict(
            {"id": "2", "text": "@AcmeCares https://t.co/x1", "author": {"followers": 50_000}}
        )
        assert triage.decide(loud).held == ("wide_reach",)

    def test_evaluation_decides_as_triage_does(self) -> None:
        policy = compile_policy(READS_EN)
        texts = [
            "@AcmeCares mein Paket ist nie angekommen, niemand antwortet",
            "@AcmeCares my kettle is broken and nobody answers",
            "@AcmeCares Dm sent",
            "nice weather today in town",
        ]
        examples = [Example(Mention(id=str(i), text=t), True, None) for i, t in enumerate(texts)]
        triage = Triage(policy)
        routes = {e.mention.text: triage.decide(e.mention).route or "none" for e in examples}
        assert routes[texts[0]] == "unread"
        counted = evaluate(policy, examples).by_route
        assert {r: c + o for r, (c, o) in counted.items()} == {
            r: list(routes.values()).count(r) for r in set(routes.values())
        }

    def test_enrichment_language_is_used_as_given(self) -> None:
        mention = Mention.from_dict({"text": "hello there", "language": "pt"})
        assert Triage(compile_policy(READS_EN)).decide(mention).language == "pt"

    def test_a_bad_language_field_is_named(self) -> None:
        for bad in ({"language": "spanish"}, {"language": "es", "language_confidence": 2}):
            try:
                Mention.from_dict({"text": "x", **bad})
            except MentionError as exc:
                assert "mention.language" in str(exc)
            else:
                raise AssertionError(bad)

    def test_language_is_a_condition_variable(self) -> None:
        policy = compile_policy(
            small(
                'wide_reach: {when: "author.followers >= 10000", weight: 0.3}',
                "wide_reach: {when: \"mention.language == 'fr' && "
                'mention.language_confidence >= 0.5", weight: 0.5}',
            )
        )
        decision = Triage(policy).decide(
            Mention(id="1", text="bonjour, ma commande est arrivée cassée")
        )
        assert decision.held == ("wide_reach",) and decision.route == "respond"


class TestCompiler:
    def test_no_unread_route_is_a_warning(self, policy_file: WritePolicy) -> None:
        found = diagnostics(policy_file, small())
        assert (
            "warning",
            "mentions in a language the policy cannot read have no route: they are scored by "
            "its signals and may be logged as throwaway remarks",
        ) in found
        assert not any("no route" in m for _, m in diagnostics(policy_file, READS_EN))

    def test_an_unread_playbook_that_replies_is_a_warning(self, policy_file: WritePolicy) -> None:
        assert (
            "warning",
            "playbook 'standard' replies to customers, but the unread route brings posts in "
            "languages the policy has no texts for",
        ) in diagnostics(policy_file, READS_EN)
        to_a_person = READS_EN.replace("{playbook: standard}", "{playbook: urgent}").replace(
            "      - reply: {template: acknowledge}\n      - close:\n",
            "      - await: route\n",
        )
        assert "await: route" in to_a_person
        assert not any("unread route" in m for _, m in diagnostics(policy_file, to_a_person))

    def test_unread_needs_languages_and_a_known_playbook(self, policy_file: WritePolicy) -> None:
        text = small("routes:\n", "unread: {playbook: triage}\nroutes:\n")
        messages = [m for s, m in diagnostics(policy_file, text) if s == "error"]
        assert "`unread:` needs the languages the policy can read" in messages
        assert "unknown playbook 'triage'" in messages

    def test_every_read_language_needs_every_customer_template(
        self, policy_file: WritePolicy
    ) -> None:
        text = READS_EN.replace("languages: [en]", "languages: [en, es]").replace(
            'acknowledge: "Sorry to hear this, {author.name}. Please check your messages."',
            'acknowledge: {en: "Sorry, {author.name}.", es: "Lo sentimos, {author.name}."}',
        )
        result = check_file(policy_file(text))
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert {d.message for d in errors} == {
            "playbook 'standard' replies with template 'move_offline', which has no es text, "
            "but the policy reads en, es"
        }
        assert errors[0].hint == "write it per language: `move_offline: {en: ..., es: ...}`"

    def test_english_only_signals_warn_for_other_languages(self, policy_file: WritePolicy) -> None:
        text = (
            READS_EN.replace("languages: [en]", "languages: [en, es]")
            .replace(
                'acknowledge: "Sorry to hear this, {author.name}. Please check your messages."',
                'acknowledge: {en: "Sorry, {author.name}.", es: "Lo sentimos, {author.name}."}',
            )
            .replace(
                'move_offline: "Please email {brand.contact.email}, case {case.id}."',
                'move_offline: {en: "Email {brand.contact.email}.", es: "Escriba a '
                '{brand.contact.email}."}',
            )
        )
        found = diagnostics(policy_file, text)
        assert (
            "warning",
            "sentiment reads English only (VADER's lexicon is English), but the policy also "
            "reads es",
        ) in found
        guarded = text.replace(
            '"sentiment <= -0.3"', "\"mention.language == 'en' && sentiment <= -0.3\""
        )
        assert not any("English only" in m for _, m in diagnostics(policy_file, guarded))
        assert check_file(policy_file(guarded)).policy is not None


class TestExamplePolicy:
    def test_templates_follow_the_mention_language(self) -> None:
        result = check_file(EXAMPLE_POLICY)
        assert result.policy is not None and result.diagnostics == ()
        policy = result.policy
        acknowledge = policy.template("acknowledge")
        assert "".join(acknowledge.parts_for("es")).startswith("Lamentamos")
        assert "".join(acknowledge.parts_for("en")).startswith("Sorry")
        assert acknowledge.parts_for("fr") == acknowledge.parts
        assert playbooks_in(policy, "es") == ("standard", "human_triage")
        assert playbooks_in(policy, "fr") == ("human_triage",)
        assert set(playbooks_in(policy, "en")) == {p.name for p in policy.playbooks}

    def test_a_policy_travels_with_its_languages(self) -> None:
        result = check_file(EXAMPLE_POLICY)
        assert result.policy is not None
        from complaintflow.rules.model import CompiledPolicy

        again = CompiledPolicy.from_json(result.policy.to_json())
        assert again == result.policy
        assert json.loads(again.to_json())["unread"]["playbook"] == "human_triage"
