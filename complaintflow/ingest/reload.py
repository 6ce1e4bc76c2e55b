"""Live policy reload for the ingest service: a valid edit goes live, an invalid one is refused.

The file (and the model files its classifiers read) is checked once a second; a change is
compiled and checked as at start-up (in a deployment of several brands: no account or name
another policy has, `Ingest.admit`); if it passes, new mentions use it (cases already running
keep the policy they started with); if not, its errors are logged and the previous version
stays live.
"""

import asyncio
import hashlib
from pathlib import Path

import structlog

from complaintflow.ingest.app import Ingest
from complaintflow.rules.classifiers import resolve
from complaintflow.rules.compiler import check_file
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.model_file import ModelError, read_model_file

log = structlog.get_logger()


def _fingerprint(path: Path, policy: CompiledPolicy | None = None) -> str:
    """A hash of the policy file and of the model files the live policy reads."""
    digest = hashlib.sha256()
    try:  # read within bounds: a FIFO or a device put in its place must not stall the watch
        digest.update(read_model_file(path))
    except (OSError, ModelError):
        return ""
    for ref in policy.classifiers if policy is not None else ():
        try:  # a changed model is a changed policy; a missing one is refused when compiled
            digest.update(read_model_file(resolve(ref.model, path.parent)))
        except (OSError, ModelError) as problem:
            digest.update(f"unreadable {ref.model}: {problem}".encode())
    return digest.hexdigest()


def reload_once(path: Path, ingest: Ingest, seen: str) -> str:
    """Compile the file if it changed since `seen`; return its new fingerprint."""
    current = _fingerprint(path, ingest.policy)
    if not current or current == seen:
        return seen
    result = check_file(path)
    if result.policy is None:
        log.error(
            "policy.refused",
            file=str(path),
            live=ingest.policy.label,
            errors=[str(d) for d in result.errors],
        )
    elif result.policy.content_hash != ingest.policy.content_hash:
        previous = ingest.policy.label
        if refused := ingest.admit(result.policy):
            log.error("policy.refused", file=str(path), live=previous, errors=refused)
        else:
            log.info("policy.reloaded", file=str(path), previous=previous, live=result.policy.label)
    return current


async def watch_policy(path: Path, ingest: Ingest, *, interval: float = 1.0) -> None:
    """Reload `path` into `ingest` whenever it changes, until cancelled."""
    seen = _fingerprint(path, ingest.policy)
    while True:
        await asyncio.sleep(interval)
        try:
            seen = await asyncio.to_thread(reload_once, path, ingest, seen)
        except Exception as exc:  # never stop watching: the next valid edit must go live
            seen = _fingerprint(path)
            log.error("policy.refused", file=str(path), live=ingest.policy.label, error=repr(exc))
