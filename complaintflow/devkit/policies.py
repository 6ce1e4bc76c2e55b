"""A policy no human needs to approve, for load tests, benchmarks and reliability runs:
every post saying "broken" is a complaint whose playbook runs the given steps, then closes."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

FULL_PLAYBOOK = ("reply: {template: ack}", "handoff: {template: dm}", "ticket: {system: zendesk}")


def automatic_policy(
    *,
    brand: str = "1500",
    accounts: str | None = None,
    steps: Sequence[str] = FULL_PLAYBOOK,
    respond_within: str = "24h",
) -> str:
    """The policy's YAML. The brand owns the X account `brand` (or `accounts`, in YAML flow
    style); `steps` are playbook steps in YAML flow style, followed by `close: {reason: done}`.
    Templates: `ack` (a public answer), `dm` (a private message), `alert` (for the team)."""
    owned = accounts or f'{{x: {{user_id: "{brand}", handle: AcmeCares}}}}'
    playbook = "".join(f"\n              - {step}" for step in (*steps, "close: {reason: done}"))
    return textwrap.dedent(
        f"""\
        policy: automatic
        version: 1
        brand:
          name: Acme
          accounts: {owned}
          contact: {{email: care@acme.example, phone: "+1 555 0100"}}
        seriousness:
          signals: {{problem: {{when: "text_has_any(['broken'])", weight: 1.0}}}}
          thresholds: {{respond: 0.5}}
        routes: [{{name: respond, when: "score >= thresholds.respond", playbook: auto}}]
        playbooks:
          auto:
            respond_within: {respond_within}
            steps:{playbook}
        templates:
          ack: "Sorry {{author.name}}, we are on it."
          dm: "Email {{brand.contact.email}}, case {{case.id}}"
          alert: "New complaint from @{{author.handle}}: {{case.id}}"
        """
    )
