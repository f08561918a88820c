"""Runs that are not learning, in plain words.

A NaN loss ends a run at once (Trainer._check_finite). A run can also stay finite and go
nowhere: Adam or SGD at learning rate 10 on the spiral overshoots every step, so for 200
epochs its loss stays at or above what a model that has learnt nothing scores. This finds
such runs at epoch ends, from the epoch rows:

- the loss rule: over the last `window` epochs the median training loss and the median
  validation loss are both above REFERENCE_FACTOR x the reference: the chance level (the loss
  of a model that has learnt nothing, see Objective.chance_loss), or the loss before training
  where that is clearly higher. Medians, so one wild epoch neither triggers nor hides it;
  both losses, so an L1 penalty (in the training loss only) or overfitting (in the
  validation loss only) does not count.
- the gradient rule: the largest layer gradient norm stayed above EXPLODING_NORM for the
  whole window while the training loss did not fall.

With `stop_when_not_learning` the run then ends as "diverged", its message saying why and
what to try, as a NaN loss does. Without, it goes on: the finding goes into each epoch row
that shows it (`not_learning`, which the Train page's health warnings show live) and into the
run's message.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playground.train.events import Callback

if TYPE_CHECKING:
    from playground.train.config import TrainConfig
    from playground.train.trainer import Trainer

# Epochs a finding must hold: 20% of the run, within these bounds. Long enough for a slow
# but healthy run to get below chance (SGD at 0.01 on the spiral does so within 3 epochs),
# short enough to end a 200-epoch run at epoch 10.
MIN_WINDOW = 5
MAX_WINDOW = 10
# Median losses above this multiple of the reference: worse than knowing nothing. Adam at
# learning rate 10 on the spiral hovers at 1.2-1.4x chance after its first epoch, SGD at 3-10x.
REFERENCE_FACTOR = 1.1
# Ten times the norm at which the Train page starts to warn (analysis/health.py), because
# this one can end the run.
EXPLODING_NORM = 1e4
# Optimisers that scale each step to the learning rate whatever the gradient's size, so
# clipping the gradient does not shrink their steps.
ADAPTIVE = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def window_for(epochs: int) -> int:
    """Epochs a finding must hold in a run of `epochs` epochs."""
    return min(MAX_WINDOW, max(MIN_WINDOW, epochs // 5))


@dataclass(frozen=True)
class Reference:
    """The loss a learning run soon gets below: `level`, and what it is in words."""

    level: float
    words: str

    @classmethod
    def of(cls, chance: float | None, start: float, task: str) -> Reference:
        """The chance level (None where the mode has none), or the loss before training
        (`start`, NaN if unknown) where that is clearly higher: a network initialised far
        from chance has to come down from there first."""
        if chance is None or not math.isfinite(chance) or start > REFERENCE_FACTOR * chance:
            return cls(start, "the loss before training")
        what = "the mean" if task == "regression" else "every class as equally likely"
        return cls(chance, f"the loss of a model that has learnt nothing (it predicts {what})")


def not_learning(rows: Sequence[dict[str, Any]], reference: Reference, window: int) -> str | None:
    """What shows that the run in `rows` (its epoch rows so far) is not learning, in words
    with numbers, or None while it learns or has run fewer than `window` epochs."""
    if len(rows) < window:
        return None
    last = rows[-window:]
    span = f"epochs {last[0]['epoch']}-{last[-1]['epoch']}"
    train = statistics.median(r["train_loss"] for r in last)
    val = statistics.median(r["val_loss"] for r in last)
    bar = REFERENCE_FACTOR * reference.level
    if reference.level > 0 and train > bar and val > bar:
        return (
            f"over {span} the training loss stayed at {train:.3g} and the validation loss at "
            f"{val:.3g} (medians), above {reference.level:.3g}, {reference.words}."
        )
    norms = [max(_finite_or_inf(r.get("grad_norms")), default=0.0) for r in last]
    if min(norms) > EXPLODING_NORM and last[-1]["train_loss"] >= last[0]["train_loss"]:
        return (
            f"over {span} the largest gradient norm stayed above {EXPLODING_NORM:g} (up to "
            f"{max(norms):.3g}) while the training loss did not fall "
            f"({last[0]['train_loss']:.3g} to {last[-1]['train_loss']:.3g})."
        )
    return None


def advice(config: TrainConfig) -> str:
    """What to try, for the run's optimiser: clipping shrinks SGD's steps but not Adam's."""
    lr, name = config.lr, ADAPTIVE.get(config.optimizer)
    if name:
        return (
            f"Its steps are most likely too large: try a lower learning rate (now {lr:g}; "
            f"e.g. {min(lr / 10, 0.01):g}) or a schedule (cosine) that lowers it as training "
            f"goes. Clipping gradients barely helps {name}, which scales each step to about "
            "the learning rate whatever the gradient's size."
        )
    # A clipped SGD step is at most lr x clip (more with momentum): aim it at about 0.1.
    clip = float(f"{min(0.1 / lr, 1.0):.1g}")
    return (
        f"Its steps are most likely too large: try a lower learning rate (now {lr:g}; e.g. "
        f"{min(lr / 10, 0.1):g}), clipping gradients (grad_clip={clip:g}) or a schedule "
        "(cosine) that lowers the rate as training goes."
    )


class NotLearning(Callback):
    """Checks each epoch row; goes before History so the row it marks is stored whole."""

    def __init__(self) -> None:
        self.reference = Reference(math.nan, "")
        self.window = MAX_WINDOW
        self.rows: list[dict[str, Any]] = []

    def on_train_start(self, trainer: Trainer) -> None:
        mode, data = trainer.mode, trainer.dataset
        # The untrained model's validation loss: one pass, before any step changes it.
        start = mode.evaluate(data.val)["loss"] if len(data.val) else math.nan
        self.reference = Reference.of(mode.chance_loss(), start, data.task)
        self.window = window_for(trainer.config.epochs)
        self.rows = []

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self.rows.append(row)
        del self.rows[: -self.window]
        found = not_learning(self.rows, self.reference, self.window)
        if found is None:
            return
        config, state = trainer.config, trainer.state
        text = f"Not learning: {found} {advice(config)}"
        if config.stop_when_not_learning:
            # The run's message says it; marking the row too would show it twice.
            state.stop_training, state.end_status = True, "diverged"
            state.message = f"{text} Stopped at epoch {row['epoch']} of {config.epochs}."
            return
        row["not_learning"] = text  # the Train page's live warning while the run goes on
        state.message = f"{text} It went on to the end: 'stop a run that is not learning' is off."


def _finite_or_inf(norms: Any) -> list[float]:
    """Layer gradient norms as floats, a non-finite one counted as infinitely large."""
    values = [float(v) for v in dict(norms or {}).values() if v is not None]
    return [v if math.isfinite(v) else math.inf for v in values]
