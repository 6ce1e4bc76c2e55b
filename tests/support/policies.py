"""The few inline policies the tests share (the no-approval one is
complaintflow.devkit.policies.automatic_policy, shared with the benchmarks).

SMALL_POLICY: a small valid policy that tests mutate to make one mistake at a known place.
CASES_POLICY: two playbooks that use every waiting step, for the case workflow tests.
"""

from __future__ import annotations

import textwrap

from complaintflow.devkit.policies import automatic_policy

__all__ = ["CASES_POLICY", "SMALL_POLICY", "automatic_policy", "small"]

# A small valid policy; tests replace parts of it to make one mistake at a known place.
SMALL_POLICY = textwrap.dedent(
    """\
    policy: small
    version: 2
    brand:
      name: Acme
      accounts:
        x: {user_id: "1111", handle: AcmeCares}
        facebook: {page_id: "2222"}
      contact: {email: care@acme.example, phone: "+1 555 0100"}
    seriousness:
      signals:
        negative_tone: {when: "sentiment <= -0.3", weight: 0.4}
        problem_words: {when: "text_has_any(['refund', 'broken'])", weight: 0.4}
        wide_reach: {when: "author.followers >= 10000", weight: 0.3}
      thresholds: {respond: 0.4, escalate: 0.8}
    routes:
      - {name: escalated, when: "score >= thresholds.escalate", playbook: urgent}
      - {name: respond, when: "score >= thresholds.respond", playbook: standard}
    playbooks:
      standard:
        respond_within: 24h
        steps:
          - reply: {template: acknowledge, approval: {timeout: 2h, on_timeout: escalate}}
          - handoff: {template: move_offline, await_contact: 72h, on_no_contact: close}
          - await: resolution
          - remove_public: {action: hide, approval: {}}
          - close: {reason: resolved}
      urgent:
        respond_within: 1h
        steps:
          - notify: {via: slack, target: "#leads"}
          - reply: {template: acknowledge}
          - close:
    templates:
      acknowledge: "Sorry to hear this, {author.name}. Please check your messages."
      move_offline: "Please email {brand.contact.email}, case {case.id}."
    """
)


def small(old: str = "", new: str = "") -> str:
    """SMALL_POLICY with one exact piece of text replaced (which must be there)."""
    if old:
        assert old in SMALL_POLICY, old
    return SMALL_POLICY.replace(old, new, 1) if old else SMALL_POLICY


# Every path a supervisor or customer can take: approvals, contact, resolution, removal.
CASES_POLICY = textwrap.dedent(
    """\
    policy: cases
    version: 1
    brand:
      name: Acme
      accounts:
        x: {user_id: "1111", handle: AcmeCares}
        facebook: {page_id: "2222"}
      contact: {email: care@acme.example, phone: "+1 555 0100"}
    seriousness:
      signals:
        problem: {when: "text_has_any(['refund', 'broken'])", weight: 0.5}
        loud: {when: "author.followers >= 10000", weight: 0.5}
      thresholds: {respond: 0.5, escalate: 1.0}
    routes:
      - {name: escalated, when: "score >= thresholds.escalate", playbook: urgent}
      - {name: respond, when: "score >= thresholds.respond", playbook: standard}
    playbooks:
      standard:
        respond_within: 24h
        escalations: [{after: 0m, via: slack, target: "#leads", priority: high}]
        steps:
          - notify: {via: slack, target: "#care", template: alert}
          - reply: {template: acknowledge, approval: {timeout: 2h, on_timeout: escalate}}
          - handoff: {template: move_offline, await_contact: 72h, on_no_contact: close}
          - ticket: {system: zendesk}
          - await: {event: resolution, timeout: 14d, on_timeout: close}
          - remove_public: {action: hide, approval: {timeout: 1d, on_timeout: skip}}
          - reply: {template: follow_up, when: "case.resolved && !case.thanked"}
          - close: {reason: resolved}
      urgent:
        priority: urgent
        respond_within: 1h
        steps:
          - reply: {template: acknowledge}
          - close: {reason: done}
    templates:
      alert: "New complaint from @{author.handle}: {case.id}"
      acknowledge: "Sorry to hear this, {author.name}. Please check your messages."
      move_offline: "Please email {brand.contact.email} and quote {case.id}."
      follow_up: "Glad we could sort this out, {author.name}."
    """
)
