"""Trained text classifiers that policies read as `classifier.NAME`: pure-Python inference.

A model file is gzip-compressed JSON (weights and the featuriser's settings, never code), so
loading one cannot run anything; scikit-learn is needed only to train
(complaintflow.learning.training).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from complaintflow.rules.featuriser import Featuriser, char_grams, shown_gram
from complaintflow.rules.model_file import DEFAULT_BOUNDS, Bounds, read_model_file, unpack
from complaintflow.rules.model_file import ModelError as ModelError  # noqa: PLC0414 - its home

FORMAT = "complaintflow-model"
FORMAT_VERSION = 1
TASKS = ("complaint", "severity")
SEVERITY_LEVELS = 5  # 0 (not a complaint) .. 4 (the most severe)
WORD_CACHE = 50_000  # words whose character-block part is remembered, per model


@dataclasses.dataclass(frozen=True)
class Contribution:
    """How much one word n-gram pushed a classifier's output up (or down, when negative)."""

    feature: str
    weight: float


# (idf squared, then idf * weight for each output column): one flat tuple per n-gram, so
# scoring touches one object per n-gram found.
Entry = tuple[float, ...]


class Scorer:
    """The linear part of one or more models sharing a featuriser and a vocabulary.

    Both blocks are dot products over the n-grams the vocabulary knows; a word's
    character-block part is computed once and remembered (see Featuriser).
    """

    def __init__(
        self,
        featuriser: Featuriser,
        intercept: tuple[float, ...],
        words: dict[str, Entry],
        chars: dict[str, Entry],
    ) -> None:
        self.featuriser = featuriser
        self.intercept = intercept
        self.words = words
        self.chars = chars
        self._word_parts: dict[str, Entry] = {}

    def scores(self, blocks: tuple[dict[str, int], list[str]]) -> list[float]:
        """The linear scores (one per output column) for a featurised text."""
        get = self.words.get
        found = [
            entry if count == 1 else _scaled(entry, count)
            for gram, count in blocks[0].items()
            if (entry := get(gram)) is not None
        ]
        cache = self._word_parts
        parts = [cache.get(word) or self._word_part(word) for word in blocks[1]]
        return _with_normed(_with_normed(list(self.intercept), found), parts)

    def _word_part(self, word: str) -> Entry:
        """One word's character block: its squared norm and its dot with each column."""
        featuriser = self.featuriser
        chars = self.chars
        found = []
        for gram, count in char_grams(word, featuriser.char_min, featuriser.char_max).items():
            entry = chars.get(gram)
            if entry is not None:
                found.append(entry if count == 1 else _scaled(entry, count))
        part = (
            tuple(map(sum, zip(*found, strict=True)))
            if found
            else (0.0,) * (len(self.intercept) + 1)
        )
        if len(self._word_parts) >= WORD_CACHE:
            self._word_parts.clear()
        self._word_parts[word] = part
        return part


def _scaled(entry: Entry, count: int) -> Entry:
    """An n-gram's entry for `count` occurrences (sublinear tf: 1 + log count)."""
    tf = 1.0 + math.log(count)
    return (tf * tf * entry[0], *(tf * w for w in entry[1:]))


def _with_normed(total: list[float], found: list[Entry]) -> list[float]:
    """`total` plus the L2-normed block whose n-grams' entries are `found`."""
    if not found:
        return total
    sums = list(map(sum, zip(*found, strict=True)))
    squared = sums[0]
    if squared <= 0.0:
        return total
    scale = 1.0 / math.sqrt(squared)
    return [t + s * scale for t, s in zip(total, sums[1:], strict=True)]


class Model:
    """A loaded classifier: logistic regression over the featuriser's tf-idf blocks."""

    def __init__(self, data: Mapping[str, Any], sha256: str, source: str = "<model>") -> None:
        self.sha256 = sha256
        self.source = source
        self.task: str = data["task"]
        self.classes: tuple[int, ...] = tuple(data["classes"])
        self.featuriser = Featuriser(**data["featuriser"])
        self.scorer = Scorer(
            self.featuriser,
            tuple(float(v) for v in data["intercept"]),
            _vocabulary(data["words"]),
            _vocabulary(data["chars"]),
        )
        self.trained_on: str = str(data.get("trained_on", ""))
        # The time of the newest label it learnt from (`train --base`): later labels are the
        # ones `evaluate --candidate` may measure it on.
        self.learnt_until: str = str(data.get("learnt_until", ""))
        # The language of the texts it learnt from (ISO 639-1); files without one are English.
        self.language: str = str(data.get("language", "en"))

    @property
    def columns(self) -> int:
        return len(self.scorer.intercept)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The suffixes of the variables this model provides ('' is `classifier.NAME`)."""
        if self.task == "complaint":
            return ("",)
        return ("", *(f"_p{level}" for level in self.classes))

    def predict(self, blocks: tuple[dict[str, int], list[str]]) -> dict[str, float]:
        """Output suffix -> value: P(complaint), or expected severity and P(each level)."""
        return self.link(self.scorer.scores(blocks))

    def link(self, scores: Sequence[float]) -> dict[str, float]:
        """The outputs (suffix -> value) from this model's linear scores."""
        return dict(zip(self.outputs, self.linked(scores), strict=True))

    def linked(self, scores: Sequence[float]) -> list[float]:
        """The output values, in the order of `outputs`."""
        if self.task == "complaint":
            return [_sigmoid(scores[0])]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        scale = 1.0 / sum(exps)
        probabilities = [e * scale for e in exps]
        expected = sum(level * p for level, p in zip(self.classes, probabilities, strict=True))
        return [expected, *probabilities]

    def top_words(self, text: str, tone: float = 0.0, limit: int = 5) -> list[Contribution]:
        """The word n-grams that pushed the output up the most (then down), largest first."""
        words, _ = self.featuriser.blocks(text, tone)
        direction = _direction(self.task, self.classes)
        pushes: dict[str, float] = {}
        norm = 0.0
        for gram, count in words.items():
            entry = self.scorer.words.get(gram)
            if entry is not None:
                tf = 1.0 + math.log(count)
                norm += tf * tf * entry[0]
                pushes[gram] = tf * sum(d * w for d, w in zip(direction, entry[1:], strict=True))
        scale = 1.0 / math.sqrt(norm) if norm else 0.0
        pushed = [Contribution(shown_gram(gram), push * scale) for gram, push in pushes.items()]
        pushed.sort(key=lambda c: -abs(c.weight))
        return [c for c in pushed if abs(c.weight) >= 0.01][:limit]


def _direction(task: str, classes: tuple[int, ...]) -> list[float]:
    """How each output column counts towards 'more of it' (for the top words)."""
    if task == "complaint":
        return [1.0]
    mean = sum(classes) / len(classes)
    return [float(level - mean) for level in classes]


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _vocabulary(raw: Mapping[str, Any]) -> dict[str, Entry]:
    """gram -> [idf, weight...] as stored, to (idf squared, idf * weight...) for scoring."""
    out = {}
    for gram, row in raw.items():
        idf = float(row[0])
        out[gram] = (idf * idf, *(idf * float(w) for w in row[1:]))
    return out


BUILTIN = "builtin:"  # `builtin:complaint` names a model shipped in complaintflow/models


def resolve(model: str, base: Path) -> Path:
    """The file a policy's `model:` names: a shipped model, or a path relative to `base`."""
    if model.startswith(BUILTIN):
        return (
            Path(__file__).resolve().parent.parent / "models" / f"{model[len(BUILTIN) :]}.cfmodel"
        )
    return base / model


_LOADED: dict[str, Model] = {}


def load_model(path: Path, *, cached: bool = True, bounds: Bounds = DEFAULT_BOUNDS) -> Model:
    """Read and check a model file; raise ModelError saying what is wrong with it.

    Only a regular file within `bounds` is read (see model_file). A file whose bytes were
    loaded before is not parsed again (unless `cached` is false).
    """
    return load_packed(read_model_file(path, bounds), str(path), cached=cached, bounds=bounds)


def load_packed(
    packed: bytes, source: str, *, cached: bool = True, bounds: Bounds = DEFAULT_BOUNDS
) -> Model:
    """Check the bytes of a model file (named `source` in errors) and load them."""
    sha256 = hashlib.sha256(packed).hexdigest()
    known = _LOADED.get(sha256)
    if known is not None and cached:
        return known
    model = _checked(unpack(packed, source, bounds), sha256, source)
    _LOADED[sha256] = model
    return model


def loaded(sha256: str) -> Model | None:
    """A model loaded earlier in this process, by the sha256 of its file."""
    return _LOADED.get(sha256)


def _checked(data: Any, sha256: str, source: str) -> Model:
    where = repr(source)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{where} is not a complaintflow model (no format {FORMAT!r})")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{where} is a version {version} model; this complaintflow reads version "
            f"{FORMAT_VERSION}",
        )
    if data.get("task") not in TASKS:
        raise ModelError(f"{where}: unknown task {data.get('task')!r} (known: {', '.join(TASKS)})")
    language = data.get("language", "en")
    if not (isinstance(language, str) and len(language) == 2 and language.isascii()):
        raise ModelError(f"{where}: language {language!r} is not an ISO 639-1 code")
    classes = data.get("classes")
    allowed = [[0, 1]] if data["task"] == "complaint" else None
    if not (
        isinstance(classes, list)
        and len(classes) >= 2
        and all(type(c) is int and 0 <= c < SEVERITY_LEVELS for c in classes)
        and classes == sorted(set(classes))
        and (allowed is None or classes in allowed)
    ):
        raise ModelError(f"{where} is damaged: classes {classes!r} do not fit its task")
    settings = data.get("featuriser")
    if not (
        isinstance(settings, dict)
        and {"word_ngrams", "char_min", "char_max"} <= set(settings)
        and set(settings) <= {"word_ngrams", "char_min", "char_max", "tone_word"}
        and all(type(settings[k]) is int for k in ("word_ngrams", "char_min", "char_max"))
        and type(settings.get("tone_word", False)) is bool
        and 1 <= settings["word_ngrams"] <= 4
        and 1 <= settings["char_min"] <= settings["char_max"] <= 8
    ):
        raise ModelError(f"{where} is damaged: featuriser settings {settings!r} are not valid")
    try:
        model = Model(data, sha256, source)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelError(f"{where} is damaged: {type(exc).__name__} {exc}") from None
    columns = model.columns
    expected = 1 if model.task == "complaint" else len(model.classes)
    scorer = model.scorer
    if columns != expected or any(
        len(entry) != columns + 1
        for vocab in (scorer.words, scorer.chars)
        for entry in vocab.values()
    ):
        raise ModelError(f"{where} is damaged: its weights do not match its classes")
    numbers = [
        value
        for vocab in (scorer.words, scorer.chars)
        for entry in vocab.values()
        for value in entry
    ]
    if not all(math.isfinite(v) for v in (*numbers, *scorer.intercept)):
        raise ModelError(f"{where} is damaged: a weight is not a finite number")
    return model


@dataclasses.dataclass(frozen=True)
class ClassifierOutput:
    """One classifier's outputs for one mention (variable name -> value), and why."""

    name: str
    values: dict[str, float]
    pushed_by: tuple[Contribution, ...] = ()


class Classifiers:
    """The models a policy declares, run together on a mention.

    Models with one featuriser and one vocabulary (as when trained on the same texts) are
    scored in a single pass over the n-grams, their weights side by side.
    """

    def __init__(self, models: Mapping[str, Model]) -> None:
        self.models = dict(models)
        groups: dict[tuple[Featuriser, int], list[str]] = {}
        for name, model in self.models.items():
            key = (model.featuriser, _vocabulary_key(model.scorer))
            groups.setdefault(key, []).append(name)
        self._groups = [
            (_merged([self.models[n] for n in names]), names) for names in groups.values()
        ]
        self._featurisers = tuple(dict.fromkeys(m.featuriser for m in self.models.values()))
        # per scorer: each model, its columns, and its variable names
        self._plan: list[tuple[Scorer, list[tuple[Model, int, int, tuple[str, ...]]]]] = []
        for scorer, names in self._groups:
            parts = []
            start = 0
            for name in names:
                model = self.models[name]
                keys = tuple(f"classifier.{name}{suffix}" for suffix in model.outputs)
                parts.append((model, start, start + model.columns, keys))
                start += model.columns
            self._plan.append((scorer, parts))

    def values(self, text: str, tone: float = 0.0) -> dict[str, float]:
        """`classifier.NAME...` variable values for a mention's text and tone (sentiment)."""
        featurisers = self._featurisers
        # One featuriser is the usual case: no dict of them (a featuriser hashes slowly).
        single = featurisers[0].blocks(text, tone) if len(featurisers) == 1 else None
        blocks = {} if single is not None else {f: f.blocks(text, tone) for f in featurisers}
        out: dict[str, float] = {}
        for scorer, parts in self._plan:
            scores = scorer.scores(single if single is not None else blocks[scorer.featuriser])
            for model, start, end, keys in parts:
                out.update(zip(keys, model.linked(scores[start:end]), strict=True))
        return out

    def explain(self, text: str, tone: float = 0.0, limit: int = 5) -> list[ClassifierOutput]:
        """Each classifier's outputs and the words that pushed it, for `explain`."""
        values = self.values(text, tone)
        return [
            ClassifierOutput(
                name,
                {
                    f"classifier.{name}{suffix}": values[f"classifier.{name}{suffix}"]
                    for suffix in model.outputs
                },
                tuple(model.top_words(text, tone, limit)),
            )
            for name, model in self.models.items()
        ]


def _vocabulary_key(scorer: Scorer) -> int:
    """Equal for scorers whose vocabularies have the same n-grams and idf values."""
    return hash(
        (
            frozenset((g, e[0]) for g, e in scorer.words.items()),
            frozenset((g, e[0]) for g, e in scorer.chars.items()),
        )
    )


_MERGED: dict[tuple[str, ...], Scorer] = {}


def _merged(models: Sequence[Model]) -> Scorer:
    """One scorer for models with the same vocabulary: their columns side by side."""
    if len(models) == 1:
        return models[0].scorer
    key = tuple(m.sha256 for m in models)
    found = _MERGED.get(key)
    if found is not None:
        return found
    first = models[0].scorer

    def side_by_side(vocabularies: list[dict[str, Entry]]) -> dict[str, Entry]:
        return {
            gram: (entry[0], *(w for v in vocabularies for w in v[gram][1:]))
            for gram, entry in vocabularies[0].items()
        }

    scorer = Scorer(
        first.featuriser,
        tuple(v for m in models for v in m.scorer.intercept),
        side_by_side([m.scorer.words for m in models]),
        side_by_side([m.scorer.chars for m in models]),
    )
    _MERGED[key] = scorer
    return scorer


def variables(name: str, task: str) -> dict[str, str]:
    """The variables a classifier of `task` called `name` provides: name -> meaning."""
    if task == "complaint":
        return {f"classifier.{name}": f"classifier {name}: probability of a complaint, 0..1"}
    out = {f"classifier.{name}": f"classifier {name}: expected severity, 0.0 to 4.0"}
    out.update(
        {
            f"classifier.{name}_p{level}": f"classifier {name}: probability of severity {level}"
            for level in range(SEVERITY_LEVELS)
        }
    )
    return out
