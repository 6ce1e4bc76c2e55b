"""One error tree: every exception complaintflow defines for users is a ComplaintflowError,
and errors.py's docstring draws each of them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import complaintflow
from complaintflow import errors
from complaintflow.errors import ComplaintflowError


def _defined_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in a complaintflow module, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(complaintflow.__path__, "complaintflow."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("complaintflow"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_public_exception_is_under_complaintflow_error() -> None:
    defined = _defined_exceptions()
    assert "complaintflow.errors.PolicyError" in defined  # the walk sees the package
    # Private classes (a leading underscore) are control flow that never leaves its module;
    # the case interpreter's two signals never leave its run (caught in `run`).
    control_flow = {
        "complaintflow.workflows.case.waiting.Closed",
        "complaintflow.workflows.case.waiting.RollOver",
    }
    outside = sorted(
        name
        for name, cls in defined.items()
        if not cls.__name__.startswith("_")
        and not issubclass(cls, ComplaintflowError)
        and name not in control_flow
    )
    assert outside == [], f"raise these as ComplaintflowError subclasses: {outside}"


def test_the_docstring_draws_the_whole_tree() -> None:
    tree = {
        name
        for name, cls in _defined_exceptions().items()
        if issubclass(cls, ComplaintflowError)
        and cls is not ComplaintflowError
        and not cls.__name__.startswith("_")  # private control flow, as above
    }
    drawn = errors.__doc__ or ""
    missing = sorted(name for name in tree if f"── {name.rsplit('.', 1)[1]} " not in drawn)
    assert missing == [], f"draw these in errors.py's docstring: {missing}"


def test_the_old_import_paths_still_work() -> None:
    from complaintflow.cli import CommandFailed, UsageError
    from complaintflow.learning.files import BatchError
    from complaintflow.rules.mention import MentionError
    from complaintflow.workflows.messages import Refused

    cls: type[Exception]
    for cls in (BatchError, CommandFailed, UsageError, MentionError):
        assert cls is getattr(errors, cls.__name__)
    # The workflow's Refused is also Temporal's ApplicationError (a refusal fails the update,
    # never the workflow task); `except errors.Refused` catches it.
    assert issubclass(Refused, errors.Refused)
    for cls in (BatchError, MentionError, Refused):  # `except ValueError` callers still catch
        assert issubclass(cls, ValueError)


def test_the_drawing_says_where_each_exception_lives() -> None:
    """A class drawn without a module is defined in errors.py; one drawn with `[module]` is
    defined in that module."""
    defined = _defined_exceptions()
    for line in (errors.__doc__ or "").splitlines():
        if "── " not in line:
            continue
        name = line.split("── ", 1)[1].split()[0]
        if name == "ComplaintflowError":
            continue
        if line.rstrip().endswith("]"):
            module = "complaintflow." + line.rstrip()[:-1].rsplit("[", 1)[1]
            assert f"{module}.{name}" in defined, f"{name} is not defined in {module}"
        else:
            assert f"complaintflow.errors.{name}" in defined, f"{name} is not in errors.py"
