"""The case workflow: one durable workflow per complaint thread (see `workflow.py`).

Its parts: `steps` (a runner per step kind), `waiting`, `supervision` (update checks),
`visibility` (search attributes, Markdown), `thread` (later posts), `running` (shared state).
"""

from complaintflow.workflows.case.running import MAX_AUDIT, PRIORITIES, CaseRun
from complaintflow.workflows.case.visibility import complaint_time, initial_search_attributes
from complaintflow.workflows.case.waiting import ROLL_OVER_EVENTS
from complaintflow.workflows.case.workflow import CaseWorkflow

__all__ = [
    "MAX_AUDIT",
    "PRIORITIES",
    "ROLL_OVER_EVENTS",
    "CaseRun",
    "CaseWorkflow",
    "complaint_time",
    "initial_search_attributes",
]
