"""Training the classifiers a policy declares, from labelled mentions in a CSV file.

scikit-learn fits the logistic regression (install `complaintflow[train]`); the result is saved
as plain data that complaintflow.rules.classifiers reads back without scikit-learn.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import os
import re
import secrets
import stat
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from complaintflow.errors import ComplaintflowError
from complaintflow.rules.classifiers import FORMAT, FORMAT_VERSION, SEVERITY_LEVELS
from complaintflow.rules.featuriser import Featuriser, char_grams
from complaintflow.rules.model_file import ModelError, unpack
from complaintflow.rules.sentiment import sentiment
from complaintflow.textfiles import DEFAULT_CSV_BOUNDS, CsvBounds, CsvRows

DEFAULT_C = 10.0
MIN_DF = 2


class TrainingError(ComplaintflowError, ValueError):
    """The labelled data cannot train a model; the message says what is wrong and where."""


@dataclasses.dataclass(frozen=True)
class Labelled:
    """Texts and their labels (0/1 for complaint; 0..4 for severity), and the ids."""

    texts: list[str]
    labels: list[int]
    ids: list[str]
    severities: list[int] | None = None


def read_labelled(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    task: str = "complaint",
    id_column: str | None = None,
    severity_column: str | None = None,
    bounds: CsvBounds = DEFAULT_CSV_BOUNDS,
) -> Labelled:
    """Read and check a labelled CSV; raise TrainingError naming the column or row at fault
    (including a line, field or quoted record past `bounds`)."""
    if not path.is_file():
        raise TrainingError(f"cannot read {str(path)!r}: no such file")
    try:
        return _labelled(
            CsvRows(path, TrainingError, bounds),
            text_column,
            label_column,
            task,
            id_column,
            severity_column,
        )
    except OSError as exc:
        raise TrainingError(f"cannot read {str(path)!r}: {exc.strerror}") from None


def _labelled(
    reader: CsvRows,
    text_column: str,
    label_column: str,
    task: str,
    id_column: str | None,
    severity_column: str | None,
) -> Labelled:
    """The rows of a labelled CSV, checked (see read_labelled)."""
    path = reader.path
    columns = reader.columns
    wanted = [text_column, label_column, *(c for c in (id_column, severity_column) if c)]
    for column in wanted:
        if column not in columns:
            raise TrainingError(
                f"{path}: no column {column!r} (columns: {', '.join(columns) or 'none'})"
            )
    texts: list[str] = []
    labels: list[int] = []
    ids: list[str] = []
    severities: list[int] = []
    allowed = range(2) if task == "complaint" else range(SEVERITY_LEVELS)
    for line, row in reader:
        text = (row.get(text_column) or "").strip()
        if not text:
            raise TrainingError(f"{path}:{line}: column {text_column!r} is empty")
        raw = row.get(label_column) or ""
        label = _label(raw, yes_no=task == "complaint")
        if label is None or label not in allowed:
            raise TrainingError(
                f"{path}:{line}: label {raw!r} in column {label_column!r} is not one of "
                f"{', '.join(str(v) for v in allowed)}; "
                + (LABEL_FORMS if task == "complaint" else LEVEL_FORMS)
            )
        if severity_column:
            given = row.get(severity_column) or ""
            level = _label(given, yes_no=False)
            if level is None or not 0 <= level < SEVERITY_LEVELS:
                raise TrainingError(
                    f"{path}:{line}: severity {given!r} in column {severity_column!r} is not "
                    f"one of 0 to 4; {LEVEL_FORMS}"
                )
            severities.append(level)
        texts.append(text)
        labels.append(label)
        ids.append((row.get(id_column) or str(line)) if id_column else str(line))
    if not texts:
        raise TrainingError(f"{path}: no labelled rows")
    present = sorted(set(labels))
    if len(present) < 2:
        raise TrainingError(
            f"{path}: every row has label {present[0]} in column {label_column!r}; "
            "a classifier needs examples of at least two classes"
        )
    return Labelled(texts, labels, ids, severities if severity_column else None)


def pack_model(data: Mapping[str, Any]) -> bytes:
    """A model's data as the bytes of its file: gzip JSON, byte-for-byte reproducible."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(text, compresslevel=9, mtime=0)


def check_destination(path: Path) -> None:
    """Raise TrainingError unless a model can be written at `path`: a new file, or a regular
    file to replace, in a folder (checked before training, which takes minutes)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise TrainingError(f"cannot write a model to {str(path)!r}: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise TrainingError(
            f"cannot write a model to {str(path)!r}: it is not a regular file; "
            "name a new file, or a model file to replace"
        )
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise TrainingError(f"cannot write a model to {str(path)!r}: {folder} is not a folder")


def dump_model(data: Mapping[str, Any], path: Path) -> str:
    """Write a model's data to `path` (gzip JSON, byte-for-byte reproducible); its sha256.

    The bytes go to a new file beside `path`, which then replaces it: a full disk or a crash
    leaves the previous model (or nothing), never half a model. Raise TrainingError saying why
    nothing was written.
    """
    check_destination(path)
    packed = pack_model(data)
    try:  # a model past the bounds models are read within could never be used
        unpack(packed, str(path))
    except ModelError as exc:
        raise TrainingError(f"{exc}; nothing was written: train on fewer rows") from None
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0o666 less the umask, as for any file the user writes: models are not secrets.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(packed)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise TrainingError(
            f"cannot write a model to {str(path)!r}: {exc.strerror}; nothing was written"
        ) from None
    return hashlib.sha256(packed).hexdigest()


def _vocabulary(df: dict[str, int], n: int) -> dict[str, tuple[int, float]]:
    """The n-grams seen in at least MIN_DF texts: gram -> (column, smoothed idf)."""
    kept = sorted(g for g, d in df.items() if d >= MIN_DF)
    return {g: (i, math.log((1 + n) / (1 + df[g])) + 1.0) for i, g in enumerate(kept)}


# What a label may look like: a whole number, also as a spreadsheet writes it (1.0), and
# for the complaint task true/false or yes/no, in any case, spaces around any of them.
# Anything else ("complaint", "not", "1e0", "nan", "½") is refused with the row's line.
LABEL_FORMS = "write 1 or 0 (also 1.0 and 0.0, true and false, yes and no)"
LEVEL_FORMS = "write a whole number such as 3 (also 3.0)"
_WHOLE = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
_YES_NO = {"true": 1, "yes": 1, "false": 0, "no": 0}


def _label(raw: str, *, yes_no: bool) -> int | None:
    """The class a label cell names, or None when it is not in one of the forms above."""
    text = raw.strip()
    if yes_no and text.lower() in _YES_NO:
        return _YES_NO[text.lower()]
    if _WHOLE.fullmatch(text) is None or len(text) > 12:
        return None
    return int(float(text))


def fit(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    task: str = "complaint",
    featuriser: Featuriser | None = None,
    c: float = DEFAULT_C,
    trained_on: str = "",
    weights: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Fit a model; return its data (see classifiers.Model) ready for dump_model.

    `weights` (one per text) count some examples more than others, e.g. a brand's own labels
    over the built-in examples (see candidates.py).
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingError(
            f"a classifier needs examples of at least two classes; these are all {classes}"
        )
    featuriser = featuriser or Featuriser(tone_word=True)
    features, vocabularies = featurise(texts, featuriser)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit(
        features, np.asarray(labels), sample_weight=None if weights is None else np.asarray(weights)
    )
    coef, intercept = model.coef_, model.intercept_
    if task != "complaint" and len(model.classes_) == 2:
        # Two severity levels only: scikit-learn fits one column (the odds of the second);
        # as softmax columns that is (0, z), which gives the same probabilities.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    exported = _export(coef, vocabularies)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "task": task,
        "classes": [int(v) for v in model.classes_],
        "featuriser": featuriser.to_dict(),
        "intercept": [round(float(v), 6) for v in intercept],
        "words": exported[0],
        "chars": exported[1],
        "trained_on": trained_on,
    }


_Blocks = list[tuple[dict[str, int], list[str]]]  # per text: word n-gram counts, its words
_Vocabulary = dict[str, tuple[int, float]]  # n-gram -> (column, idf)


def featurise(texts: Sequence[str], featuriser: Featuriser) -> tuple[Any, list[_Vocabulary]]:
    """The texts' tf-idf rows (a CSR matrix: word n-grams, then character n-grams) over the
    n-grams seen in at least MIN_DF of them, and those two vocabularies."""
    from scipy.sparse import hstack

    tones = [sentiment(t) if featuriser.tone_word else 0.0 for t in texts]
    blocks = [featuriser.blocks(t, tone) for t, tone in zip(texts, tones, strict=True)]
    grams = {
        w: char_grams(w, featuriser.char_min, featuriser.char_max)
        for _, words in blocks
        for w in words
    }
    n = len(texts)
    word_df, char_df = _document_frequencies(blocks, grams)
    vocabularies = [_vocabulary(word_df, n), _vocabulary(char_df, n)]
    matrices = [
        _word_matrix(blocks, vocabularies[0]),
        _char_matrix(blocks, grams, vocabularies[1]),
    ]
    return hstack(matrices).tocsr(), vocabularies


def _document_frequencies(
    blocks: _Blocks, grams: dict[str, dict[str, int]]
) -> tuple[dict[str, int], dict[str, int]]:
    """In how many texts each word n-gram and each character n-gram occurs."""
    word_df: dict[str, int] = {}
    char_df: dict[str, int] = {}
    for counts, words in blocks:
        for gram in counts:
            word_df[gram] = word_df.get(gram, 0) + 1
        for gram in {g for w in set(words) for g in grams[w]}:
            char_df[gram] = char_df.get(gram, 0) + 1
    return word_df, char_df


def _word_matrix(blocks: _Blocks, vocabulary: _Vocabulary) -> Any:
    """Sublinear tf-idf of the word n-grams, one L2-normalised row per text."""
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, (counts, _) in enumerate(blocks):
        found = [
            (vocabulary[g][0], (1.0 + math.log(k)) * vocabulary[g][1])
            for g, k in counts.items()
            if g in vocabulary
        ]
        norm = math.sqrt(sum(v * v for _, v in found)) or 1.0
        for col, value in found:
            rows.append(r)
            cols.append(col)
            vals.append(value / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(blocks), len(vocabulary)))


def _char_matrix(blocks: _Blocks, grams: dict[str, dict[str, int]], vocabulary: _Vocabulary) -> Any:
    """The character n-grams' rows: a sum of per-word vectors (see Featuriser)."""
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, (_, words) in enumerate(blocks):
        summed: dict[int, float] = {}
        norm2 = 0.0
        for word in words:
            for g, k in grams[word].items():
                entry = vocabulary.get(g)
                if entry is not None:
                    value = (1.0 + math.log(k)) * entry[1]
                    norm2 += value * value
                    summed[entry[0]] = summed.get(entry[0], 0.0) + value
        scale = 1.0 / math.sqrt(norm2) if norm2 else 1.0
        for col, value in summed.items():
            rows.append(r)
            cols.append(col)
            vals.append(value * scale)
    return csr_matrix((vals, (rows, cols)), shape=(len(blocks), len(vocabulary)))


def _export(coef: Any, vocabularies: list[_Vocabulary]) -> list[dict[str, list[float]]]:
    """Per block, each n-gram the model weighs: [idf, weight per class], rounded."""
    offset = 0
    exported: list[dict[str, list[float]]] = []
    for vocabulary in vocabularies:
        block: dict[str, list[float]] = {}
        for gram, (index, idf) in vocabulary.items():
            weights = [round(float(w), 5) for w in coef[:, offset + index]]
            if any(weights):
                block[gram] = [round(idf, 5), *weights]
        exported.append(block)
        offset += len(vocabulary)
    return exported


@dataclasses.dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of a yes/no prediction."""

    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, truth: Sequence[bool], predicted: Sequence[bool]) -> Scores:
        tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
        fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1)

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}  recall {self.recall:.3f}  f1 {self.f1:.3f}"


def folds(labels: Sequence[int], k: int, seed: int = 0) -> list[list[int]]:
    """Stratified fold assignment: k lists of row indices, each class spread evenly."""
    import random

    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    position = 0
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        for index in members:
            out[position % k].append(index)
            position += 1
    return [sorted(f) for f in out]


def cross_validate(
    data: Labelled,
    *,
    task: str = "complaint",
    k: int = 5,
    c: float = DEFAULT_C,
    report: Callable[[str], None] = print,
) -> Scores:
    """k-fold cross-validated scores of a model trained as `fit` does, reported per fold."""
    from complaintflow.rules.classifiers import Model

    _check_enough_for_folds(data.labels, k)
    predicted: list[bool] = [False] * len(data.texts)
    truth = [label >= (1 if task == "complaint" else 3) for label in data.labels]
    for number, held_out in enumerate(folds(data.labels, k), start=1):
        test = set(held_out)
        train = [i for i in range(len(data.texts)) if i not in test]
        model = Model(
            fit([data.texts[i] for i in train], [data.labels[i] for i in train], task=task, c=c),
            "",
        )
        for i in held_out:
            text = data.texts[i]
            out = model.predict(model.featuriser.blocks(text, sentiment(text)))
            if task == "complaint":
                predicted[i] = out[""] >= 0.5
            else:
                predicted[i] = out.get("_p3", 0.0) + out.get("_p4", 0.0) >= 0.5
        fold = Scores.of([truth[i] for i in held_out], [predicted[i] for i in held_out])
        report(f"fold {number}/{k}  {fold}")
    return Scores.of(truth, predicted)


def _check_enough_for_folds(labels: Sequence[int], k: int) -> None:
    """Each fold trains on the others: with two rows of every class, each keeps one."""
    counts = Counter(labels)
    for label in sorted(counts):
        if counts[label] < 2:
            raise TrainingError(
                f"{k}-fold cross-validation needs at least 2 rows of each class; class {label} "
                f"has only {counts[label]} row: label more rows, or train without it (--folds 0)"
            )
