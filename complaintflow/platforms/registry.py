"""The platform folders, and each one's parts found by name: what ingest, the brand router,
the worker, the emulator and the schema's platform enums iterate.

Adding a platform is one folder under `complaintflow/platforms/` with the parts below and one
line in FOLDERS. Parts are imported when first asked for, so reading a platform's facts (the
policy compiler does) never imports its adapter or its emulator, and ingest never loads an
adapter. `tests/platforms/test_registry.py` fails when a folder lacks a part.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from complaintflow.platforms.emulation import RouteRow
    from complaintflow.platforms.payload import WebhookSource
    from complaintflow.platforms.settings import AdapterPart
    from complaintflow.platforms.spec import PlatformSpec, Variable

# One line per platform folder (the policy's platforms come from each folder's facts).
FOLDERS: tuple[str, ...] = ("x", "meta", "google")
# complaintflow's own webhook: mentions from any source, for any platform's account.
GENERIC = "generic"

# Each part a platform folder has: module -> the names it must define.
PARTS: dict[str, tuple[str, ...]] = {
    "facts": ("SPECS",),
    "webhooks": ("SOURCES",),
    "adapter": ("ADAPTER",),
    "emulator": ("ROUTES", "AUTHS", "settings"),
    "variables": ("GROUP", "VARIABLES"),
}


def part(folder: str, module: str) -> Any:
    """The module `module` of the platform folder `folder`."""
    return importlib.import_module(f"complaintflow.platforms.{folder}.{module}")


def facts(folder: str) -> tuple[PlatformSpec, ...]:
    """The platforms (one or more) whose facts `folder` holds."""
    specs: tuple[PlatformSpec, ...] = part(folder, "facts").SPECS
    return specs


def variables(folder: str) -> tuple[str, tuple[Variable, ...]]:
    """The heading `folder`'s environment variables are listed under, and the variables."""
    module = part(folder, "variables")
    return module.GROUP, module.VARIABLES


def webhook_sources() -> list[WebhookSource]:
    """Every webhook route ingest serves: each platform's, then the generic one."""
    sources: list[WebhookSource] = []
    for folder in (*FOLDERS, GENERIC):
        sources.extend(part(folder, "webhooks").SOURCES)
    return sources


def adapters() -> list[AdapterPart]:
    """How each platform's adapter is built from the settings, one per folder."""
    return [part(folder, "adapter").ADAPTER for folder in FOLDERS]


def emulator_routes() -> tuple[list[RouteRow], dict[str, str]]:
    """Every platform's emulated routes, and the credentials each route name takes."""
    routes: list[RouteRow] = []
    auths: dict[str, str] = {}
    for folder in FOLDERS:
        module = part(folder, "emulator")
        routes.extend(module.ROUTES)
        auths.update(module.AUTHS)
    return routes, auths
