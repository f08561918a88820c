"""Training modes: one registry entry per kind of training (supervised, ...).

A new mode is a new file with a TrainingMode subclass and one line here.
"""

from __future__ import annotations

from playground.errors import TrainingError
from playground.train.modes.adversarial import AdversarialMode
from playground.train.modes.alternating import AlternatingMode
from playground.train.modes.autoencoder import AUTOENCODER_MODES
from playground.train.modes.base import TrainingMode, run_module
from playground.train.modes.cell_weights import CellWeightsMode
from playground.train.modes.ensemble import EnsembleMode
from playground.train.modes.gan import GanMode
from playground.train.modes.supervised import SupervisedMode

MODES: dict[str, type[TrainingMode]] = {m.name: m for m in (SupervisedMode, AlternatingMode)}
MODES.update({m.name: m for m in AUTOENCODER_MODES})  # autoencoder, denoising, vae
MODES[GanMode.name] = GanMode
MODES[EnsembleMode.name] = EnsembleMode
MODES.update({m.name: m for m in (AdversarialMode, CellWeightsMode)})  # fairness in training


def get_mode(name: str) -> type[TrainingMode]:
    try:
        return MODES[name]
    except KeyError:
        raise TrainingError(
            f"Unknown training mode {name!r}.", f"Choose one of: {', '.join(MODES)}."
        ) from None


__all__ = ["MODES", "AlternatingMode", "SupervisedMode", "TrainingMode", "get_mode", "run_module"]
