"""The platform spec table is the one home of per-platform facts: everything else agrees."""

import json
from importlib import resources

from complaintflow.platforms.facts import SPECS
from complaintflow.rules import compiler, templates
from complaintflow.rules.mention import PLATFORMS


def schema() -> dict[str, object]:
    text = resources.files("complaintflow.rules").joinpath("policy.schema.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_the_schemas_enums_agree_with_the_table() -> None:
    properties = schema()["properties"]
    assert isinstance(properties, dict)
    step = properties["playbooks"]["additionalProperties"]["properties"]["steps"]["items"]
    remove = step["properties"]["remove_public"]["properties"]
    assert set(remove["channels"]["items"]["enum"]) == set(SPECS)
    assert set(remove["action"]["enum"]) == set().union(*(s.removals for s in SPECS.values()))
    accounts = properties["brand"]["properties"]["accounts"]["properties"]
    assert set(accounts) == set(SPECS)
    for name, spec in SPECS.items():
        assert set(spec.account_fields) <= set(accounts[name]["properties"]), name


def test_compiler_templates_and_mentions_agree_with_the_table() -> None:
    assert set(PLATFORMS) == set(SPECS)
    assert {name: spec.removals for name, spec in SPECS.items()} == compiler.REMOVABLE
    assert {name: s.account_fields for name, s in SPECS.items()} == compiler._ACCOUNT_FIELDS
    assert {name: s.reply_limit for name, s in SPECS.items()} == templates.REPLY_LIMITS
    assert {name: s.message_limit for name, s in SPECS.items()} == templates.MESSAGE_LIMITS


def test_each_platforms_example_id_has_its_documented_shape() -> None:
    for spec in SPECS.values():
        assert spec.id_pattern.fullmatch(spec.id_example), spec.name
