"""A throwaway PostgreSQL cluster (tests, benchmarks): initdb into a temp dir, a free port.

Root cannot run postgres, so as root the cluster belongs to the `postgres` system user that
Debian's package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import psycopg

from complaintflow.errors import ComplaintflowError

SUPERUSER = "complaintflow"


class PostgresMissing(ComplaintflowError, RuntimeError):
    """initdb and postgres are not on this machine."""


def binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Yield the URL of the `postgres` database of a fresh cluster; remove it afterwards.

    Raises PostgresMissing when the binaries are not installed.
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise PostgresMissing("PostgreSQL is not installed (apt-get install postgresql)")
    as_user: list[str] = []
    base = tempfile.mkdtemp(prefix="complaintflow-pg-")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(base, "data")
    subprocess.run(
        [*as_user, f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [
            *as_user,
            f"{bin_dir}/postgres",
            "-D",
            data,
            "-p",
            str(port),
            "-k",
            base,
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    raise RuntimeError(f"postgres did not start: {errors.read()!r}") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        errors.close()
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(cluster_url: str) -> str:
    """Create an empty database in the cluster and return its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"
