"""Overfitting, in plain words: the validation loss has turned up while the training loss
keeps falling. Read from a run's epoch rows (`train_loss`, `val_loss`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from playground.analysis.health import HealthWarning

# The validation loss must have risen this much (relative) above its best, over at least
# MIN_EPOCHS_SINCE_BEST epochs, while the training loss went on falling.
RISE = 0.10
MIN_EPOCHS_SINCE_BEST = 5
OVERFITTING_FIX = (
    "Try dropout or an L2 penalty (weight decay), early stopping (patience 10), a smaller "
    "model, or more data."
)


def overfitting_warning(history: Sequence[dict[str, Any]]) -> HealthWarning | None:
    """A warning when validation loss rose at least RISE above its best, at least
    MIN_EPOCHS_SINCE_BEST epochs ago, while training loss fell over the same epochs, and now
    lies above the training loss."""
    rows = [
        r
        for r in history
        if _finite(r.get("train_loss")) and _finite(r.get("val_loss")) and "epoch" in r
    ]
    if len(rows) < MIN_EPOCHS_SINCE_BEST + 2:
        return None
    best = min(range(len(rows)), key=lambda i: rows[i]["val_loss"])
    last = rows[-1]
    since = last["epoch"] - rows[best]["epoch"]
    best_val, best_train = rows[best]["val_loss"], rows[best]["train_loss"]
    if since < MIN_EPOCHS_SINCE_BEST or last["val_loss"] < best_val * (1 + RISE):
        return None
    if last["train_loss"] >= best_train:
        return None  # both got worse: that is not overfitting (divergence, a high rate...)
    if last["val_loss"] <= last["train_loss"]:
        # Still generalising as well as it fits (dropout or noise can keep training loss the
        # higher one): a wobble of a tiny validation loss, not memorising.
        return None
    return HealthWarning(
        "warning",
        "overfitting",
        f"Overfitting: the validation loss rose from {best_val:.3g} (epoch "
        f"{rows[best]['epoch']}) to {last['val_loss']:.3g} while the training loss kept "
        f"falling ({best_train:.3g} to {last['train_loss']:.3g}): the network is learning "
        f"the training examples rather than the pattern. {OVERFITTING_FIX}",
    )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
