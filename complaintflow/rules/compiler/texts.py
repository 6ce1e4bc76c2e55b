"""The compiler's template passes: parsing each text (per language), checking each use
against the channel's length limits, and that every language read has every customer text."""

from __future__ import annotations

from complaintflow.rules.model import Brand
from complaintflow.rules.schema import did_you_mean
from complaintflow.rules.source import NodePath
from complaintflow.rules.templates import Template, parse_template

from .context import Context


def templates(c: Context, brand: Brand) -> dict[str, Template]:
    """Parse every template, filling in what the brand fixes (its name, contact, handles)."""
    static = {"brand.name": brand.name}
    static.update(
        {
            f"brand.contact.{k}": v
            for k, v in (("email", brand.email), ("phone", brand.phone), ("hours", brand.hours))
            if v
        }
    )
    static.update(
        {f"brand.{a.platform.value}.handle": a.handle for a in brand.accounts if a.handle}
    )
    out: dict[str, Template] = {}
    for name, text in c.data["templates"].items():
        if isinstance(text, dict):
            _per_language(c, name, text, static, out)
            continue
        parsed = parse_template(name, text, static)
        if isinstance(parsed, Template):
            out[name] = parsed
            continue
        for problem in parsed:
            c.error(("templates", name), problem.message, problem.hint, offset=problem.offset)
    return out


def _per_language(
    c: Context, name: str, texts: dict[str, str], static: dict[str, str], out: dict[str, Template]
) -> None:
    """A template written in several languages: `{en: ..., es: ...}`.

    Languages beyond `languages:` are for cases a supervisor routes by hand.
    """
    variants: dict[str, Template] = {}
    for language, text in texts.items():
        path: NodePath = ("templates", name, language)
        parsed = parse_template(name, text, static)
        if isinstance(parsed, Template):
            variants[language] = parsed
            continue
        for problem in parsed:
            c.error(path, problem.message, problem.hint, offset=problem.offset)
    if not variants:
        return
    first = next((lang for lang in c.languages if lang in variants), next(iter(variants)))
    out[name] = variants[first]
    c.translations[name] = variants


def template_ref(
    c: Context,
    path: NodePath,
    name: str | None,
    templates: dict[str, Template],
    limits: dict[str, int] | None,
    channels: list[str],
) -> None:
    """A step uses template `name`: it must exist and fit `limits` on each channel."""
    if name is None:
        return
    c.used_templates.add(name)
    if name not in c.data["templates"]:
        c.error(
            path,
            f"unknown template {name!r}",
            did_you_mean(name, c.data["templates"], what="templates"),
        )
        return
    template = templates.get(name)
    if template is None or limits is None:
        return
    for variant in c.translations.get(name, {}).values() or [template]:
        _limits(c, name, variant, limits, channels)


def _limits(
    c: Context, name: str, template: Template, limits: dict[str, int], channels: list[str]
) -> None:
    for channel in channels:
        shortest, longest = template.length_bounds(channel)
        limit = limits[channel]
        if shortest > limit:
            c.error(
                ("templates", name),
                f"template {name!r} is {shortest} characters; {channel} allows {limit}",
                "shorten it",
            )
        elif longest > limit:  # the platform would refuse the post
            c.error(
                ("templates", name),
                f"template {name!r} can reach {longest} characters with long names "
                f"(as {channel} counts them); {channel} allows {limit}",
                "shorten the text or use fewer placeholders",
            )


def languages(c: Context) -> None:
    """Every language the policy reads has every template its playbooks send customers."""
    if not c.languages:
        return
    first = c.languages[0]
    for playbook, name, path in c.customer_templates:
        if name not in c.data["templates"]:
            continue  # reported as unknown
        variants = c.translations.get(name)
        written = set(variants) if variants is not None else {first}
        missing = [lang for lang in c.languages if lang not in written]
        if missing:
            c.error(
                path,
                f"playbook {playbook!r} replies with template {name!r}, which has no "
                f"{', '.join(missing)} text, but the policy reads "
                f"{', '.join(c.languages)}",
                f"write it per language: `{name}: {{{first}: ..., {missing[0]}: ...}}`",
            )
