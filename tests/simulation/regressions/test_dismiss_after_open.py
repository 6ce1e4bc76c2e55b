"""A person opens a logged remark as a case (`complaintflow open`: the store labels the mention
a complaint, source "open"), then a supervisor dismisses that case as not a complaint: the
dismiss is accepted and the case closes "dismissed", while the store keeps the label that it
was a complaint and the dismissal's label is silently dropped (first label wins). The case
workflow does not know the open labelled it (its state's `labelled` is empty), so
check_dismiss lets it through where a dismiss after an approval is refused. Found by the
simulator; shrunk to this history.

Fixed: a case a person opened starts labelled a complaint (its route says who opened it), so
`dismiss` is refused with the reason, as it is after an approval."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="a", followup=False, loud=False, text=2, thread=0),
    Step.of("open_remark", brand="a", how="cli", index=0, seed=0),
    Step.of("supervise", case=0, update="dismiss", payload="valid"),
]


def test_a_case_opened_from_a_remark_is_not_dismissed_against_its_label(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)
