"""The registry of augmentations: name -> class. Adding one is one file and one entry here.

The order is the order they apply in: geometry first, then occlusion, noise, and mixup last
(it blends finished inputs).
"""

from __future__ import annotations

from collections.abc import Mapping

from playground.errors import TrainingError
from playground.train.augment.base import Augmentation
from playground.train.augment.image import Cutout, Flip, Rotate, Shift
from playground.train.augment.mixup import Mixup
from playground.train.augment.noise import Noise

AUGMENTATIONS: dict[str, type[Augmentation]] = {
    a.name: a for a in (Flip, Shift, Rotate, Cutout, Noise, Mixup)
}

KIND_WORDS = {"image": "images", "tabular": "tables", "toy2d": "2D data", "sequence": "sequences"}


def suited(kind: str, task: str) -> list[type[Augmentation]]:
    """The augmentations that suit data of this kind and task, in the order they apply."""
    return [a for a in AUGMENTATIONS.values() if kind in a.kinds and task in a.tasks]


def strength_problem(name: str, strength: float) -> str | None:
    """What is wrong with one entry of a config's `augment` (dataset aside), or None.
    Used by TrainConfig's validation: the message names the augmentation and the choices."""
    if name not in AUGMENTATIONS:
        return f"Unknown augmentation {name!r}; choose from: {', '.join(AUGMENTATIONS)}"
    aug = AUGMENTATIONS[name]
    if not 0 <= strength <= aug.limit:
        return (
            f"Augmentation {name!r} ({aug.title}) takes a strength from 0 (off) to "
            f"{aug.limit:g} {aug.unit}, not {strength:g}"
        )
    if aug.whole and strength != int(strength):
        return f"Augmentation {name!r} ({aug.title}) counts whole {aug.unit}, not {strength:g}"
    return None


def check_augment(augment: Mapping[str, float], kind: str, task: str, mode: str = "") -> None:
    """Refuse augmentations that do not suit the data (an image one on a table, mixup on a
    regression) or the mode (only supervised training augments), naming the ones that do."""
    active = [name for name, strength in augment.items() if strength]
    if not active:
        return
    if mode and mode != "supervised":
        raise TrainingError(
            f"Augmentation ({', '.join(active)}) applies to supervised training only; "
            f"this run's mode is {mode!r}.",
            "Remove the augmentation (the denoising autoencoder's noise option adds noise "
            "to its inputs).",
        )
    fits = [a.name for a in suited(kind, task)]
    for name in active:
        aug = AUGMENTATIONS[name]
        if kind in aug.kinds and task in aug.tasks:
            continue
        why = (
            f"suits {' and '.join(KIND_WORDS.get(k, k) for k in aug.kinds)} only"
            if kind not in aug.kinds
            else f"does not fit a {task} task ({aug.task_reason or 'not offered for it'})"
        )
        raise TrainingError(
            f"Augmentation {name!r} ({aug.title}) {why}; this dataset holds "
            f"{KIND_WORDS.get(kind, kind)} ({task}).",
            f"Augmentations for this data: {', '.join(fits)}."
            if fits
            else "No augmentation suits this data: remove it.",
        )
