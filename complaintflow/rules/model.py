"""The compiled policy: immutable, JSON-serialisable dataclasses that travel in a case's input.

A CompiledPolicy holds condition sources, not compiled programs, so that it stays small and
plain; `complaintflow.rules.triage` compiles and caches the programs by content hash.
"""

import dataclasses
import functools
import json
from enum import Enum, StrEnum
from typing import Any

from complaintflow.platforms.facts import SPECS


class StepKind(StrEnum):
    """What a playbook step does."""

    NOTIFY = "notify"
    REPLY = "reply"
    HANDOFF = "handoff"
    TICKET = "ticket"
    AWAIT = "await"
    WAIT = "wait"
    ESCALATE = "escalate"
    REMOVE_PUBLIC = "remove_public"
    CLOSE = "close"


# The channels complaintflow works on: one member per platform whose facts a platform folder
# holds (complaintflow/platforms/registry.py), named by its value, e.g. Platform("x").
Platform = StrEnum(  # type: ignore[misc]  # members come from the platform folders, not literals
    "Platform", {name.upper(): name for name in SPECS}
)


@dataclasses.dataclass(frozen=True)
class Approval:
    """A supervisor must approve a step; what happens when nobody decides in time."""

    timeout_seconds: int
    on_timeout: str  # escalate | skip | approve | close
    approvers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a playbook. Only the fields of its kind are set."""

    id: str
    kind: StepKind
    when: str | None = None
    approval: Approval | None = None
    template: str | None = None
    via: str | None = None
    target: str | None = None
    offer: tuple[str, ...] = ()
    await_contact_seconds: int | None = None
    on_no_contact: str | None = None
    system: str | None = None
    priority: str | None = None
    event: str | None = None
    signal: str | None = None
    timeout_seconds: int | None = None
    on_timeout: str | None = None
    duration_seconds: int | None = None
    action: str | None = None
    channels: tuple[str, ...] = ()
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Escalation:
    """A further escalation level, `after_seconds` past the SLA deadline."""

    after_seconds: int
    via: str
    target: str
    priority: str | None = None


@dataclasses.dataclass(frozen=True)
class Playbook:
    """What a case does: its SLA for the first public answer and its ordered steps."""

    name: str
    priority: str
    respond_within_seconds: int
    steps: tuple[Step, ...]
    escalations: tuple[Escalation, ...] = ()
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Signal:
    """A seriousness signal: when it holds, its weight is added to the score."""

    name: str
    when: str
    weight: float
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Threshold:
    name: str
    value: float


@dataclasses.dataclass(frozen=True)
class Route:
    """First matching route picks the playbook; `when` None matches every mention."""

    name: str
    playbook: str
    when: str | None = None


@dataclasses.dataclass(frozen=True)
class Translation:
    """A template's text in one language (parts as in TemplateText)."""

    language: str
    parts: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TemplateText:
    """A template's literal parts and placeholder names, alternating, literal first.

    `parts` is the text in the policy's first language; `translations` has every language the
    template is written in (empty when it is one plain text).
    """

    name: str
    parts: tuple[str, ...]
    translations: tuple[Translation, ...] = ()

    def parts_for(self, language: str) -> tuple[str, ...]:
        """The parts in `language` when the template has it, else the first language's."""
        for translation in self.translations:
            if translation.language == language:
                return translation.parts
        return self.parts


@dataclasses.dataclass(frozen=True)
class Unread:
    """Where mentions go that are in a language the policy cannot read, or too unsure."""

    playbook: str
    min_confidence: float
    prior: float = 0.9  # share of mentions expected in the policy's languages (language.Prior)


@dataclasses.dataclass(frozen=True)
class ClassifierRef:
    """A trained classifier the policy reads; the file's sha256 pins the exact model."""

    name: str
    model: str  # the file, as the policy names it (relative to the policy file)
    task: str  # complaint | severity
    sha256: str
    # A candidate run in shadow: decisions record what it would decide; only `model` acts.
    shadow: str = ""
    shadow_sha256: str = ""


@dataclasses.dataclass(frozen=True)
class Account:
    """A brand account on one platform: a channel the brand owns."""

    platform: Platform
    id: str
    handle: str = ""


@dataclasses.dataclass(frozen=True)
class Brand:
    name: str
    accounts: tuple[Account, ...]
    email: str = ""
    phone: str = ""
    hours: str = ""


@dataclasses.dataclass(frozen=True)
class CompiledPolicy:
    """A validated policy, ready to triage mentions and to drive case workflows."""

    name: str
    version: int
    content_hash: str
    brand: Brand
    signals: tuple[Signal, ...]
    thresholds: tuple[Threshold, ...]
    routes: tuple[Route, ...]
    playbooks: tuple[Playbook, ...]
    templates: tuple[TemplateText, ...]
    source: str = ""
    redact_customer_text: bool = False  # logs carry no customer words or handles
    languages: tuple[str, ...] = ()  # what its signals and templates read; () = not said
    unread: Unread | None = None
    classifiers: tuple[ClassifierRef, ...] = ()

    def playbook(self, name: str) -> Playbook:
        """The playbook called `name` (KeyError if none)."""
        for playbook in self.playbooks:
            if playbook.name == name:
                return playbook
        raise KeyError(name)

    def template(self, name: str) -> TemplateText:
        """The template called `name` (KeyError if none)."""
        for template in self.templates:
            if template.name == name:
                return template
        raise KeyError(name)

    def account(self, platform: str) -> Account | None:
        """The brand's account on `platform`, if it owns one."""
        for account in self.brand.accounts:
            if account.platform.value == platform:
                return account
        return None

    @property
    def label(self) -> str:
        """`name@vVERSION` (hash prefix), as shown to people."""
        return f"{self.name}@v{self.version} ({self.content_hash[:12]})"

    def to_json(self) -> str:
        """Compact JSON; `from_json` reads it back to an equal object.

        Made once per policy object: every case opened carries it, and building it again per
        case was the largest cost in ingest's profile.
        """
        made: str | None = self.__dict__.get("_json")
        if made is None:
            fields = dataclasses.asdict(self)
            if not fields["classifiers"]:  # policies without classifiers keep their hash
                del fields["classifiers"]
            for ref in fields.get("classifiers", ()):  # and those without a shadow too
                if not ref["shadow"]:
                    del ref["shadow"], ref["shadow_sha256"]
            made = json.dumps(fields, separators=(",", ":"), sort_keys=True, default=_enum_value)
            object.__setattr__(self, "_json", made)  # a cache, not a field: frozen stays true
        return made

    @classmethod
    def from_json(cls, text: str) -> "CompiledPolicy":
        policy: CompiledPolicy = _build(cls, json.loads(text))
        return policy


@functools.lru_cache(maxsize=64)
def parse_policy(text: str) -> CompiledPolicy:
    """CompiledPolicy.from_json, cached: the same policy version is decoded once."""
    return CompiledPolicy.from_json(text)


def _enum_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)


_NESTED: dict[str, Any] = {
    "brand": Brand,
    "accounts": Account,
    "signals": Signal,
    "thresholds": Threshold,
    "routes": Route,
    "playbooks": Playbook,
    "templates": TemplateText,
    "steps": Step,
    "escalations": Escalation,
    "approval": Approval,
    "translations": Translation,
    "unread": Unread,
    "classifiers": ClassifierRef,
}
_ENUMS: dict[str, Any] = {"kind": StepKind, "platform": Platform}


def _build(cls: Any, data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        raw = data[field.name]
        nested = _NESTED.get(field.name)
        if field.name in _ENUMS and raw is not None:
            values[field.name] = _ENUMS[field.name](raw)
        elif nested is not None and isinstance(raw, list):
            values[field.name] = tuple(_build(nested, item) for item in raw)
        elif nested is not None and isinstance(raw, dict):
            values[field.name] = _build(nested, raw)
        elif isinstance(raw, list):
            values[field.name] = tuple(raw)
        else:
            values[field.name] = raw
    return cls(**values)
