"""Every step kind is whole: a spec (options, compile function, drawing, description, schema
block), a runner in the case workflow and, when it acts, an activity the worker registers. A
kind added to `StepKind` without one of them fails here, not in front of an author or, worse,
in a case that stalls on its step."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaintflow.rules.compiler import STEP_KINDS, compile_policy
from complaintflow.rules.model import StepKind
from complaintflow.rules.schema import generated_schema, policy_schema, render_schema, schema_text
from complaintflow.rules.steps import DEFS, STEP_SPECS
from complaintflow.workflows import registry
from complaintflow.workflows.case.steps import RUNNERS, act

EXAMPLE = Path(__file__).parents[2] / "policies.example.yaml"


class TestEveryKindIsWhole:
    def test_every_step_kind_has_a_spec_and_the_compiler_reads_it(self) -> None:
        """A kind in the model has its spec; the compiler compiles exactly those kinds."""
        assert set(STEP_SPECS) == set(StepKind)
        assert all(spec.kind is kind for kind, spec in STEP_SPECS.items())
        assert set(STEP_KINDS) == set(StepKind)

    def test_every_step_kind_has_a_runner_in_the_case_workflow(self) -> None:
        """A kind without a runner would stall every case that reaches its step."""
        assert set(RUNNERS) == set(StepKind)

    def test_a_kind_acts_through_an_activity_only_when_its_spec_names_one(self) -> None:
        """`act` looks the activity up by kind: a kind without one must not run through it."""
        assert {
            kind: spec.activity for kind, spec in STEP_SPECS.items() if spec.activity
        } == registry.STEP_ACTIVITIES
        for kind, runner in RUNNERS.items():
            if kind not in registry.STEP_ACTIVITIES:
                assert runner is not act, f"{kind.value} runs through `act` but has no activity"

    async def test_every_activity_a_kind_names_is_registered_by_the_worker(
        self, tmp_path: Path
    ) -> None:
        """The production adapters register each kind's activity (and the archive)."""
        from complaintflow.activities.operations import OperationsConfig
        from complaintflow.activities.platforms import Endpoints
        from complaintflow.worker import adapters_from_environment
        from tests.support.adapters import activity_name

        adapters = adapters_from_environment(
            endpoints=Endpoints(token_store=tmp_path / "tokens.sqlite3"),
            operations=OperationsConfig(archive_dir=tmp_path / "archive"),
            background=False,
        )
        try:
            names = {activity_name(a) for a in adapters.activities}
        finally:
            await adapters.aclose()
        for kind, name in registry.STEP_ACTIVITIES.items():
            assert name in names, f"no adapter registers {name} for {kind.value} steps"
        assert registry.ARCHIVE_POST in names


class TestGeneratedSchema:
    def test_the_shipped_schema_is_what_the_specs_generate(self) -> None:
        """Editing a kind's spec without `python scripts/generate_schema.py` fails here."""
        shipped = schema_text()
        assert render_schema(generated_schema(json.loads(shipped))) == shipped

    def test_the_schema_accepts_exactly_the_step_kinds_the_compiler_knows(self) -> None:
        step = policy_schema()["properties"]["playbooks"]["additionalProperties"]["properties"]
        written = set(step["steps"]["items"]["properties"]) - {"id"}
        assert written == {kind.value for kind in STEP_KINDS}

    def test_shared_pieces_are_written_once_and_every_reference_resolves(self) -> None:
        """`when` and `approval` are one definition each, referred to by every kind."""
        text = schema_text()
        refs = set(_refs(policy_schema()))
        assert refs == {f"#/$defs/{name}" for name in DEFS}
        assert text.count("A supervisor must approve this step before it runs.") == 1
        assert text.count("the step runs only when it holds") <= 2  # $defs, and routes' own
        jsonschema.Draft202012Validator.check_schema(policy_schema())

    def test_a_kinds_schema_fields_are_its_typed_options(self) -> None:
        """A spec whose schema names an option its TypedDict lacks cannot make a schema."""
        spec = STEP_SPECS[StepKind.TICKET]
        broken = dataclasses.replace(spec, fields={**spec.fields, "queue": {"type": "string"}})
        with pytest.raises(ValueError, match="queue"):
            broken.schema()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


POLICY = """
policy: kinds
version: 1
brand:
  name: Kinds
  accounts: {{facebook: {{page_id: "2222"}}}}
  contact: {{email: care@example.com, phone: "+1 555 0100"}}
seriousness:
  signals: {{tone: {{when: "sentiment <= -0.3", weight: 0.5}}}}
  thresholds: {{respond: 0.4}}
routes:
  - {{name: respond, when: "score >= thresholds.respond", playbook: standard}}
playbooks:
  standard:
    respond_within: 24h
    steps:
      - {step}
templates:
  hello: "Sorry to hear this."
"""

_DURATIONS = st.builds(
    lambda n, unit: f"{n}{unit}", st.integers(1, 90), st.sampled_from(["m", "h", "d"])
)


@given(
    st.one_of(
        st.builds(lambda e: ("await", e, {"event": e}), st.sampled_from(["resolution", "contact"])),
        st.builds(lambda d: ("wait", d, {"duration": d}), _DURATIONS),
        st.just(("escalate", None, {})),
        st.just(("close", None, {})),
    )
)
@settings(deadline=None)  # each example compiles two policies: slow when both cores are busy
def test_a_steps_short_form_compiles_as_its_mapping(case: tuple[str, Any, dict[str, Any]]) -> None:
    """`await: resolution`, `wait: 2h`, `close:` mean the same step as their mapping forms."""
    kind, short, mapping = case
    written = "~" if short is None else short
    steps = [
        compile_policy(POLICY.format(step=f"{kind}: {form}")).playbooks[0].steps[0]
        for form in (written, json.dumps(mapping))
    ]
    assert steps[0] == steps[1]
    assert steps[0].kind is StepKind(kind)
