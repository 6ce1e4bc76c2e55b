"""What a step reads from its case: whether its `when` condition holds, and its drafted text.

Deterministic: conditions run on compiled programs, texts render from the pinned policy.
"""

import dataclasses

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.bindings import mention_scope, step_scope
    from complaintflow.rules.compiler import programs_for
    from complaintflow.rules.expressions import EvalError, normalise_text, text_in_scope
    from complaintflow.rules.model import Step
    from complaintflow.rules.templates import TEMPLATE_VARIABLES, render_parts
    from complaintflow.workflows.case.running import CaseRun, clip
    from complaintflow.workflows.case.versions import ADDRESSED_BY_HANDLE, CLIP_TEMPLATE_VALUES


def holds(run: CaseRun, step: Step) -> bool:
    """Whether the step's condition holds; a condition that fails to evaluate is false."""
    program = programs_for(run.policy).steps[(run.playbook.name, step.id)]
    mention = run.case.mention
    if mention.sentiment is None:
        mention = dataclasses.replace(mention, sentiment=0.0)
    if mention.language is None:  # what triage saw; the model is never loaded here
        mention = dataclasses.replace(
            mention,
            language=run.case.decision.language,
            language_confidence=run.case.decision.language_confidence,
        )
    normalised = normalise_text(mention.text)
    values = step_scope(
        run.policy,
        mention,
        normalised,
        signals={s.name: s.held for s in run.case.decision.signals},
        case=run.state,
    )
    if "mention.addressed" in program.source:
        # Cases opened before the brand's handles were bound here read it without them.
        before = mention_scope(run.policy, mention, normalised, handles=False)
        if before["mention.addressed"] != values["mention.addressed"] and not (
            workflow.patched(ADDRESSED_BY_HANDLE)
        ):
            values["mention.addressed"] = before["mention.addressed"]
    with text_in_scope(normalised):
        outcome = program.holds(values)
    if isinstance(outcome, EvalError):
        run.audit("complaintflow", "condition failed (counted as false)", step.id, outcome.message)
        return False
    return outcome


def draft(run: CaseRun, step: Step) -> str:
    """The step's text from its template in the case's language ("" without a template)."""
    if not step.template:
        return ""
    mention = run.case.mention
    values = {
        "author.name": mention.author.name or mention.author.handle,
        "author.handle": mention.author.handle,
        "customer.tier": mention.customer.tier,
        "channel": mention.platform,
        "mention.id": mention.id,
        "case.id": run.state.case_id,
        "case.ticket_id": run.state.ticket_id,
        "case.ref": run.state.ref,
        "mention.text": mention.text,
        "mention.language": run.state.language or "unknown",
    }
    # The compiler bounded each template's length assuming these maximum lengths; a
    # longer value (a 300-character display name) is cut so the platform takes the post.
    too_long = {k for k, v in values.items() if len(v) > TEMPLATE_VARIABLES.get(k, len(v))}
    if too_long and workflow.patched(CLIP_TEMPLATE_VALUES):
        for key in too_long:
            values[key] = clip(values[key], TEMPLATE_VARIABLES[key])
    template = run.policy.template(step.template)
    return render_parts(template.parts_for(run.state.language), values)
