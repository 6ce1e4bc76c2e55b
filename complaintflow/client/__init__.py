"""The Temporal client side: opening cases (signal-with-start), listing and acting on them for
supervisors, and scheduling the spike alerts. Clients never import the worker."""

# The task queue clients start cases on and workers poll, unless told otherwise.
DEFAULT_TASK_QUEUE = "complaintflow"
