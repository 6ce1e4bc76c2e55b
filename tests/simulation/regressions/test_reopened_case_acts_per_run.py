"""A loud complaint closes its case at once (urgent playbook: reply, DM, ticket, close); a later
post in its thread starts the same case id again as a new run, which acts again. I3 counts
actions per case run, so the second DM is not a repeat; within one run it stays strict. Found
by a long run as a false positive; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="b", followup=False, loud=True, text=0, thread=1),
    Step.of("post_x", brands="b", followup=True, loud=True, text=0, thread=1),
]


def test_a_closed_case_reopened_by_its_thread_may_act_once_more(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)


def test_dismiss_and_open_keep_one_label_per_mention(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    """A remark opened twice (CLI then HTTP) is one case; a complaint dismissed racing an
    approval is one label; hostile bodies to /remarks/open get 4xx."""
    assert_holds(
        simulation,
        [
            Step.of("post_x", brands="a", followup=False, loud=False, text=2, thread=0),
            Step.of("open_remark", brand="a", how="cli", index=0, seed=0),
            Step.of("open_remark", brand="a", how="twice", index=0, seed=0),
            Step.of("post_x", brands="a", followup=False, loud=False, text=0, thread=1),
            Step.of("race", case=1, first="dismiss", second="approve"),
            Step.of("supervise", case=1, update="dismiss", payload="valid"),
            Step.of("open_remark", brand="b", how="hostile", index=0, seed=3),
            Step.of("open_remark", brand="a", how="unknown", index=0, seed=0),
        ],
    )


def test_one_meta_delivery_for_two_pages_is_split_by_page(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    """The router parses a Meta body once and hands each Page's entry to its brand, a bad
    time beside good entries included."""
    assert_holds(
        simulation,
        [
            Step.of(
                "post_meta", brand="ab", bad_time=True, extra=1, followup=False, text=0, thread=0
            ),
            Step.of(
                "post_meta", brand="ab", bad_time=False, extra=0, followup=True, text=1, thread=0
            ),
        ],
    )


def test_cli_decisions_act_on_the_pending_step(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    """`approve`/`reject` without a step act on the one the case waits on, racing a dismiss."""
    assert_holds(
        simulation,
        [
            Step.of("post_x", brands="a", followup=False, loud=False, text=0, thread=0),
            Step.of("supervise", case=0, update="approve", payload="cli"),
            Step.of("race", case=0, first="dismiss", second="reject"),
            Step.of("supervise", case=0, update="approve", payload="cli"),
            Step.of("supervise", case=0, update="close", payload="cli"),
        ],
    )


def test_cases_of_a_two_page_delivery_belong_to_their_brands(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    """A Meta body for both Pages makes a case per brand; each case's label is its brand's.
    (The harness once gave every case of one delivery the first entry's brand.)"""
    assert_holds(
        simulation,
        [
            Step.of(
                "post_meta", bad_time=False, brand="b", extra=1, followup=False, text=4, thread=0
            ),
            Step.of(
                "post_meta", bad_time=False, brand="ab", extra=2, followup=False, text=0, thread=1
            ),
            Step.of("race", case=5, first="escalate", second="resolve"),
        ],
    )
