"""The `complaintflow` command: output a policy author reads, and exit codes CI relies on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from complaintflow.devkit import sample_stream_path
from tests.support.fixtures import CliResult
from tests.support.paths import AIRLINE, EXAMPLE_POLICY, EXAMPLE_SUITE
from tests.support.policies import SMALL_POLICY, small

Cli = Callable[..., CliResult]
WritePolicy = Callable[..., Path]
COMPLAINT = json.dumps(
    {
        "id": "42",
        "text": "@NorthwindCares my order never arrived and nobody answers. I want a refund",
        "author": {"handle": "dana", "followers": 120},
    }
)


class TestValidate:
    def test_valid_policy(self, cli: Cli) -> None:
        result = cli("validate", EXAMPLE_POLICY)
        assert result.code == 0
        assert result.out.startswith(f"{EXAMPLE_POLICY}: ok, northwind-social-care@v1 (")
        assert result.err == ""

    def test_every_error_of_every_file_then_exit_1(
        self, cli: Cli, policy_file: WritePolicy
    ) -> None:
        one = policy_file(small("playbook: standard}", "playbook: standrd}"), "one.yaml")
        two = policy_file("policy: x\n", "two.yaml")
        result = cli("validate", one, two, EXAMPLE_POLICY)
        assert result.code == 1
        lines = result.err.splitlines()
        assert lines[0].startswith(f"{one}:16:3: warning: mentions in a language the policy")
        assert lines[1].startswith(f"{one}:17:")
        assert lines[1].endswith("unknown playbook 'standrd'; did you mean 'standard'?")
        assert lines[2] == (
            f"{one}:20:5: warning: playbook 'standard' is not used by any "
            "route; add a route to it or remove it"
        )
        assert all(line.startswith(f"{two}:1:1: missing required key") for line in lines[3:])
        assert len(lines) == 9
        assert "Traceback" not in result.err

    def test_usage_errors_exit_2(self, cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exited:
            cli("validate")
        assert exited.value.code == 2
        assert "the following arguments are required: FILE" in capsys.readouterr().err
        assert cli().code == 2


class TestExplain:
    def test_shows_signals_score_route_and_steps(self, cli: Cli) -> None:
        result = cli("explain", EXAMPLE_POLICY, "--mention", COMPLAINT)
        assert result.code == 0
        out = result.out
        assert "HELD  complaint_cues" in out and "+0.30" in out
        assert "-     praise" in out
        assert "score     1.00" in out
        # the classifier's output, and the words that pushed it
        assert re.search(r"complaint +classifier\.complaint 0\.[89]\d\d", out), out
        assert re.search(r"pushed by .*'a refund' \+", out), out
        assert "route     respond -> playbook standard (first public answer within 1d)" in out
        assert "reply_acknowledge        runs" in out
        assert "reply_follow_up          decided when reached" in out

    def test_json_output(self, cli: Cli, tmp_path: Path) -> None:
        mention = tmp_path / "m.json"
        mention.write_text(COMPLAINT)
        result = cli("explain", EXAMPLE_POLICY, "--mention", mention, "--json")
        record = json.loads(result.out)
        assert record["route"] == "respond" and record["score"] == 1.0
        assert {"name": "praise", "held": False, "weight": -0.2} in record["signals"]
        (complaint,) = [c for c in record["classifiers"] if c["name"] == "complaint"]
        assert complaint["outputs"]["classifier.complaint"] > 0.5
        assert any("refund" in w["words"] for w in complaint["pushed_by"])
        assert record["steps"][1] == {"id": "reply_acknowledge", "kind": "reply", "outlook": "runs"}

    def test_throwaway_remark(self, cli: Cli) -> None:
        mention = '{"text": "what a nice van, love the colour"}'
        result = cli("explain", EXAMPLE_POLICY, "--mention", mention)
        assert "language  en (confidence" in result.out
        assert "route     none: a throwaway remark (logged, no case opened)" in result.out

    def test_a_post_in_another_language_goes_to_a_person(self, cli: Cli) -> None:
        mention = json.dumps(
            {"text": "@NorthwindCares mi pedido nunca llegó y nadie responde, quiero mi reembolso"}
        )
        result = cli("explain", EXAMPLE_POLICY, "--mention", mention)
        assert "language  es (confidence 1.00); the policy reads en" in result.out
        assert "route     unread -> playbook human_triage" in result.out

    @pytest.mark.parametrize(
        ("mention", "message"),
        [
            (
                "{not json",
                "--mention is not valid JSON: Expecting property name enclosed in "
                "double quotes at line 1 column 2",
            ),
            ('{"text": 3}', "--mention: mention.text is required and must be a string"),
            ("missing.json", "--mention: 'missing.json' is neither JSON nor a file"),
        ],
    )
    def test_bad_mention_is_a_usage_error(self, cli: Cli, mention: str, message: str) -> None:
        result = cli("explain", EXAMPLE_POLICY, "--mention", mention)
        assert result.code == 2
        assert result.err.strip() == f"complaintflow explain: {message}"


class TestSuites:
    def test_example_suite_passes(self, cli: Cli) -> None:
        result = cli("test", EXAMPLE_SUITE)
        assert result.code == 0
        assert result.out.strip().endswith("passed, 0 failed")

    def test_failure_shows_expected_and_actual(
        self, cli: Cli, policy_file: WritePolicy, tmp_path: Path
    ) -> None:
        policy_file(SMALL_POLICY, "small.yaml")
        suite = tmp_path / "small.tests.yaml"
        suite.write_text(
            "policy: small.yaml\n"
            "tests:\n"
            "  - name: a refund request is answered\n"
            "    mention: {text: '@AcmeCares I want a refund'}\n"
            "    expect: {route: escalated, score: {min: 0.5}, signals: {problem_words: true}}\n"
            "  - name: praise is ignored\n"
            "    mention: {text: 'love it'}\n"
            "    expect: {route: null}\n"
        )
        result = cli("test", tmp_path)
        assert result.code == 1
        assert result.out.splitlines() == [
            f"FAIL {suite}:3: a refund request is answered",
            "     route: expected escalated, got respond",
            "     score: expected between 0.5 and 1.0, got 0.4",
            "1 passed, 1 failed",
        ]

    def test_broken_suite_is_located(self, cli: Cli, tmp_path: Path) -> None:
        suite = tmp_path / "x.tests.yaml"
        suite.write_text(
            f"policy: {EXAMPLE_POLICY}\ntests:\n  - name: t\n"
            "    mention: {text: hi, reshares: lots}\n    expect: {route: null}\n"
        )
        result = cli("test", suite)
        assert result.code == 1
        assert result.err.strip() == (f"{suite}:4:14: mention.reshares must be a whole number >= 0")

    def test_no_suites_is_a_usage_error(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("test", tmp_path)
        assert result.code == 2 and "no test suites" in result.err


class TestGraph:
    def test_mermaid(self, cli: Cli) -> None:
        result = cli("graph", EXAMPLE_POLICY, "--playbook", "standard")
        assert result.code == 0
        lines = result.out.splitlines()
        assert lines[:2] == ["%% playbook standard", "flowchart TD"]
        assert '  s2 -->|"no contact in 3d"| done' in lines
        assert any("supervisor approves reply_acknowledge?" in line for line in lines)

    def test_dot(self, cli: Cli) -> None:
        result = cli("graph", EXAMPLE_POLICY, "--playbook", "urgent", "--format", "dot")
        assert result.out.startswith('digraph "urgent" {')
        assert 'c1 -> s1 [label="yes"];' in result.out

    def test_unknown_playbook(self, cli: Cli) -> None:
        result = cli("graph", EXAMPLE_POLICY, "--playbook", "nope")
        assert result.code == 2
        assert (
            "no playbook 'nope'; the policy has standard, urgent, human_triage, review_reply"
            in result.err
        )


class TestSimulate:
    def test_sample_stream(self, cli: Cli, tmp_path: Path) -> None:
        out = tmp_path / "decisions.jsonl"
        result = cli("simulate", EXAMPLE_POLICY, sample_stream_path(), "--out", out)
        assert result.code == 0
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(records) == 30
        assert set(records[0]) == {
            "id",
            "route",
            "playbook",
            "score",
            "signals",
            "policy",
            "policy_version",
            "language",
            "language_confidence",
        }
        assert "(none: throwaway)" in result.out and "30 mentions in" in result.out

    @pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data not present")
    @pytest.mark.heavy
    def test_airline_csv_as_it_is(self, cli: Cli, tmp_path: Path) -> None:
        out = tmp_path / "airline.jsonl"
        result = cli(
            "simulate",
            EXAMPLE_POLICY,
            AIRLINE,
            "--text-column",
            "text",
            "--id-column",
            "tweet_id",
            "--out",
            out,
        )
        assert result.code == 0
        lines = out.read_text().splitlines()
        assert len(lines) == 14640
        assert json.loads(lines[0])["id"] == "570306133677760513"

    def test_missing_column(self, cli: Cli, tmp_path: Path) -> None:
        data = tmp_path / "m.csv"
        data.write_text("id,body\n1,hello\n")
        result = cli("simulate", EXAMPLE_POLICY, data)
        assert result.code == 2
        assert "no column 'text' (columns: id, body); choose one with --text-column" in result.err


class TestSchema:
    def test_prints_a_schema_that_accepts_the_example(self, cli: Cli) -> None:
        schema = json.loads(cli("schema").out)
        jsonschema.Draft202012Validator.check_schema(schema)
        example = yaml.safe_load(EXAMPLE_POLICY.read_text())
        jsonschema.Draft202012Validator(schema).validate(example)


def test_console_script_never_shows_a_traceback(policy_file: WritePolicy) -> None:
    """The installed entry point reports a broken policy as a message with exit code 1."""
    broken = policy_file("policy: [unclosed\n")
    done = subprocess.run(
        [sys.executable, "-m", "complaintflow", "validate", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"{broken}:2:1: not valid YAML")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--max-cached-workflows", "0"], {}, "argument --max-cached-workflows: expected a whole"),
        ([], {"COMPLAINTFLOW_MAX_CONCURRENT_ACTIVITIES": "many"}, "got 'many'"),
    ],
)
def test_worker_tuning_is_checked_before_connecting(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "complaintflow", "worker", *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


class TestVariables:
    @pytest.mark.parametrize(
        ("where", "has", "lacks"),
        [
            ("signals", ["author.followers", "sentiment"], ["score", "case.resolved"]),
            ("routes", ["score", "signals.NAME"], ["case.resolved"]),
            ("steps", ["case.resolved", "thresholds.NAME"], []),
        ],
    )
    def test_lists_what_each_place_can_read(
        self, cli: Cli, where: str, has: list[str], lacks: list[str]
    ) -> None:
        result = cli("variables", "--where", where)
        names = [line.split()[0] for line in result.out.splitlines()]
        assert result.code == 0 and set(has) <= set(names) and not set(lacks) & set(names)

    def test_every_listed_name_compiles_where_it_is_listed(self) -> None:
        from complaintflow.rules.expressions import Scope, reference, variables_for

        for scope in Scope:
            listed = {name for name, _, _ in reference(scope) if not name.endswith(".NAME")}
            assert listed == set(variables_for(scope)), scope
