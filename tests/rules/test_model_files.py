"""A model file a policy names is read within bounds: only a regular file, and only so many
bytes, decompressed bytes, values, levels of nesting and seconds. Whatever it names (a device,
a FIFO, a gzip bomb, deep nesting), `validate` answers with a located reason."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.rules.classifiers import FORMAT, FORMAT_VERSION, ModelError, load_model
from complaintflow.rules.model_file import MAX_DEPTH, MAX_JSON_BYTES, Bounds
from tests.support.fixtures import CliResult
from tests.support.helpers import line_of
from tests.support.paths import EXAMPLE_POLICY

Cli = Callable[..., CliResult]
MIB = 1024 * 1024
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

# The smallest model there is: no vocabulary, every text scores the intercept.
TINY_MODEL = gzip.compress(
    json.dumps(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "task": "complaint",
            "classes": [0, 1],
            "featuriser": {"word_ngrams": 1, "char_min": 2, "char_max": 4},
            "intercept": [0.0],
            "words": {},
            "chars": {},
        }
    ).encode()
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the generated files (each example overwrites the last)."""
    return tmp_path_factory.mktemp("models")


def policy_naming(folder: Path, model: str) -> Path:
    """The example policy with its complaint classifier reading `model`."""
    path = folder / "policy.yaml"
    text = EXAMPLE_POLICY.read_text(encoding="utf-8").replace('"builtin:complaint"', f'"{model}"')
    path.write_text(text, encoding="utf-8")
    return path


def assert_located_refusal(result: CliResult, policy: Path, model: str, reason: str) -> None:
    assert result.code == 1, result.out + result.err
    line = line_of(policy.read_text(encoding="utf-8"), model)
    assert f"{policy}:{line}:" in result.err, result.err
    assert reason in result.err, result.err
    assert "Traceback" not in result.err


@contextlib.contextmanager
def fifo_offering(path: Path, content: bytes) -> Iterator[None]:
    """A FIFO at `path` that hands `content` to whoever opens it to read."""
    os.mkfifo(path)
    writer = threading.Thread(target=path.write_bytes, args=(content,), daemon=True)
    writer.start()
    try:
        yield
    finally:
        # Unblock the writer when nobody read the FIFO: it waits for a reader to open it.
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        writer.join()
        os.close(reader)
        path.unlink()


def test_a_fifo_is_refused_without_being_read(folder: Path, cli: Cli) -> None:
    """A FIFO could hold a valid model; reading one can also hang forever, so it is refused."""
    fifo = folder / "fifo.cfmodel"
    policy = policy_naming(folder, "fifo.cfmodel")
    with fifo_offering(fifo, TINY_MODEL):
        result = cli("validate", policy)
    assert_located_refusal(result, policy, "fifo.cfmodel", "is a FIFO, not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
@pytest.mark.parametrize("through_link", [False, True])
def test_a_device_is_refused(folder: Path, cli: Cli, device: str, through_link: bool) -> None:
    name = device
    if through_link:
        name = "linked.cfmodel"
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(device)
    policy = policy_naming(folder, name)
    result = cli("validate", policy)
    assert_located_refusal(result, policy, name, "is a character device, not a regular file")


def test_a_directory_is_refused(folder: Path, cli: Cli) -> None:
    (folder / "dir.cfmodel").mkdir(exist_ok=True)
    policy = policy_naming(folder, "dir.cfmodel")
    result = cli("validate", policy)
    assert_located_refusal(result, policy, "dir.cfmodel", "is a directory, not a regular file")


def test_a_gzip_bomb_is_refused_at_the_bound(folder: Path, cli: Cli) -> None:
    """32 KiB that decompress to 33 MiB: refused once the bound is passed."""
    (folder / "bomb.cfmodel").write_bytes(gzip.compress(b" " * (MAX_JSON_BYTES + MIB)))
    policy = policy_naming(folder, "bomb.cfmodel")
    result = cli("validate", policy)
    reason = f"decompresses past {MAX_JSON_BYTES // MIB}.0 MiB"
    assert_located_refusal(result, policy, "bomb.cfmodel", reason)


def test_deep_nesting_is_refused(folder: Path, cli: Cli) -> None:
    (folder / "deep.cfmodel").write_bytes(gzip.compress(b"[" * 100_000 + b"]" * 100_000))
    policy = policy_naming(folder, "deep.cfmodel")
    result = cli("validate", policy)
    assert_located_refusal(result, policy, "deep.cfmodel", f"nests deeper than {MAX_DEPTH} levels")


def test_a_small_regular_model_still_loads(folder: Path, cli: Cli) -> None:
    (folder / "tiny.cfmodel").write_bytes(TINY_MODEL)
    result = cli("validate", policy_naming(folder, "tiny.cfmodel"))
    assert result.code == 0, result.err


@SETTINGS
@given(
    unit=st.binary(min_size=1, max_size=8),
    decompressed=st.integers(min_value=2 * MIB, max_value=24 * MIB),
)
def test_a_bomb_never_takes_more_memory_than_the_bound(
    folder: Path, unit: bytes, decompressed: int
) -> None:
    """Whatever repeats inside it, the decompressed text never grows past the bound."""
    bound = MIB
    path = folder / "bomb.cfmodel"
    path.write_bytes(gzip.compress(unit * (decompressed // len(unit)), compresslevel=1))
    tracemalloc.start()
    try:
        with pytest.raises(ModelError, match=r"decompresses past 1\.0 MiB"):
            load_model(path, cached=False, bounds=Bounds(json_bytes=bound))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * bound + path.stat().st_size, f"peak {peak:,} bytes"


@SETTINGS
@given(
    depth=st.integers(min_value=MAX_DEPTH + 1, max_value=5_000),
    opener=st.sampled_from([("[", "]"), ('{"a":', "}"), ('[1,{"b":', "}]")]),
)
def test_any_nesting_past_the_bound_is_refused(
    folder: Path, depth: int, opener: tuple[str, str]
) -> None:
    path = folder / "deep.cfmodel"
    path.write_bytes(gzip.compress((opener[0] * depth + "0" + opener[1] * depth).encode()))
    with pytest.raises(ModelError, match=f"nests deeper than {MAX_DEPTH} levels"):
        load_model(path, cached=False)


@SETTINGS
@given(
    depth=st.integers(min_value=1, max_value=MAX_DEPTH),
    text=st.text(alphabet='[]{}",\\', max_size=12),
)
def test_nesting_within_the_bound_is_judged_as_a_model(folder: Path, depth: int, text: str) -> None:
    """Brackets inside strings do not count as nesting; shallow files get the usual reasons."""
    path = folder / "shallow.cfmodel"
    value = json.dumps(text)
    for _ in range(depth - 1):
        value = f'{{"k":{value}}}'
    path.write_bytes(gzip.compress(value.encode()))
    with pytest.raises(ModelError, match="not a complaintflow model"):
        load_model(path, cached=False)


def test_a_file_past_its_size_bound_is_refused(folder: Path) -> None:
    path = folder / "big.cfmodel"
    path.write_bytes(TINY_MODEL + b"\0" * 2000)
    with pytest.raises(ModelError, match=r"is 2,\d{3} bytes; a model file is at most 1,000 bytes"):
        load_model(path, cached=False, bounds=Bounds(file_bytes=1000))


def test_too_many_values_are_refused(folder: Path) -> None:
    path = folder / "wide.cfmodel"
    path.write_bytes(gzip.compress(json.dumps([[]] * 101).encode()))
    with pytest.raises(ModelError, match="holds more than 100 values"):
        load_model(path, cached=False, bounds=Bounds(values=100))
    path.write_bytes(gzip.compress(json.dumps([[]] * 99).encode()))
    with pytest.raises(ModelError, match="no format"):  # within the bound: judged as a model
        load_model(path, cached=False, bounds=Bounds(values=100))


def test_reading_past_its_time_bound_is_refused(folder: Path) -> None:
    path = folder / "slow.cfmodel"
    path.write_bytes(TINY_MODEL)
    with pytest.raises(ModelError, match="took over"):
        load_model(path, cached=False, bounds=Bounds(seconds=-1.0))
    assert load_model(path, cached=False).task == "complaint"
