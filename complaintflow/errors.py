"""The exceptions complaintflow raises, and the located diagnostics a policy error carries.

Every error complaintflow raises on purpose is a ComplaintflowError; the ones that were
ValueErrors before the tree existed still are, so `except ValueError` keeps working:

ComplaintflowError
 ├── PolicyError         a policy file is wrong: one or more located Diagnostics
 ├── MentionError        a mention's JSON has the wrong shape (also a ValueError)
 ├── BatchError          a CSV / JSON-lines file of mentions cannot be read (a ValueError)
 ├── IngestError         an incoming payload cannot be read as mentions
 │    ├── Unusable       a well-formed entry that is no mention       [platforms.payload]
 │    └── BadBody        a body never accepted (a 400; a ValueError)  [ingest.body]
 ├── PlatformError       a platform or webhook refused or failed a call (.retryable)
 │    └── GraphError     Graph's error body: code, subcode, throttling  [platforms.meta.adapter]
 ├── BadId               an id not in its platform's format (a ValueError)  [platforms.facts]
 ├── Refused             a supervisor action the case cannot take now (also a ValueError;
 │                       workflows.messages.Refused is also Temporal's ApplicationError)
 ├── CaseNotOpen         no such case, or it is closed (a LookupError)  [client.cases]
 ├── NothingPending      the case waits for no approval now (a LookupError)  [client.cases]
 ├── UnknownStepKind     a step kind this part of complaintflow does not handle
 ├── UsageError          the command line asks for something impossible (exit code 2)
 ├── CommandFailed       a command ran but could not do what was asked (exit code 1)
 ├── ModelError          a model file missing, corrupt or of another version  [rules.model_file]
 ├── TrainingError       labelled data that cannot train a model  [learning.training]
 ├── StoreError          the decision store could not take an entry  [store.base]
 │    ├── StoreUnavailable   the database did not answer or is full: retry (503)  [store.base]
 │    └── StoreRejected      the database refused this entry as it is (4xx)  [store.base]
 ├── CodecError          payload keys malformed, or a payload's key is missing  [codec.keys]
 ├── TokenStoreError     the token store's folder or file is not private  [platforms.credentials]
 ├── AccountConflict     two policies claim one platform account  [ingest.brands]
 ├── NoSpikeAlert        the policy has no `alerts.spike`  [client.alerts]
 ├── CannotOpen          a logged remark cannot become a case  [client.opening]
 │    └── NoDecision     the store has no decision of the policy on it  [client.opening]
 └── PostgresMissing     (dev kit) initdb / postgres are not installed  [devkit.pgcluster]

A class with a module in brackets lives there (importing it from here would load that
module's dependencies into everything that imports errors); the others are defined here
and, as before, also importable from the module that uses them (`rules.mention`,
`learning.files`, `workflows.messages`, `cli`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    """How bad a diagnostic is: errors stop a policy, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a policy file, at a 1-based line and column, with what to write instead."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: "
        if self.severity is Severity.WARNING:
            text += "warning: "
        text += self.message
        if self.hint:
            text += f"; {self.hint}"
        return text


class ComplaintflowError(Exception):
    """Base class of every error complaintflow raises on purpose."""


class PolicyError(ComplaintflowError):
    """A policy (or a policy test suite) is invalid; `diagnostics` says where and why, sorted."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(set(diagnostics)))
        super().__init__("\n".join(str(d) for d in self.errors) or "invalid policy")

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)


class PlatformError(ComplaintflowError):
    """A platform (or webhook) refused or failed a call; `retryable` says whether to try again."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class IngestError(ComplaintflowError):
    """An incoming payload cannot be read as mentions; the message says what and where."""


class MentionError(ComplaintflowError, ValueError):
    """A mention's JSON does not have the expected shape; the message names the field."""


class BatchError(ComplaintflowError, ValueError):
    """The input file cannot be read as mentions; the message names the file and row."""


class Refused(ComplaintflowError, ValueError):
    """A supervisor action the case cannot take now; the message says why, in plain words."""


class UnknownStepKind(ComplaintflowError):
    """A step kind that this part of complaintflow has no entry for (drawing, running, ...)."""


class UsageError(ComplaintflowError):
    """The command line asks for something that cannot be done (exit code 2)."""


class CommandFailed(ComplaintflowError):
    """The command ran but could not do what was asked (exit code 1), e.g. a refused update."""
