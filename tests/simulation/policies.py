"""The two brands of the simulated deployment and the policy text each serves, with the edits a
reload step makes (rename, add or remove a playbook, bump the version, or break the file)."""

from __future__ import annotations

import dataclasses
import textwrap


@dataclasses.dataclass(frozen=True)
class Brand:
    """One brand: its policy's name and the accounts it owns on X and Facebook."""

    key: str  # "a" or "b": how steps name it
    policy: str
    x: str  # X user id
    handle: str
    page: str  # Facebook Page id


BRANDS = {
    "a": Brand("a", "sim-acme", "1500", "AcmeCares", "2222"),
    "b": Brand("b", "sim-northwind", "1600", "NorthwindCares", "2323"),
}


@dataclasses.dataclass(frozen=True)
class PolicyShape:
    """What a reload may change: the version, the playbooks' names, an extra route."""

    version: int = 1
    standard: str = "standard"
    urgent: str | None = "urgent"  # None: removed (its route then goes to `standard`)
    vip: bool = False  # an extra route and playbook

    def edited(self, edit: str) -> PolicyShape:
        """This shape after one valid edit."""
        bumped = dataclasses.replace(self, version=self.version + 1)
        if edit == "rename_standard":
            return dataclasses.replace(bumped, standard=_renamed(self.standard))
        if edit == "rename_urgent":
            return dataclasses.replace(bumped, urgent=_renamed(self.urgent or "urgent"))
        if edit == "add":
            return dataclasses.replace(bumped, vip=True)
        if edit == "remove":
            return dataclasses.replace(bumped, urgent=None, vip=False)
        return bumped

    def playbooks(self) -> list[str]:
        urgent = [self.urgent] if self.urgent else []
        return [self.standard, "human_triage", *urgent, *(["vip"] * self.vip)]


def _renamed(name: str) -> str:
    return name[:-2] if name.endswith("_b") else f"{name}_b"


INVALID_EDITS = (
    "policy: [broken",
    "policy: sim\nversion: 1\nbrand: {name: x}\nroutes: []\nplaybooks: {}\nweigth: 1\n",
)


def policy_text(brand: Brand, shape: PolicyShape) -> str:
    """The YAML of `brand`'s policy in `shape`: a standard playbook with an approval, an
    urgent one without (it replies at once), both replying, moving offline and ticketing;
    once resolved, the standard one hides the public post (approved by dana or lee, perhaps
    in advance with the resolution) and thanks the customer, both in one shared activity."""
    urgent = shape.urgent or shape.standard
    vip_route = (
        '\n  - {name: vip, when: "author.followers >= 1000000", playbook: vip}' if shape.vip else ""
    )
    playbooks = [
        f"""\
  {shape.standard}:
    respond_within: 24h
    steps:
      - reply: {{template: acknowledge, approval: {{timeout: 2h, on_timeout: escalate}}}}
      - handoff: {{template: move_offline, await_contact: 72h, on_no_contact: close}}
      - ticket: {{system: zendesk}}
      - await: {{event: resolution, timeout: 14d, on_timeout: close}}
      - remove_public: {{action: hide, approval: {{timeout: 24h, on_timeout: skip,
          approvers: [dana, lee]}}}}
      - reply: {{template: follow_up, when: "case.resolved"}}
      - close: {{reason: resolved}}"""
    ]
    playbooks.append(
        """\
  human_triage:
    respond_within: 24h
    steps:
      - await: route"""
    )
    if shape.urgent:
        playbooks.append(
            f"""\
  {shape.urgent}:
    priority: urgent
    respond_within: 1h
    steps:
      - reply: {{template: urgent_ack}}
      - handoff: {{template: move_offline}}
      - ticket: {{system: zendesk}}
      - close: {{reason: done}}"""
        )
    if shape.vip:
        playbooks.append(
            """\
  vip:
    priority: urgent
    respond_within: 1h
    steps:
      - reply: {template: vip_ack}
      - close: {reason: done}"""
        )
    head = textwrap.dedent(
        f"""\
        policy: {brand.policy}
        version: {shape.version}
        brand:
          name: {brand.handle}
          accounts:
            x: {{user_id: "{brand.x}", handle: {brand.handle}}}
            facebook: {{page_id: "{brand.page}"}}
          contact: {{email: care@{brand.key}.example, phone: "+1 555 0100"}}
        seriousness:
          signals:
            problem: {{when: "text_has_any(['refund', 'broken'])", weight: 0.5}}
            loud: {{when: "author.followers >= 10000", weight: 0.5}}
          thresholds: {{respond: 0.5, escalate: 1.0}}
        languages: [en]
        unread: {{playbook: human_triage, min_confidence: 0.1}}
        """
    )
    routes = (
        "routes:"
        f'{vip_route}\n  - {{name: escalated, when: "score >= thresholds.escalate", '
        f"playbook: {urgent}}}\n"
        f'  - {{name: respond, when: "score >= thresholds.respond", '
        f"playbook: {shape.standard}}}\n"
    )
    templates = textwrap.dedent(
        f"""\
        templates:
          acknowledge: "Sorry to hear this, {{author.name}}. {brand.handle} will put it right."
          urgent_ack:
            en: "{brand.handle} here, {{author.name}}: this is urgent for us, check your DMs."
            es: "{brand.handle} aquí, {{author.name}}: es urgente para nosotros, mira tus DMs."
          vip_ack: "{brand.handle} here, {{author.name}}: our lead is on it."
          follow_up: "Glad it is sorted, {{author.name}}. Thanks for your patience."
          move_offline:
            en: "Please email {{brand.contact.email}} and quote {{case.id}}."
            es: "Escríbenos a {{brand.contact.email}} indicando el caso {{case.id}}."
        """
    )
    return head + routes + "playbooks:\n" + "\n".join(playbooks) + "\n" + templates
