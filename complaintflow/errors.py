"""The exceptions complaintflow raises, and the located diagnostics a policy error carries.

ComplaintflowError
 └── PolicyError      a policy file is wrong: one or more located Diagnostics
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
