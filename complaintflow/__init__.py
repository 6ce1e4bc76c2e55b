"""complaintflow: a brand's policy for public complaints, compiled into durable workflows.

The public API is small: load and compile policies, and the errors they raise.
"""

from complaintflow.errors import ComplaintflowError, Diagnostic, PolicyError, Severity
from complaintflow.rules.compiler import compile_policy, load_policy
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Decision, triage

__all__ = [
    "CompiledPolicy",
    "ComplaintflowError",
    "Decision",
    "Diagnostic",
    "PolicyError",
    "Severity",
    "compile_policy",
    "load_policy",
    "triage",
]
