"""A tqdm progress bar for the command line, as a training callback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from playground.train.events import Callback

if TYPE_CHECKING:
    from playground.train.trainer import Trainer


class ProgressBar(Callback):
    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def on_train_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(total=trainer.config.epochs, unit="epoch", dynamic_ncols=True)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        if self.bar is None:
            return
        score = next(k for k in row if k.startswith("val_") and k != "val_loss")
        self.bar.set_postfix(
            loss=f"{row['train_loss']:.4f}",
            val_loss=f"{row['val_loss']:.4f}",
            **{score: f"{row[score]:.3f}"},
            sps=f"{row['samples_per_sec']:,.0f}",
        )
        self.bar.update(1)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()
