"""The custom search attributes of a case, so supervisors can filter cases in the Web UI.

They must be registered on the namespace before a worker runs (`temporal operator
search-attribute create`, or `--search-attribute` on the dev server): upserting an unknown one
fails the workflow task.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")
CASE_SCORE = SearchAttributeKey.for_float("CaseScore")
CASE_PLATFORM = SearchAttributeKey.for_keyword("CasePlatform")
CASE_POLICY = SearchAttributeKey.for_keyword("CasePolicy")
CASE_ROUTE = SearchAttributeKey.for_keyword("CaseRoute")
CASE_PRIORITY = SearchAttributeKey.for_keyword("CasePriority")
CASE_AWAITING_APPROVAL = SearchAttributeKey.for_bool("CaseAwaitingApproval")
CASE_SLA_DUE = SearchAttributeKey.for_datetime("CaseSlaDue")

ALL = (
    CASE_STATUS,
    CASE_SCORE,
    CASE_PLATFORM,
    CASE_POLICY,
    CASE_ROUTE,
    CASE_PRIORITY,
    CASE_AWAITING_APPROVAL,
    CASE_SLA_DUE,
)
