"""The compiler's passes over the policy's top-level sections: names, brand, classifiers,
signals, routes, the `unread:` route, and what is declared but never used."""

from __future__ import annotations

from pathlib import Path

from complaintflow.rules.classifiers import Model, ModelError, load_model, resolve
from complaintflow.rules.expressions import ExpressionEnv, Program
from complaintflow.rules.language import DEFAULT_MIN_CONFIDENCE, DEFAULT_PRIOR
from complaintflow.rules.model import (
    Account,
    Brand,
    ClassifierRef,
    Platform,
    Route,
    Signal,
    Unread,
)
from complaintflow.rules.schema import did_you_mean
from complaintflow.rules.source import NodePath

from .context import Context
from .limits import ACCOUNT_FIELDS, MAX_ITERATIONS, MAX_NAME_CHARS, MAX_VERSION, UNREAD_ROUTE

# Where each kind of named section entry sits, for reporting a name that is too long.
_NAMED = (
    ("signal", ("seriousness", "signals")),
    ("threshold", ("seriousness", "thresholds")),
    ("playbook", ("playbooks",)),
    ("template", ("templates",)),
)


def names(c: Context) -> None:
    """The name and version reach search attributes and logs: keep them short."""
    name = c.data["policy"]
    if len(name) > MAX_NAME_CHARS:
        c.error(
            ("policy",),
            f"the policy name is {len(name)} characters; at most {MAX_NAME_CHARS}",
            "use a short name; say more under `description:`",
        )
    if not 1 <= c.data["version"] <= MAX_VERSION:
        c.error(("version",), f"the version must be from 1 to {MAX_VERSION:,}")
    for kind, section in _NAMED:
        entries = c.data[section[0]] if len(section) == 1 else c.data[section[0]][section[1]]
        for item in entries:
            if len(item) > MAX_NAME_CHARS:
                c.error(
                    (*section, item),
                    f"the {kind} name is {len(item)} characters; at most {MAX_NAME_CHARS}",
                    "use a shorter name",
                    key=True,
                )
    for index, route in enumerate(c.data["routes"]):
        if len(route["name"]) > MAX_NAME_CHARS:
            c.error(
                ("routes", index, "name"),
                f"the route name is {len(route['name'])} characters; at most {MAX_NAME_CHARS}",
                "use a shorter name",
            )


def brand(c: Context) -> Brand:
    """The brand: its accounts per platform and how customers reach it."""
    body = c.data["brand"]
    accounts = []
    for platform, fields in body["accounts"].items():
        id_field, handle_field = ACCOUNT_FIELDS[platform]
        accounts.append(
            Account(Platform(platform), str(fields[id_field]), str(fields.get(handle_field, "")))
        )
    if not accounts:
        c.error(
            ("brand", "accounts"),
            "the brand has no accounts",
            'add at least one, e.g. `x: {user_id: "...", handle: ...}`',
        )
    contact = body["contact"]
    return Brand(
        body["name"],
        tuple(accounts),
        contact.get("email", ""),
        contact.get("phone", ""),
        contact.get("hours", ""),
    )


def classifiers(c: Context) -> tuple[ClassifierRef, ...]:
    """Load each declared model (relative to the policy file); its hash pins it."""
    refs = []
    base = Path(c.doc.file).parent
    for name, body in c.data.get("classifiers", {}).items():
        path = resolve(body["model"], base)
        try:
            model = load_model(path)
        except ModelError as exc:
            c.error(
                ("classifiers", name, "model"),
                str(exc),
                "train one with `complaintflow train LABELLED.csv --out FILE`",
            )
            # declared anyway (widest outputs), so its uses are not reported as unknown
            refs.append(ClassifierRef(name, body["model"], "severity", ""))
            continue
        refs.append(
            ClassifierRef(name, body["model"], model.task, model.sha256, *_shadow(c, name, model))
        )
        c.classifier_languages[name] = model.language
    return tuple(refs)


def _shadow(c: Context, name: str, live: Model) -> tuple[str, str]:
    """The classifier's shadow model (file, sha256), checked like its model; ("", "")."""
    given = c.data["classifiers"][name].get("shadow")
    if not given:
        return "", ""
    try:
        model = load_model(resolve(given, Path(c.doc.file).parent))
    except ModelError as exc:
        c.error(("classifiers", name, "shadow"), str(exc), "name a model file `train` wrote")
        return "", ""
    if model.task != live.task:
        c.error(
            ("classifiers", name, "shadow"),
            f"the shadow is a {model.task} model; classifier {name} is a {live.task} model",
            "run in shadow a candidate trained for the same task",
        )
        return "", ""
    return given, model.sha256


def signals(c: Context, env: ExpressionEnv) -> list[tuple[Signal, Program]]:
    """Each seriousness signal with its compiled condition (those that compile)."""
    out = []
    for name, body in c.data["seriousness"]["signals"].items():
        path: NodePath = ("seriousness", "signals", name, "when")
        program = c.condition(env, path, body["when"])
        if program is not None:
            signal = Signal(name, body["when"], float(body["weight"]), body.get("description", ""))
            out.append((signal, program))
    return out


def routes(c: Context, env: ExpressionEnv) -> list[tuple[Route, Program]]:
    """Each route with its compiled condition; a route after a catch-all never matches."""
    out: list[tuple[Route, Program]] = []
    playbooks = c.data["playbooks"]
    seen: set[str] = set()
    catch_all: str | None = None
    for index, body in enumerate(c.data["routes"]):
        path: NodePath = ("routes", index)
        name = body["name"]
        if name in seen:
            c.error(
                (*path, "name"),
                f"route name {name!r} is used twice",
                "give each route its own name",
            )
        seen.add(name)
        if catch_all is not None:
            c.error(
                path,
                f"route {name!r} can never match: route {catch_all!r} above matches every mention",
                "move it above, or remove it",
            )
        if body["playbook"] not in playbooks:
            c.error(
                (*path, "playbook"),
                f"unknown playbook {body['playbook']!r}",
                did_you_mean(body["playbook"], playbooks, what="playbooks"),
            )
        when = body.get("when")
        if when is None or when.strip() == "true":
            catch_all = catch_all or name
            when = None
        program = c.condition(env, (*path, "when"), when or "true")
        if program is not None:
            out.append((Route(name, body["playbook"], when), program))
    return out


def iterations(c: Context) -> None:
    """Signals and routes run in one evaluation: their loops share one budget."""
    if c.iterations > MAX_ITERATIONS:
        c.error(
            ("seriousness", "signals"),
            f"the signals and routes together may loop {c.iterations:,} times per "
            f"mention; at most {MAX_ITERATIONS:,} are allowed",
            "use text_has_any([...]) or `x in [...]` instead of comprehensions",
        )


def unread(c: Context, routes: list[tuple[Route, Program]]) -> Unread | None:
    """The route for mentions the policy cannot read; a warning when there is none."""
    body = c.data.get("unread")
    if body is None:
        c.warn(
            ("languages",) if c.languages else ("routes",),
            "mentions in a language the policy cannot read have no route: "
            "they are scored by its signals and may be logged as throwaway remarks",
            "add `unread: {playbook: human_triage}` (with `languages: [en]`) so a person sees them",
        )
        return None
    if not c.languages:
        c.error(
            ("unread",),
            "`unread:` needs the languages the policy can read",
            "add `languages: [en]` (ISO 639-1 codes)",
        )
    if body["playbook"] not in c.data["playbooks"]:
        c.error(
            ("unread", "playbook"),
            f"unknown playbook {body['playbook']!r}",
            did_you_mean(body["playbook"], c.data["playbooks"], what="playbooks"),
        )
    elif any(p == body["playbook"] for p, _, _ in c.customer_templates):
        c.warn(
            ("unread", "playbook"),
            f"playbook {body['playbook']!r} replies to customers, but the unread route "
            "brings posts in languages the policy has no texts for",
            "let a person pick the playbook: notify, then `await: route`",
        )
    for route, _ in routes:
        if route.name == UNREAD_ROUTE:
            c.error(
                ("routes",),
                f"route name {UNREAD_ROUTE!r} is kept for the `unread:` route",
                "rename the route",
            )
    return Unread(
        body["playbook"],
        float(body.get("min_confidence", DEFAULT_MIN_CONFIDENCE)),
        float(body.get("prior", DEFAULT_PRIOR)),
    )


def unused(c: Context, routes: list[tuple[Route, Program]]) -> None:
    """Warn about templates no step sends and playbooks no route reaches."""
    for name in c.data["templates"]:
        if name not in c.used_templates:
            c.warn(
                ("templates", name),
                f"template {name!r} is never used",
                "use it in a step or remove it",
            )
    routed = {r.playbook for r, _ in routes}
    if isinstance(c.data.get("unread"), dict):
        routed.add(c.data["unread"].get("playbook"))
    for name in c.data["playbooks"]:
        if name not in routed:
            c.warn(
                ("playbooks", name),
                f"playbook {name!r} is not used by any route",
                "add a route to it or remove it",
            )
