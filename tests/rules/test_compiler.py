"""Every kind of policy error names its file, line and column and says what to write instead."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from complaintflow import CompiledPolicy, PolicyError, compile_policy, load_policy
from complaintflow.errors import Severity
from complaintflow.rules.compiler import check_file
from tests.support.helpers import column_of, line_of
from tests.support.paths import EXAMPLE_POLICY
from tests.support.policies import SMALL_POLICY, small

WritePolicy = Callable[[str], Path]


def errors_for(write: WritePolicy, text: str) -> list[str]:
    result = check_file(write(text))
    assert result.policy is None, "expected the policy to be refused"
    return [str(d).split(": ", 1)[1] for d in result.errors]


def located(write: WritePolicy, text: str) -> list[tuple[int, int, str]]:
    result = check_file(write(text))
    return [(d.line, d.column, d.message) for d in result.errors]


class TestValidPolicies:
    def test_small_policy_compiles(self, policy_file: WritePolicy) -> None:
        result = check_file(policy_file(SMALL_POLICY))
        assert result.errors == ()
        assert result.policy is not None
        assert result.policy.name == "small" and result.policy.version == 2

    def test_example_policy_compiles_without_warnings(self) -> None:
        result = check_file(EXAMPLE_POLICY)
        assert result.diagnostics == ()

    def test_compiled_policy_round_trips_through_json(self) -> None:
        """The compiled policy travels as JSON and reads back equal."""
        policy = load_policy(EXAMPLE_POLICY)
        text = policy.to_json()
        assert CompiledPolicy.from_json(text) == policy
        assert json.loads(text)["content_hash"] == policy.content_hash
        assert len(text) < 32_000, "small enough to ride in every case's input"

    def test_hash_changes_with_content_not_with_formatting(self) -> None:
        base = compile_policy(SMALL_POLICY)
        reformatted = compile_policy(
            "# a comment\n" + SMALL_POLICY.replace("{reason: resolved}", "{ reason: resolved }")
        )
        edited = compile_policy(small("weight: 0.4}", "weight: 0.5}"))
        assert base.content_hash == reformatted.content_hash
        assert base.content_hash != edited.content_hash

    def test_step_ids_default_from_kind_and_template(self) -> None:
        policy = compile_policy(SMALL_POLICY)
        ids = [s.id for s in policy.playbook("standard").steps]
        assert ids == [
            "reply_acknowledge",
            "handoff_move_offline",
            "await_resolution",
            "remove_public_hide",
            "close",
        ]

    def test_removal_channels_default_to_owned_channels_that_allow_it(self) -> None:
        policy = compile_policy(SMALL_POLICY)
        step = policy.playbook("standard").steps[3]
        assert step.channels == ("x", "facebook")

    def test_brand_values_are_filled_into_templates(self) -> None:
        policy = compile_policy(SMALL_POLICY)
        parts = policy.template("move_offline").parts
        assert parts == ("Please email care@acme.example, case ", "case.id", ".")


class TestSchemaErrors:
    def test_unknown_key_suggests_the_nearest(self, policy_file: WritePolicy) -> None:
        text = small("weight: 0.3}", "weigth: 0.3}")
        assert located(policy_file, text) == [
            (
                line_of(text, "weigth"),
                column_of(text, "weigth"),
                "unknown key 'weigth' in seriousness.signals.wide_reach",
            )
        ]
        assert errors_for(policy_file, text) == [
            "unknown key 'weigth' in seriousness.signals.wide_reach; did you mean 'weight'?"
        ]

    def test_missing_required_key(self, policy_file: WritePolicy) -> None:
        text = small("version: 2\n", "")
        assert errors_for(policy_file, text) == [
            "missing required key 'version'; add `version: ...`"
        ]

    def test_enum_typo_suggests_the_value(self, policy_file: WritePolicy) -> None:
        text = small("on_timeout: escalate}", "on_timeout: escalte}")
        found = located(policy_file, text)
        assert found == [
            (
                line_of(text, "escalte"),
                column_of(text, "escalte"),
                "'escalte' is not allowed in playbooks.standard.steps.reply.approval.on_timeout",
            )
        ]
        assert "did you mean 'escalate'?" in errors_for(policy_file, text)[0]

    def test_wrong_type(self, policy_file: WritePolicy) -> None:
        text = small("weight: 0.4}", "weight: high}")
        assert errors_for(policy_file, text) == [
            "expected a number in seriousness.signals.negative_tone.weight, got 'high'; "
            "write the number without quotes"
        ]

    def test_yes_no_booleans_get_a_quoting_hint(self, policy_file: WritePolicy) -> None:
        text = small("name: Acme", "name: yes")
        assert errors_for(policy_file, text) == [
            "expected text in brand.name, got true (a boolean); "
            "YAML reads yes/no/on/off as booleans: quote the value"
        ]

    def test_step_with_two_kinds(self, policy_file: WritePolicy) -> None:
        text = small(
            "      - close: {reason: resolved}", "      - {close: {reason: resolved}, wait: 2h}"
        )
        assert errors_for(policy_file, text) == [
            "a step has exactly one kind, found close, wait; split it into one list item per step"
        ]

    def test_unknown_step_kind(self, policy_file: WritePolicy) -> None:
        text = small("      - await: resolution", "      - awiat: resolution")
        assert errors_for(policy_file, text) == [
            "unknown key 'awiat' in playbooks.standard.steps; did you mean 'await'?"
        ]

    def test_all_errors_are_reported_at_once_and_sorted(self, policy_file: WritePolicy) -> None:
        text = small("weight: 0.3}", "weigth: 0.3}").replace(
            "on_timeout: escalate}", "on_timeout: later}"
        )
        lines = [line for line, _, _ in located(policy_file, text)]
        assert len(lines) == 2 and lines == sorted(lines)


class TestExpressionErrors:
    def test_unknown_name_at_its_column(self, policy_file: WritePolicy) -> None:
        text = small("author.followers >= 10000", "author.folowers >= 10000")
        assert located(policy_file, text) == [
            (
                line_of(text, "folowers"),
                column_of(text, "author.folowers"),
                "in condition: unknown name 'author.folowers'",
            )
        ]
        assert errors_for(policy_file, text)[0].endswith("did you mean 'author.followers'?")

    def test_int_and_double_mixed(self, policy_file: WritePolicy) -> None:
        text = small("sentiment <= -0.3", "sentiment <= 0")
        found = errors_for(policy_file, text)
        assert len(found) == 1
        assert "cannot apply '<=' to (double, int)" in found[0]
        assert "write 1.0 (not 1)" in found[0]

    def test_condition_that_is_not_true_or_false(self, policy_file: WritePolicy) -> None:
        text = small('when: "sentiment <= -0.3"', 'when: "sentiment"')
        assert errors_for(policy_file, text) == [
            "in condition: the condition gives a number, not true/false; "
            "compare it, e.g. `x >= 1.0`"
        ]

    def test_syntax_error(self, policy_file: WritePolicy) -> None:
        text = small("score >= thresholds.escalate", "score >=> thresholds.escalate")
        found = located(policy_file, text)
        assert found and found[0][0] == line_of(text, ">=>")
        assert "syntax error" in found[0][2]

    def test_unknown_signal_in_a_route(self, policy_file: WritePolicy) -> None:
        text = small(
            'when: "score >= thresholds.escalate"',
            'when: "signals.wide_rech && score >= thresholds.escalate"',
        )
        assert "did you mean 'signals.wide_reach'?" in errors_for(policy_file, text)[0]

    def test_case_state_is_not_visible_in_signals(self, policy_file: WritePolicy) -> None:
        text = small('when: "sentiment <= -0.3"', 'when: "case.resolved"')
        assert errors_for(policy_file, text)[0].startswith(
            "in condition: unknown name 'case.resolved'"
        )

    def test_position_inside_a_block_scalar(self, policy_file: WritePolicy) -> None:
        text = small(
            '    wide_reach: {when: "author.followers >= 10000", weight: 0.3}',
            "    wide_reach:\n      when: >-\n        author.followers >= 10000 ||\n"
            "        author.verfied\n      weight: 0.3",
        )
        assert located(policy_file, text)[0][:2] == (
            line_of(text, "author.verfied"),
            column_of(text, "author.verfied"),
        )


class TestTemplateErrors:
    def test_unknown_placeholder_at_its_column(self, policy_file: WritePolicy) -> None:
        text = small("{author.name}.", "{author.nmae}.")
        assert located(policy_file, text) == [
            (
                line_of(text, "author.nmae"),
                column_of(text, "{author.nmae}"),
                "unknown placeholder {author.nmae}",
            )
        ]
        assert errors_for(policy_file, text)[0].endswith("did you mean {author.name}?")

    def test_code_in_a_placeholder_is_refused(self, policy_file: WritePolicy) -> None:
        text = small("{author.name}.", "{author.name.__class__()}.")
        assert "is not a placeholder" in errors_for(policy_file, text)[0]

    def test_unmatched_brace(self, policy_file: WritePolicy) -> None:
        text = small("check your messages.", "check your messages :-}")
        assert errors_for(policy_file, text) == ["unmatched '}'; write '}}' for a literal brace"]

    def test_brand_field_not_set(self, policy_file: WritePolicy) -> None:
        text = small("{brand.contact.email}", "{brand.contact.fax}")
        assert errors_for(policy_file, text)[0].startswith(
            "{brand.contact.fax} is not set in brand:"
        )

    def test_reply_too_long_for_x_is_an_error(self, policy_file: WritePolicy) -> None:
        text = small("Please check your messages.", "Please check your messages. " + "x" * 260)
        assert errors_for(policy_file, text) == [
            "template 'acknowledge' is 310 characters; x allows 280; shorten it"
        ]

    def test_reply_that_may_be_too_long_is_an_error(self, policy_file: WritePolicy) -> None:
        """X refuses the post when a long name pushes it over 280: validate must refuse it."""
        text = small("Please check your messages.", "Please check your messages. " + "x" * 170)
        result = check_file(policy_file(text))
        assert result.policy is None
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert len(errors) == 1, result.diagnostics  # (the other is the no-unread-route warning)
        # 220 literal characters + a 50-character name whose characters may weigh 2 on X
        assert "can reach 320 characters with long names" in errors[0].message
        assert errors[0].line == line_of(text, "acknowledge:")

    def test_reply_is_counted_as_x_counts(self, policy_file: WritePolicy) -> None:
        """A URL counts 23 however long; a CJK character or an emoji counts 2."""
        url = "https://northwind.example/help/" + "a" * 150
        assert check_file(policy_file(small("Please check your messages.", url))).policy
        heavy = "請" * 80  # 160 as X counts, 80 code points
        assert check_file(policy_file(small("Please check your messages.", heavy))).policy is None


class TestSemanticErrors:
    def test_unknown_playbook(self, policy_file: WritePolicy) -> None:
        text = small("playbook: standard}", "playbook: standrd}")
        assert located(policy_file, text) == [
            (line_of(text, "standrd"), column_of(text, "standrd"), "unknown playbook 'standrd'")
        ]
        assert errors_for(policy_file, text)[0].endswith("did you mean 'standard'?")

    def test_route_after_a_catch_all_is_unreachable(self, policy_file: WritePolicy) -> None:
        text = small(
            '{name: escalated, when: "score >= thresholds.escalate", playbook: urgent}',
            "{name: everything, playbook: urgent}",
        )
        assert errors_for(policy_file, text) == [
            "route 'respond' can never match: route 'everything' above matches every mention; "
            "move it above, or remove it"
        ]

    def test_unknown_template(self, policy_file: WritePolicy) -> None:
        text = small(
            "reply: {template: acknowledge, approval", "reply: {template: acknowledg, approval"
        )
        assert errors_for(policy_file, text) == [
            "unknown template 'acknowledg'; did you mean 'acknowledge'?"
        ]

    def test_removal_without_approval(self, policy_file: WritePolicy) -> None:
        text = small("remove_public: {action: hide, approval: {}}", "remove_public: {action: hide}")
        assert errors_for(policy_file, text) == [
            "removing a public post needs a supervisor's approval; "
            "add `approval: {}` (or with timeout/on_timeout)"
        ]

    def test_removal_before_resolution(self, policy_file: WritePolicy) -> None:
        text = small("      - await: resolution\n", "")
        assert errors_for(policy_file, text) == [
            "remove_public runs only after the case is resolved; "
            "put `- await: resolution` before it"
        ]

    def test_delete_on_x_is_refused(self, policy_file: WritePolicy) -> None:
        text = small("remove_public: {action: hide,", "remove_public: {action: delete,")
        assert errors_for(policy_file, text) == [
            "X does not let a brand delete a customer's post; "
            "use action: hide, or list `channels: [facebook, instagram]`"
        ]

    def test_removal_on_a_channel_the_brand_does_not_own(self, policy_file: WritePolicy) -> None:
        text = small(
            "remove_public: {action: hide,",
            "remove_public: {action: hide, channels: [facebook, instagram],",
        )
        found = located(policy_file, text)
        assert found == [
            (
                line_of(text, "channels: [facebook, instagram]"),
                column_of(text, "instagram]"),
                "the brand has no instagram account, so it cannot remove posts there",
            )
        ]

    def test_steps_after_close_never_run(self, policy_file: WritePolicy) -> None:
        text = small("      - close:\n", "      - close:\n      - wait: 1h\n")
        assert errors_for(policy_file, text) == [
            "this step comes after an unconditional `close` and never runs; "
            "move it before the close, or give the close a `when:`"
        ]

    def test_bad_duration(self, policy_file: WritePolicy) -> None:
        text = small("await_contact: 72h", "await_contact: 3 days")
        assert located(policy_file, text) == [
            (line_of(text, "3 days"), column_of(text, "3 days"), "'3 days' is not a duration")
        ]

    def test_handoff_offers_a_contact_the_brand_lacks(self, policy_file: WritePolicy) -> None:
        text = small(', phone: "+1 555 0100"', "")
        assert (
            "the handoff offers phone but brand.contact has no phone"
            in errors_for(policy_file, text)[0]
        )


def test_compile_policy_raises_with_every_diagnostic() -> None:
    with pytest.raises(PolicyError) as caught:
        compile_policy(small("playbook: standard}", "playbook: nope}"), name="inline.yaml")
    assert str(caught.value).startswith("inline.yaml:")
    assert len(caught.value.errors) == 1
