"""If `validate` passes, every case the policy opens can run: everything reaching a timer, a
search attribute, an id, CEL's budget or a platform limit is bounded with a located error."""

from __future__ import annotations

import pytest

from complaintflow.rules.compiler import check_file
from complaintflow.rules.expressions import EvalError, ExpressionEnv, Program, Scope, variables_for
from complaintflow.rules.templates import x_length
from tests.support.fixtures import WritePolicy
from tests.support.helpers import column_of, line_of
from tests.support.policies import small

HUNDRED = "[" + ", ".join(str(i) for i in range(100)) + "]"


def refused(write: WritePolicy, text: str) -> list[tuple[int, int, str]]:
    result = check_file(write(text))
    assert result.policy is None, "expected the policy to be refused"
    return [(d.line, d.column, d.message) for d in result.errors]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("weight: 0.4}", "weight: .nan}", ".nan", ".nan is not a number a policy can use"),
        ("respond: 0.4", "respond: .inf", ".inf", ".inf is not a number a policy can use"),
        ("version: 2", "version: " + "9" * 5000, "9999", "this number is too large to read"),
        ("version: 2", "version: " + "9" * 30, "9999", "this number is too large"),
        (
            "respond_within: 24h",
            "respond_within: 999999999999999999h",
            "999999999999999999h",
            "'999999999999999999h' is longer than a case may wait (366d)",
        ),
        (
            "timeout: 2h,",
            "timeout: " + "9" * 5000 + "d,",
            "9999",
            "is longer than a case may wait (366d)",
        ),
        (
            "policy: small",
            "policy: " + "a" * 5000,
            "aaaa",
            "the policy name is 5000 characters; at most 64",
        ),
        (
            "- reply: {template: acknowledge}\n",
            "- {reply: {template: acknowledge}, id: " + "s" * 300 + "}\n",
            "ssss",
            "the step id is 300 characters; at most 64",
        ),
    ],
)
def test_out_of_bounds_values_get_located_errors(
    policy_file: WritePolicy, old: str, new: str, needle: str, message: str
) -> None:
    text = small(old, new)
    errors = refused(policy_file, text)
    assert any(message in m for _, _, m in errors), errors
    line = next(ln for ln, _, m in errors if message in m)
    assert line == line_of(text, needle)


def test_a_comprehension_over_cels_budget_is_refused_where_it_is_written(
    policy_file: WritePolicy,
) -> None:
    condition = f"{HUNDRED}.all(x, {HUNDRED}.all(y, x + y >= 0))"
    text = small('"author.followers >= 10000"', f'"{condition}"')
    ((line, column, message),) = refused(policy_file, text)
    assert (line, column) == (line_of(text, condition), column_of(text, condition))
    assert "may loop" in message and "at most 5,000" in message


def test_comprehensions_within_the_budget_compile(policy_file: WritePolicy) -> None:
    text = small('"author.followers >= 10000"', "\"['a', 'b'].exists(t, t == customer.tier)\"")
    assert check_file(policy_file(text)).policy is not None


def test_a_condition_over_the_budget_at_run_time_fails_closed() -> None:
    """Should one get past the compiler, evaluating it counts as false, never an exception."""
    env = ExpressionEnv(Scope.SIGNAL, variables_for(Scope.SIGNAL))
    program = env.compile(f"{HUNDRED}.all(x, {HUNDRED}.all(y, x + y >= 0))")
    assert isinstance(program, Program)
    outcome = program.holds({})
    assert isinstance(outcome, EvalError) and "budget" in outcome.message
    assert env.batch([program]).evaluate({}) == [outcome]
    assert env.first_match([program]).find({}) == (None, [outcome])


def test_a_non_policy_file_is_not_quoted(policy_file: WritePolicy) -> None:
    secret = "AWS_SECRET_ACCESS_KEY=abcdEFGHsecretvalue1234567890"
    result = check_file(policy_file(f"{secret}\nDB_PASSWORD=hunter2hunter2\n", name=".env"))
    assert result.errors
    shown = " ".join(str(d) for d in result.errors)
    assert "secretvalue" not in shown and "hunter2" not in shown
    assert "not a policy file" in shown


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("😀", 2),
        ("👨‍👩‍👧‍👦", 2),  # one emoji sequence of seven code points
        ("🇫🇷", 2),
        ("👍🏽", 2),
        ("中文", 4),
        ("e\u0301", 1),  # NFC first: one é
        ("read https://example.com/" + "a" * 100 + " now", 5 + 23 + 4),
        ("care@acme.example", 17),
        ("‘quoted’ — dash", 15),  # punctuation in the light ranges weighs 1
    ],
)
def test_x_length_counts_as_x_does(text: str, length: int) -> None:
    assert x_length(text) == length


def test_a_policy_too_big_to_travel_with_its_cases_is_refused(policy_file: WritePolicy) -> None:
    lines = "".join(f'      t{n}: "{"word " * 150}"\n' for n in range(400))
    text = small("templates:\n", "templates:\n" + lines.replace("      ", "  "))
    errors = refused(policy_file, text)
    assert any("can travel with each case" in m for _, _, m in errors), errors
