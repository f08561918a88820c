"""Lessons: a question, the runs that answer it, and a verdict computed from their numbers.

    base.py         Lesson, Variant, LessonResults; the registry (LESSONS)
    run.py          train a lesson's runs headless; find a lesson's stored runs
    basics.py       XOR, vanishing gradients, learning rate, overfitting, batch norm, optimisers
    architectures.py  CNN vs MLP, LSTM/GRU vs RNN
    attention.py    a Transformer attends to the token that decides
    generative.py   autoencoder anomalies, GAN mode collapse
    techniques.py   transfer learning, augmentation, rare classes
    trust.py        biased data and a mitigation, attributions and a shortcut

Adding a lesson is one `register_lesson(Lesson(...))` in one of these files.
"""

# Importing the lesson files registers their lessons, in the order the Learn page lists them.
from playground.lessons import (  # noqa: F401
    architectures,
    attention,
    basics,
    generative,
    techniques,
    trust,
)
from playground.lessons.base import (
    LESSONS,
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    VariantResult,
    register_lesson,
)
from playground.lessons.run import results_for, run_lesson, stored_run_ids

__all__ = [
    "LESSONS",
    "Lesson",
    "LessonResults",
    "TryNext",
    "Variant",
    "VariantResult",
    "get_lesson",
    "register_lesson",
    "results_for",
    "run_lesson",
    "stored_run_ids",
]


def get_lesson(lesson_id: str) -> Lesson:
    """A lesson by id; KeyError names the ones there are."""
    if lesson_id not in LESSONS:
        raise KeyError(f"No lesson {lesson_id!r}; lessons: {', '.join(LESSONS)}")
    return LESSONS[lesson_id]
