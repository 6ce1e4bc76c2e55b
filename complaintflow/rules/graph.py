"""Draws a compiled playbook as the workflow a case will follow (Mermaid or Graphviz dot).

Approvals appear as decisions before their step, conditions as labelled edges that skip the
step, and early exits (no contact, timeouts that close) as edges to the end.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from complaintflow.errors import UnknownStepKind
from complaintflow.rules.durations import format_duration
from complaintflow.rules.model import Approval, CompiledPolicy, Playbook, Step
from complaintflow.rules.steps import STEP_SPECS


class GraphFormat(StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"


@dataclasses.dataclass(frozen=True)
class _Node:
    id: str
    label: str
    shape: str  # "step" | "decision" | "terminal"


@dataclasses.dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    label: str = ""


def _describe(step: Step) -> str:
    """How the step's kind draws it (from its spec); a kind without a spec is refused."""
    spec = STEP_SPECS.get(step.kind)
    if spec is None:
        raise UnknownStepKind(f"step {step.id!r}: cannot draw a step of kind {step.kind!r}")
    return spec.draw(step)


class _Drawing:
    """Nodes and edges drawn so far, and the open ends the next node connects to."""

    def __init__(self, playbook: Playbook) -> None:
        self.nodes = [
            _Node(
                "start",
                f"case opens<br/>first answer within "
                f"{format_duration(playbook.respond_within_seconds)}",
                "terminal",
            ),
            _Node("done", "case closed", "terminal"),
        ]
        self.edges: list[_Edge] = []
        self.previous: list[tuple[str, str]] = [("start", "")]

    def link(self, target: str) -> None:
        for source, label in self.previous:
            self.edges.append(_Edge(source, target, label))

    def step(self, index: int, step: Step) -> None:
        """The step's condition and approval (when it has them), the step, its early exits."""
        node_id = f"s{index}"
        skips: list[tuple[str, str]] = []
        if step.when:
            cond_id = f"c{index}"
            self.nodes.append(_Node(cond_id, step.when, "decision"))
            self.link(cond_id)
            self.previous = [(cond_id, "yes")]
            skips.append((cond_id, "no"))
        if step.approval:
            self.approval(index, step, step.approval, skips)
        self.nodes.append(_Node(node_id, f"{step.id}<br/>{_describe(step)}", "step"))
        self.link(node_id)
        self.previous = [(node_id, ""), *skips]
        self.exits(node_id, step, skips)

    def approval(
        self, index: int, step: Step, approval: Approval, skips: list[tuple[str, str]]
    ) -> None:
        entry = f"a{index}"
        self.nodes.append(
            _Node(
                entry,
                f"supervisor approves {step.id}?<br/>within "
                f"{format_duration(approval.timeout_seconds)}",
                "decision",
            )
        )
        self.link(entry)
        self.previous = [(entry, "approve / edit")]
        skips.append((entry, "reject"))
        if approval.on_timeout == "close":
            self.edges.append(_Edge(entry, "done", "no decision: close"))
        elif approval.on_timeout == "skip":
            skips.append((entry, "no decision: skip"))
        elif approval.on_timeout == "approve":
            self.previous.append((entry, "no decision: approve"))
        else:
            self.edges.append(_Edge(entry, entry, "no decision: escalate, keep waiting"))

    def exits(self, node_id: str, step: Step, skips: list[tuple[str, str]]) -> None:
        """Edges from the step straight to the end (no contact, a timeout, a close), or on."""
        spec = STEP_SPECS[step.kind]
        for way in spec.exits(step):
            if way.ends_case:
                self.edges.append(_Edge(node_id, "done", way.label))
            else:
                self.previous.append((node_id, way.label))
        if spec.final:
            self.previous = skips


def _build(playbook: Playbook) -> tuple[list[_Node], list[_Edge]]:
    drawing = _Drawing(playbook)
    for index, step in enumerate(playbook.steps):
        drawing.step(index, step)
    drawing.link("done")
    return drawing.nodes, drawing.edges


def render_graph(policy: CompiledPolicy, playbook: str, fmt: GraphFormat) -> str:
    """The playbook called `playbook` drawn in `fmt`."""
    nodes, edges = _build(policy.playbook(playbook))
    if fmt is GraphFormat.MERMAID:
        return _mermaid(playbook, nodes, edges)
    return _dot(playbook, nodes, edges)


def _mermaid(name: str, nodes: list[_Node], edges: list[_Edge]) -> str:
    lines = [f"%% playbook {name}", "flowchart TD"]
    for node in nodes:
        label = node.label.replace('"', "#quot;")
        if node.shape == "terminal":
            lines.append(f'  {node.id}(["{label}"])')
        elif node.shape == "decision":
            lines.append(f'  {node.id}{{"{label}"}}')
        else:
            lines.append(f'  {node.id}["{label}"]')
    for edge in edges:
        arrow = f' -->|"{edge.label}"| ' if edge.label else " --> "
        lines.append(f"  {edge.source}{arrow}{edge.target}")
    return "\n".join(lines) + "\n"


def _dot(name: str, nodes: list[_Node], edges: list[_Edge]) -> str:
    shapes = {"terminal": "oval", "decision": "diamond", "step": "box"}
    lines = [f'digraph "{name}" {{', "  rankdir=TB;", '  node [fontname="Helvetica"];']
    for node in nodes:
        label = node.label.replace("<br/>", "\\n").replace('"', '\\"')
        lines.append(f'  {node.id} [shape={shapes[node.shape]}, label="{label}"];')
    for edge in edges:
        label = f' [label="{edge.label}"]' if edge.label else ""
        lines.append(f"  {edge.source} -> {edge.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
