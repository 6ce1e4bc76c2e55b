"""Commands for policy authors: check, test, explain, draw and simulate a policy, and train
and evaluate the classifiers it reads."""

from __future__ import annotations

from typing import Any

from complaintflow.cli.authors import explain, learning, policy, simulate


def register(commands: Any) -> None:
    """validate, explain, test, graph, simulate, schema, variables, train, evaluate, labels."""
    policy.register_checks(commands)
    explain.register(commands)
    policy.register_tests(commands)
    simulate.register(commands)
    policy.register_reference(commands)
    learning.register(commands)
