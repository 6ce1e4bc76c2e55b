"""The token store's folder and files are private whatever the umask: a folder it creates is
0700, the SQLite file and its -wal/-shm companions 0600, and a folder others can write to (so
could swap the file) is made private when it is the user's own, else refused."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.platforms.credentials import Tokens, TokenStore, TokenStoreError
from tests.support.fixtures import CliResult

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def store_with_tokens(path: Path) -> TokenStore:
    store = TokenStore(path)
    store.save("x", Tokens("access", "refresh", time.time() + 3600))
    return store


def assert_private_files(folder: Path, *, companions: bool = False) -> None:
    names = sorted(p.name for p in folder.iterdir())
    assert "tokens.sqlite3" in names, names
    if companions:
        assert names == ["tokens.sqlite3", "tokens.sqlite3-shm", "tokens.sqlite3-wal"], names
    for path in folder.iterdir():
        assert mode(path) == 0o600, f"{path.name} is {mode(path):o}"


@SETTINGS
@given(mask=st.integers(0, 0o777))
def test_a_new_folder_and_its_files_are_the_owners_only_whatever_the_umask(
    tmp_path_factory: pytest.TempPathFactory, mask: int
) -> None:
    folder = tmp_path_factory.mktemp("store") / "new" / "tokens"
    with umask(mask):
        store_with_tokens(folder / "tokens.sqlite3")
        assert mode(folder) == mode(folder.parent) == 0o700
        with contextlib.closing(
            sqlite3.connect(folder / "tokens.sqlite3")
        ) as db:  # -wal and -shm exist while open
            assert db.execute("SELECT count(*) FROM tokens").fetchone() == (1,)
            assert_private_files(folder, companions=True)


@SETTINGS
@given(others=st.integers(0, 0o077), mask=st.sampled_from([0, 0o022, 0o077]))
def test_an_existing_folder_of_ours_loses_others_write_permission(
    tmp_path_factory: pytest.TempPathFactory, others: int, mask: int
) -> None:
    folder = tmp_path_factory.mktemp("store")
    os.chmod(folder, 0o700 | others)
    with umask(mask):
        store_with_tokens(folder / "tokens.sqlite3")
    assert mode(folder) == (0o700 | others) & ~0o022
    assert_private_files(folder)


def test_files_left_readable_by_an_older_version_are_made_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite3"
    with umask(0):
        store_with_tokens(path)
    with contextlib.closing(sqlite3.connect(path)) as db:  # the store's WAL: -wal and -shm
        db.execute("SELECT count(*) FROM tokens").fetchone()
        for companion in tmp_path.iterdir():
            os.chmod(companion, 0o666)
        store_with_tokens(path)
        assert_private_files(tmp_path, companions=True)


def test_a_shared_sticky_folder_like_tmp_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(TokenStoreError, match="can be written by others"):
        TokenStore(shared / "tokens.sqlite3")
    assert mode(shared) == 0o1777, "a shared folder is not changed"
    assert not (shared / "tokens.sqlite3").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_others_can_write_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chmod(theirs, 0o777)
    os.chown(theirs, 54_321, -1)
    with pytest.raises(TokenStoreError, match="is not this user's own folder to change"):
        TokenStore(theirs / "tokens.sqlite3")
    assert mode(theirs) == 0o777


def test_a_worker_given_a_shared_token_folder_says_so_without_a_traceback(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`complaintflow worker` with the token store in a folder anyone may write to (a sticky
    /tmp): the message says what is wrong and what to do, exit code 1, no traceback."""
    monkeypatch.setenv("COMPLAINTFLOW_X_CLIENT_ID", "client")
    monkeypatch.setenv("COMPLAINTFLOW_TOKEN_STORE", "/tmp/complaintflow-shared-tokens.sqlite3")
    ran = cli("worker")
    assert ran.code == 1
    assert "can be written by others" in ran.err and "Traceback" not in ran.err
