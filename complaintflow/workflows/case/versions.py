"""The ids of the case workflow's versions (`workflow.patched`), in one place.

Histories recorded before a change replay as they ran; never rename or reuse an id.
"""

GUARD_BEFORE_APPROVAL = "removal-guard-before-approval"
CLIP_TEMPLATE_VALUES = "clip-template-values"
ONE_DECISION_PER_STEP = "one-decision-per-step"
ADDRESSED_BY_HANDLE = "mention-addressed-by-brand-handle"  # as triage computes it
THANKS_FROM_INGEST = "thanks-read-at-ingest"  # the workflow no longer scans a post's text
RECORD_LABELS = "record-supervisor-labels"  # the first deciding action writes a label
PUBLISH_ONLY_WHAT_A_POST_CHANGED = "thread-post-publishes-only-a-score-change"  # bounded work
# Fewer billed actions per case: one wake-up timer serves every deadline, and what visibility
# shows is upserted once, when the case next waits.
FEWER_ACTIONS = "fewer-billed-actions"
# An approval keeps its deadline (or its escalation) when the case continues as new.
APPROVAL_DEADLINE_RESUMES = "approval-deadline-survives-continue-as-new"
# Steps that go on without waiting make their calls in one shared activity (and the label
# goes with them): one billed action instead of one per call.
STEPS_TOGETHER = "steps-share-an-activity"
