"""A platform is one folder plus one registry line: every folder has every part, and what
ingest, the worker, `doctor` and the emulator build from the registry covers each platform."""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

from complaintflow import settings
from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.devkit import emulator
from complaintflow.ingest.service import IngestSecrets
from complaintflow.ingest.webhooks import SOURCES
from complaintflow.metrics import route_label
from complaintflow.platforms import registry
from complaintflow.platforms.facts import SPECS
from complaintflow.platforms.payload import WebhookSource
from complaintflow.platforms.settings import AdapterPart
from complaintflow.platforms.spec import PlatformSpec, Variable
from complaintflow.rules.expressions import MENTION_VARIABLES
from complaintflow.rules.model import Platform
from complaintflow.rules.schema import generated_schema, policy_schema
from complaintflow.rules.templates import post_length, x_length

FOLDERS_ROOT = Path(registry.__file__).parent


def missing_parts(folder: str) -> list[str]:
    """The parts (module.NAME) `folder` lacks, as the registry looks for them."""
    lacking = []
    for module, names in registry.PARTS.items():
        try:
            loaded = registry.part(folder, module)
        except ModuleNotFoundError:
            lacking.append(f"{module}.py")
            continue
        lacking += [f"{module}.{name}" for name in names if not hasattr(loaded, name)]
    return lacking


class TestEachFolder:
    @pytest.mark.parametrize("folder", registry.FOLDERS)
    def test_has_every_part(self, folder: str) -> None:
        """Facts, webhook sources, adapter and emulator routes are all there."""
        assert missing_parts(folder) == []

    def test_a_folder_lacking_a_part_is_reported(self) -> None:
        """The generic webhook's folder has webhooks only: the check names what is missing."""
        assert missing_parts(registry.GENERIC) == [
            "facts.py",
            "adapter.py",
            "emulator.py",
            "variables.py",
        ]

    def test_every_folder_on_disk_is_registered(self) -> None:
        """A platform folder left out of FOLDERS would be silently unused."""
        on_disk = {
            p.parent.name
            for p in FOLDERS_ROOT.glob("*/__init__.py")
            if p.parent.name != "__pycache__"
        }
        assert on_disk == {*registry.FOLDERS, registry.GENERIC}

    @pytest.mark.parametrize("folder", registry.FOLDERS)
    def test_parts_have_their_types(self, folder: str) -> None:
        facts = registry.facts(folder)
        assert facts and all(isinstance(spec, PlatformSpec) for spec in facts)
        sources = registry.part(folder, "webhooks").SOURCES
        assert all(isinstance(source, WebhookSource) for source in sources)
        adapter = registry.part(folder, "adapter").ADAPTER
        assert isinstance(adapter, AdapterPart) and adapter.folder == folder
        assert adapter.label and adapter.check is not None, "doctor has a check for it"
        group, variables = registry.variables(folder)
        assert group and variables and all(isinstance(v, Variable) for v in variables)

    @pytest.mark.parametrize("folder", registry.FOLDERS)
    def test_its_variables_are_in_the_settings_table(self, folder: str) -> None:
        """docs/configuration.md lists them under the folder's heading (a webhook's secret
        with ingest's) with no edit to complaintflow/settings.py."""
        group, variables = registry.variables(folder)
        assert group in settings.GROUPS
        table = settings.by_name()
        for variable in variables:
            assert variable.name.startswith("COMPLAINTFLOW_")
            row = table[variable.name]
            assert (row.default, row.does) == (variable.default, variable.does)
            assert row.group == ("Ingest (webhooks)" if variable.webhook else group)


def test_no_platform_folder_imports_another() -> None:
    """Each platform is one folder: what they share sits in platforms/ itself. (An
    import-linter independence contract would have to list the folders, a second place to
    touch when adding one; this reads them from the registry.)"""
    graph = grimp.build_graph("complaintflow")
    folders = [f"complaintflow.platforms.{name}" for name in (*registry.FOLDERS, registry.GENERIC)]
    crossing = [
        (importer, imported)
        for importer in folders
        for imported in folders
        if importer != imported
        and graph.find_shortest_chain(importer, imported, as_packages=True) is not None
    ]
    assert crossing == []


class TestWhatIsBuiltFromTheRegistry:
    def test_every_platform_has_exactly_one_adapter(self) -> None:
        platforms = Platforms(Endpoints())
        served = [name for a in platforms.by_folder.values() for name in a.platforms]
        assert sorted(served) == sorted(SPECS)

    def test_each_platform_reads_its_settings_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COMPLAINTFLOW_X_API_URL", "http://x.invalid")
        monkeypatch.setenv("COMPLAINTFLOW_GRAPH_TOKEN", "page-token")
        endpoints = Endpoints.from_environment()
        assert set(endpoints.platforms) == set(registry.FOLDERS)
        for part in registry.adapters():
            assert isinstance(endpoints.platforms[part.folder], part.settings)
        platforms = Platforms(endpoints)
        assert platforms.missing() == ["COMPLAINTFLOW_X_CLIENT_ID"], "the Graph token is set"
        assert platforms.by_folder["x"].url == "http://x.invalid"  # type: ignore[attr-defined]

    def test_the_emulator_gives_every_platform_its_settings(self, tmp_path: Path) -> None:
        endpoints = Endpoints.emulated("http://127.0.0.1:9", tmp_path / "t.db", "tok")
        for part in registry.adapters():
            settings = endpoints.platforms[part.folder]
            assert isinstance(settings, part.settings)
            assert part.unconfigured(endpoints) == "", f"{part.folder} is wired to the emulator"

    def test_every_webhook_route_is_served(self) -> None:
        paths = [source.path for source in registry.webhook_sources()]
        assert len(paths) == len(set(paths)), "two sources on one route"
        assert set(SOURCES) == set(paths)

    def test_every_emulated_route_is_in_the_emulator(self) -> None:
        routes, auths = registry.emulator_routes()
        assert set(routes) <= set(emulator.PLATFORM_ROUTES)
        assert auths.items() <= emulator.AUTHS.items()
        for folder in registry.FOLDERS:
            assert registry.part(folder, "emulator").ROUTES, f"{folder} has no emulated route"

    def test_each_sources_secret_is_read_from_its_variable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A source's secret comes from the variable it names, whichever platform it is."""
        variables = {
            name
            for source in registry.webhook_sources()
            for name in (source.secret, *source.variables)
        }
        for name in variables:
            monkeypatch.setenv(name, f"secret-of-{name}")
        secrets = IngestSecrets.from_environment()
        assert {name: secrets.get(name) for name in variables} == {
            name: f"secret-of-{name}" for name in variables
        }

    def test_a_secret_of_a_source_not_named_in_the_fields_is_kept(self) -> None:
        """A new platform's source needs no edit in ingest: its variable lands in `others`."""
        secrets = IngestSecrets(others={"COMPLAINTFLOW_NEW_PLATFORM_SECRET": "s3"})
        assert secrets.get("COMPLAINTFLOW_NEW_PLATFORM_SECRET") == "s3"
        assert secrets.get("COMPLAINTFLOW_UNSET") == ""


# A platform a new folder would bring: its facts are all the policy language needs.
NEW = PlatformSpec(
    name="mastodon",
    id_pattern=re.compile(r"[0-9]{1,20}"),
    id_example="109372843234",
    author_id_pattern=re.compile(r"[0-9]{1,20}"),
    reply_limit=500,
    message_limit=500,
    removals=frozenset(),
    account_fields=("account_id", "acct"),
    handle_required=True,
    docs="https://docs.joinmastodon.org/methods/statuses/",
    weighted_text=True,
)


class TestThePolicyLanguageReadsTheFacts:
    """What the policy language says about platforms comes from the facts, so a new platform
    needs no edit in rules/ (the enum, the schema's accounts, limits, the variables' help)."""

    def test_every_platform_is_a_member_of_the_enum(self) -> None:
        assert [platform.value for platform in Platform] == list(SPECS)

    def test_the_schema_has_an_accounts_block_per_platform(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(SPECS, NEW.name, NEW)
        schema = generated_schema(policy_schema())
        accounts = schema["properties"]["brand"]["properties"]["accounts"]["properties"]
        assert list(accounts) == list(SPECS)
        assert accounts["mastodon"]["required"] == ["account_id", "acct"]
        assert set(accounts["mastodon"]["properties"]) == {"account_id", "acct"}

    def test_a_platform_that_weighs_characters_is_measured_so(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(SPECS, NEW.name, NEW)
        text = "see https://example.com/" + "a" * 100
        assert post_length("mastodon", text) == x_length(text) < len(text)
        assert post_length("facebook", text) == len(text)

    def test_the_variables_help_names_every_platform(self) -> None:
        help_text = MENTION_VARIABLES["mention.platform"][1]
        assert all(name in help_text for name in SPECS)

    def test_every_webhook_route_has_its_own_metrics_label(self) -> None:
        for source in registry.webhook_sources():
            route = source.path.removeprefix("/webhooks/")
            assert route_label(source.path) == route
        assert route_label("/webhooks/nowhere") == "other"
