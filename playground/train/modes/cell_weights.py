"""Supervised training on a per-(group, label) table of targets and weights.

This is the network one step of a fairness reduction (Fairlearn's ExponentiatedGradient or
GridSearch) trains: its options hold the reduction's recipe (see playground/fairness/cells.py),
so the stored run's request trains the same network again from the dataset alone. The
training loss is the weighted loss on the recipe's targets; the training score is accuracy
on the real labels, like every other run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from playground.errors import TrainingError
from playground.model.build import BuiltModel
from playground.model.spec import ModelSpec
from playground.train.modes.supervised import SupervisedMode

if TYPE_CHECKING:
    from playground.data.dataset import Dataset
    from playground.train.config import TrainConfig
    from playground.train.trainer import Trainer


class CellWeightsMode(SupervisedMode):
    name: ClassVar[str] = "cell_weights"
    title: ClassVar[str] = "Supervised, on a fairness reduction's targets and weights"

    @classmethod
    def check(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, BuiltModel]:
        _cells(dataset, options)  # a bad recipe is refused before the run is stored
        return super().check(dataset, specs, options)

    @classmethod
    def epoch_size(cls, dataset: Dataset, config: TrainConfig, options: Mapping[str, Any]) -> int:
        if config.sampler != "none" or config.class_weighting or config.reweigh:
            raise TrainingError(
                "A reduction's recipe sets every row's weight; sampling, class weighting and "
                "reweighing would change its problem.",
                "Turn them off for this run.",
            )
        return len(dataset.train)

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        targets, weights = _cells(trainer.dataset, options)
        self.labels = self.y
        self.y = torch.as_tensor(targets, device=self.labels.device)
        self.weights = torch.as_tensor(weights, dtype=torch.float32, device=self.labels.device)

    def end_epoch(self) -> dict[str, float]:
        # The epoch's score against the real labels (the loss stays the recipe's).
        targets, self.y = self.y, self.labels
        try:
            return super().end_epoch()
        finally:
            self.y = targets


def _cells(dataset: Dataset, options: Mapping[str, Any]) -> Any:
    # Imported here: only these runs need the fairness package.
    from playground.fairness.cells import dataset_cells

    return dataset_cells(dataset, options)
