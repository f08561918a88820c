"""What a lesson is: a question, the runs that answer it, and how to read their numbers.

A lesson never trains anything itself. It names its variants (each a `RunRequest`), and reads
the stored runs they became (`LessonResults`): final metrics, epoch histories, and weights
through `playground.runner.load_run`. So a lesson answers the same from runs trained here, by
the app's workers, or on another machine, and its verdict is computed from those runs' numbers
every time, never written in advance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from playground.runner import LoadedRun, load_run
from playground.runs import RunRequest
from playground.store import RunRecord, RunStore

# A variant's request, or a function of the run ids of the variants it needs (a fine-tuned
# run starts from its pretrained run's weights, whose id exists only once that one is stored).
RequestSource = RunRequest | Callable[[Mapping[str, str]], RunRequest]


@dataclass(frozen=True)
class Variant:
    """One run of a lesson. `group` gathers repeats of one setup over seeds (their mean is
    what the lesson compares); `needs` names variants whose run ids `request` takes."""

    name: str
    request: RequestSource
    note: str = ""  # what differs, in words ("no hidden layer")
    group: str = ""
    needs: tuple[str, ...] = ()

    @property
    def group_name(self) -> str:
        return self.group or self.name

    def build(self, run_ids: Mapping[str, str]) -> RunRequest:
        """The request, given the run ids of the variants it needs."""
        if isinstance(self.request, RunRequest):
            return self.request
        missing = [n for n in self.needs if n not in run_ids]
        if missing:
            raise ValueError(f"variant {self.name!r} needs the runs of {missing} first")
        return self.request(run_ids)


@dataclass(frozen=True)
class TryNext:
    """A 'what to try next' link: open this variant's setup on a page, with a suggestion."""

    variant: str
    page: str  # "build" | "train"
    text: str


@dataclass
class VariantResult:
    variant: Variant
    record: RunRecord
    history: list[dict[str, Any]]  # epoch rows (store.epochs)

    @property
    def run_id(self) -> str:
        return self.record.id

    @property
    def final(self) -> dict[str, float]:
        return self.record.final_metrics

    def last(self, key: str) -> float:
        """The last epoch row's value of `key` (a diverged run has no final metrics)."""
        for row in reversed(self.history):
            value = row.get(key)
            if isinstance(value, (int, float)):
                return float(value)
        return float("nan")


@dataclass
class LessonResults:
    """The stored runs of one lesson, by variant name."""

    store: RunStore
    runs: dict[str, VariantResult]
    _loaded: dict[str, LoadedRun] = field(default_factory=dict)

    def __getitem__(self, variant: str) -> VariantResult:
        return self.runs[variant]

    def loaded(self, variant: str) -> LoadedRun:
        """The variant's run rebuilt with its saved weights (cached)."""
        if variant not in self._loaded:
            self._loaded[variant] = load_run(self.runs[variant].run_id, self.store)
        return self._loaded[variant]

    def group(self, name: str) -> list[VariantResult]:
        return [r for r in self.runs.values() if r.variant.group_name == name]

    def histories(self, names: Sequence[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        names = names or list(self.runs)
        return {n: self.runs[n].history for n in names}


Measure = Callable[[LessonResults], dict[str, float]]


@dataclass(frozen=True)
class Lesson:
    """A question answered by runs. `measure` returns the numbers the lesson stands on (the
    tests assert on them); `verdict` says them in a sentence; `compare` draws them."""

    id: str
    title: str
    question: str
    explanation: str
    variants: tuple[Variant, ...]
    measure: Measure
    say: Callable[[dict[str, float]], str]
    compare: Callable[[LessonResults], list[go.Figure]]
    try_next: tuple[TryNext, ...] = ()
    topic: str = "Basics"
    seconds: float = 0.0  # measured run time of all its runs on one CPU core, for the page

    def verdict(self, results: LessonResults) -> str:
        return self.say(self.measure(results))

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def run_name(self, variant: Variant) -> str:
        return f"Lesson · {self.title} · {variant.name}"

    def request_for(self, variant: Variant, run_ids: Mapping[str, str]) -> RunRequest:
        """The variant's request, named after the lesson and variant, with lineage saying so
        (the Learn page finds a lesson's stored runs by it)."""
        request = variant.build(run_ids)
        lineage = {**request.lineage, "lesson": self.id, "variant": variant.name}
        return request.model_copy(update={"name": self.run_name(variant), "lineage": lineage})

    def ready(self, run_ids: Mapping[str, str], done: set[str]) -> list[Variant]:
        """Variants not yet started whose needs have finished."""
        return [
            v for v in self.variants if v.name not in run_ids and all(n in done for n in v.needs)
        ]


LESSONS: dict[str, Lesson] = {}


def register_lesson(lesson: Lesson) -> Lesson:
    if lesson.id in LESSONS:
        raise ValueError(f"lesson {lesson.id!r} registered twice")
    LESSONS[lesson.id] = lesson
    return lesson


def pct(value: float) -> str:
    """0.987 -> '99%' (a verdict's accuracies)."""
    return f"{100 * value:.0f}%"
