"""Trained classifiers in a policy: typed names, pinned models, bad model files, and quality.

Models here are trained for real on X-CI's labelled tweets (the shared data folder).
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaintflow.errors import PolicyError, Severity
from complaintflow.learning.training import dump_model, fit, read_labelled
from complaintflow.rules.classifiers import FORMAT_VERSION, ModelError, load_model
from complaintflow.rules.compiler import check_file, load_policy
from complaintflow.rules.mention import Mention
from complaintflow.rules.triage import Triage
from tests.support.fixtures import CliResult
from tests.support.helpers import line_of
from tests.support.paths import ROOT
from tests.support.policies import small

XCI = ROOT.parent / "shared" / "data" / "xci" / "train.csv"
pytestmark = pytest.mark.skipif(not XCI.exists(), reason="shared X-CI data not present")
Cli = Callable[..., CliResult]

CLASSIFIERS = 'classifiers:\n  complaint: {model: "complaint.cfmodel"}\nseriousness:\n'
SIGNAL = (
    '    likely_complaint: {when: "classifier.complaint >= 0.5", weight: 0.4}\n'
    '    negative_tone: {when: "sentiment <= -0.3", weight: 0.4}\n'
)


@pytest.fixture(scope="module")
def model_data() -> dict[str, object]:
    data = read_labelled(XCI, text_column="text", label_column="label")
    return fit(data.texts[:800], data.labels[:800], trained_on="first 800 rows of X-CI")


def with_classifier(text: str) -> str:
    text = text.replace("seriousness:\n", CLASSIFIERS, 1)
    return text.replace('    negative_tone: {when: "sentiment <= -0.3", weight: 0.4}\n', SIGNAL)


@pytest.fixture
def policy_dir(tmp_path: Path, model_data: dict[str, object]) -> Path:
    dump_model(model_data, tmp_path / "complaint.cfmodel")
    (tmp_path / "policy.yaml").write_text(with_classifier(small()), encoding="utf-8")
    return tmp_path


def test_a_classifier_output_is_a_signal(policy_dir: Path) -> None:
    triage = Triage(load_policy(policy_dir / "policy.yaml"))
    complaint = triage.decide(
        Mention(id="1", text="@AcmeCares my order never arrived and nobody answers my emails")
    )
    chatter = triage.decide(Mention(id="2", text="what a sunny day at the beach with friends"))
    assert "likely_complaint" in complaint.held
    assert "likely_complaint" not in chatter.held
    assert triage.classifiers is not None
    (out,) = triage.classifiers.explain("my order never arrived")
    assert out.values["classifier.complaint"] > 0.5
    assert any("arrived" in c.feature and c.weight > 0 for c in out.pushed_by)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("classifier.complaint >= 1", "numbers must be of one type"),
        ("classifier.complain >= 0.5", "did you mean 'classifier.complaint'?"),
        ("classifier.complaint", "not true/false"),
    ],
)
def test_classifier_names_and_types_are_checked(
    policy_dir: Path, cli: Cli, condition: str, message: str
) -> None:
    path = policy_dir / "policy.yaml"
    text = path.read_text().replace('"classifier.complaint >= 0.5"', f'"{condition}"')
    path.write_text(text)
    result = cli("validate", path)
    assert result.code == 1
    assert f"{path}:{line_of(text, condition)}:" in result.err
    assert message in result.err


def test_steps_cannot_read_classifiers(policy_dir: Path, cli: Cli) -> None:
    """Steps run inside the workflow, which does not run models: the name is unknown there."""
    path = policy_dir / "policy.yaml"
    text = path.read_text().replace(
        "- close: {reason: resolved}",
        '- close: {reason: resolved, when: "classifier.complaint > 0.9"}',
    )
    path.write_text(text)
    result = cli("validate", path)
    assert result.code == 1
    assert "unknown name 'classifier.complaint'" in result.err


def test_the_model_is_part_of_the_policy_hash(
    policy_dir: Path, model_data: dict[str, object]
) -> None:
    before = load_policy(policy_dir / "policy.yaml")
    data = read_labelled(XCI, text_column="text", label_column="label")
    dump_model(fit(data.texts[800:1600], data.labels[800:1600]), policy_dir / "complaint.cfmodel")
    after = load_policy(policy_dir / "policy.yaml")
    assert before.content_hash != after.content_hash
    assert before.classifiers[0].sha256 != after.classifiers[0].sha256
    # both stay usable side by side: a running case keeps the model it was triaged by
    text = "@AcmeCares the kettle you sold me is broken, I want a refund"
    first = Triage(before).values(Mention(id="1", text=text))[0]["classifier.complaint"]
    second = Triage(after).values(Mention(id="1", text=text))[0]["classifier.complaint"]
    assert first != second


def _corrupt(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _not_gzip(path: Path) -> None:
    path.write_text('{"format": "complaintflow-model"}')


def _wrong_version(path: Path) -> None:
    data = json.loads(gzip.decompress(path.read_bytes()))
    data["version"] = FORMAT_VERSION + 1
    path.write_bytes(gzip.compress(json.dumps(data).encode()))


def _pickle(path: Path) -> None:
    import pickle

    path.write_bytes(pickle.dumps({"format": "complaintflow-model"}))


def _missing(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_missing, "does not exist"),
        (_corrupt, "not a complaintflow model"),
        (_not_gzip, "not a complaintflow model"),
        (_pickle, "not a complaintflow model"),
        (_wrong_version, f"is a version {FORMAT_VERSION + 1} model"),
    ],
)
def test_a_bad_model_file_is_a_located_policy_error(
    policy_dir: Path, cli: Cli, damage: Callable[[Path], None], message: str
) -> None:
    damage(policy_dir / "complaint.cfmodel")
    path = policy_dir / "policy.yaml"
    result = cli("validate", path)
    assert result.code == 1
    text = path.read_text()
    assert f"{path}:{line_of(text, 'complaint.cfmodel')}:" in result.err, result.err
    assert message in result.err
    assert "Traceback" not in result.err
    # only the model's problem is reported: its outputs are still known names
    assert "unknown name" not in result.err
    with pytest.raises(PolicyError):
        load_policy(path)


def test_the_shipped_models_are_data_small_and_load() -> None:
    for name in ("complaint", "severity"):
        path = ROOT / "complaintflow" / "models" / f"{name}.cfmodel"
        data = json.loads(gzip.decompress(path.read_bytes()))
        assert data["format"] == "complaintflow-model" and data["task"] == name
        assert path.stat().st_size < 5_000_000
        # Load time is measured by bench/triage.py, not here: a test must not depend on the
        # machine's speed (it runs with both cores busy too).
        model = load_model(path, cached=False)
        assert model.task == name


def test_a_copied_policy_directory_needs_its_model(
    policy_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("copy")
    shutil.copy(policy_dir / "policy.yaml", elsewhere / "policy.yaml")
    with pytest.raises(PolicyError) as raised:
        load_policy(elsewhere / "policy.yaml")
    assert "complaint.cfmodel" in str(raised.value.diagnostics[0])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
MODEL_LIKE = st.fixed_dictionaries(
    {
        "format": st.just("complaintflow-model"),
        "version": st.just(FORMAT_VERSION),
        "task": st.sampled_from(["complaint", "severity", "other"]),
    },
    # near-valid shapes too, so that some are loaded and then used
    optional={
        "classes": st.sampled_from([[0, 1], [0, 1, 2, 3, 4], [1, 0], ["a", "b"]]) | JSON,
        "featuriser": st.just({"word_ngrams": 2, "char_min": 2, "char_max": 4}) | JSON,
        "intercept": st.lists(st.floats(-5, 5), min_size=1, max_size=5) | JSON,
        "words": st.dictionaries(
            st.sampled_from(["my", "order", "never arrived", "atuser", "!"]),
            st.lists(st.floats(-5, 5), min_size=2, max_size=6),
            max_size=4,
        )
        | JSON,
        "chars": st.dictionaries(
            st.sampled_from([" m", "my", "ord", "er ", "ve"]),
            st.lists(st.floats(-5, 5), min_size=2, max_size=6),
            max_size=4,
        )
        | JSON,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(MODEL_LIKE, JSON))
def test_any_model_content_is_loaded_or_refused_with_a_reason(content: object) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.cfmodel"
        path.write_bytes(gzip.compress(json.dumps(content).encode()))
        try:
            model = load_model(path, cached=False)
        except ModelError as exc:
            assert "m.cfmodel" in str(exc)
            return
        values = model.predict(model.featuriser.blocks("@brand my order never arrived!"))
        assert all(isinstance(v, float) for v in values.values())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_loaded_or_refused_with_a_reason(content: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.cfmodel"
        path.write_bytes(content)
        with pytest.raises(ModelError):
            load_model(path, cached=False)


def test_a_model_says_which_language_it_reads_and_the_compiler_warns_beyond_it(
    policy_dir: Path, model_data: dict[str, object]
) -> None:
    """A model learnt from English texts, read for Spanish mentions too, is a warning; guarded
    by the mention's language, or trained on the policy's language, it is not."""
    path = policy_dir / "policy.yaml"
    # `languages: [en, es]` with the small policy's plain templates read for es too is an error
    # of its own; the warnings are what this test reads.
    path.write_text("languages: [en, es]\n" + path.read_text(), encoding="utf-8")

    def warnings() -> list[str]:
        found = check_file(path).diagnostics
        return [d.message for d in found if d.severity is Severity.WARNING]

    expected = (
        "classifier.complaint reads English only (its model learnt from en texts), but the "
        "policy also reads es"
    )
    assert expected in warnings()
    dump_model({**model_data, "language": "es"}, policy_dir / "complaint.cfmodel")
    assert (
        "classifier.complaint reads 'es' only (its model learnt from es texts), but the "
        "policy also reads en"
    ) in warnings()
    path.write_text(
        path.read_text().replace(
            '"classifier.complaint >= 0.5"',
            "\"mention.language == 'es' && classifier.complaint >= 0.5\"",
        ),
        encoding="utf-8",
    )
    assert not [w for w in warnings() if w.startswith("classifier.")]
    dump_model({**model_data, "language": "Spanish"}, policy_dir / "complaint.cfmodel")
    assert any("not an ISO 639-1 code" in str(d) for d in check_file(path).diagnostics)
