"""Influential training examples with Captum's TracInCP (Pruthi et al. 2020): the influence of
training example z on a test prediction z' is the sum over checkpoints of
lr_t * grad loss(z) . grad loss(z'). Positive: training on z lowered the loss of the
prediction (a proponent); negative: it raised it (an opponent). An example's influence on
itself (self-influence) is high for examples the model finds hard to fit, which is how
mislabelled rows are found.

Checkpoints: the run store keeps only a run's latest weights, so TracIn's checkpoints come
from retraining the run's own request (same data, spec, config and seed) in this process and
saving the weights at `n` evenly spaced epochs, as safetensors under
<store>/influence/<run id>/. They are made once per run and reused. Whether the retrained
final weights match the stored ones is measured and reported (`CheckpointSet.max_weight_gap`):
on the CPU a seeded run repeats exactly; where it does not, the influence describes a rerun of
the same recipe.

Gradients are taken for the model's Linear and Conv2d layers (per-example gradients in one
batched pass, Captum's `sample_wise_grads_per_batch`); for models over LAST_LAYER_ABOVE
parameters only the last such layer, the usual TracIn approximation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from captum.influence import TracInCP
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import TensorDataset

from playground.errors import PlaygroundError
from playground.explain.base import Cancelled, Progress
from playground.explain.context import ExplainContext, ExplainedModel
from playground.store import RunStore
from playground.store.checkpoint import save_weights
from playground.train import Callback
from playground.train.objectives import LOSSES, Objective

LAST_LAYER_ABOVE = 200_000  # parameters: above this, gradients of the last layer only
BATCH = 512  # training rows per gradient batch
MANIFEST = "checkpoints.json"


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass
class CheckpointSet:
    """Weights files (safetensors) at `epochs`, with the learning rate in force there."""

    paths: list[Path]
    epochs: list[int]
    learning_rates: list[float]
    max_weight_gap: float  # max |retrained final - stored| weight; 0.0 = an exact repeat
    seconds: float = 0.0  # retraining time (0 when reused)


class _KeepCheckpoints(Callback):
    """Saves the model's weights at the chosen epochs and reports progress; a cancelled task
    stops the retraining through the trainer's own stop request."""

    def __init__(self, folder: Path, epochs: list[int], total: int, progress: Progress) -> None:
        self.folder, self.epochs, self.total, self.progress = folder, epochs, total, progress
        self.saved: list[tuple[int, float, Path]] = []
        self.cancelled = False

    def on_epoch_end(self, trainer: Any, row: dict[str, Any]) -> None:
        epoch = int(trainer.state.epoch)
        if epoch in self.epochs:
            path = self.folder / f"epoch-{epoch}.safetensors"
            save_weights(trainer.model, path)
            self.saved.append((epoch, float(trainer.lr), path))
        try:
            self.progress(0.9 * epoch / self.total, f"Retraining for checkpoints: epoch {epoch}")
        except Cancelled:
            self.cancelled = True
            trainer.control.stop()


def checkpoint_epochs(total: int, n: int) -> list[int]:
    """`n` evenly spaced epochs in 1..total, always including the last."""
    n = max(1, min(n, total))
    return sorted({int(np.ceil(total * (i + 1) / n)) for i in range(n)})


def run_checkpoints(
    run_id: str, store: RunStore | None = None, n: int = 5, progress: Progress | None = None
) -> CheckpointSet:
    """The run's TracIn checkpoints: reused from <store>/influence/<run id>/ when made
    before, else made by retraining the run's request (a supervised run only)."""
    from playground.runner import load_run
    from playground.runs.execute import build_trainer
    from playground.runs.request import RunRequest

    say = progress or _quiet
    store = store or RunStore()
    folder = store.root / "influence" / run_id
    manifest = folder / MANIFEST
    if manifest.exists():
        data = json.loads(manifest.read_text())
        paths = [folder / p for p in data["files"]]
        if all(p.exists() for p in paths) and data.get("n") == n:
            return CheckpointSet(
                paths, data["epochs"], data["learning_rates"], data["max_weight_gap"]
            )
    loaded = load_run(run_id, store)
    if loaded.record.mode != "supervised":
        raise PlaygroundError(
            f"Influential examples need a supervised run; this one is {loaded.record.mode}.",
            "Choose a run trained with labels.",
        )
    request = RunRequest.parse(loaded.record.request)
    total = int(request.config.epochs)
    epochs = checkpoint_epochs(total, n)
    folder.mkdir(parents=True, exist_ok=True)
    keeper = _KeepCheckpoints(folder, epochs, total, say)
    start = time.perf_counter()
    trainer = build_trainer(request, loaded.dataset, callbacks=[keeper])
    state = trainer.run()
    if keeper.cancelled:
        raise Cancelled(run_id)
    if state.status != "completed" or not keeper.saved:
        raise PlaygroundError(
            f"Retraining the run for its checkpoints ended '{state.status}': {state.message}",
            "Influence needs the run to train again as it did; check the run's data.",
        )
    gap = _weight_gap(trainer.model, loaded.model)
    saved = sorted(keeper.saved)
    data = {
        "n": n,
        "files": [p.name for _, _, p in saved],
        "epochs": [e for e, _, _ in saved],
        "learning_rates": [lr for _, lr, _ in saved],
        "max_weight_gap": gap,
    }
    manifest.write_text(json.dumps(data))
    return CheckpointSet(
        [p for _, _, p in saved],
        data["epochs"],
        data["learning_rates"],
        gap,
        time.perf_counter() - start,
    )


@torch.no_grad()
def _weight_gap(retrained: nn.Module, stored: nn.Module) -> float:
    a, b = retrained.state_dict(), stored.state_dict()
    gaps = [
        float((a[k].float().cpu() - b[k].float().cpu()).abs().max())
        for k in b
        if k in a and a[k].shape == b[k].shape and a[k].numel()
    ]
    return max(gaps, default=float("inf"))


# ---------------------------------------------------------------- TracIn


class _SummedLoss(nn.Module):
    """The run's loss summed over a batch: Captum's per-example gradients need the reduction
    stated ('sum' here) to undo it."""

    reduction = "sum"

    def __init__(self, loss_name: str) -> None:
        super().__init__()
        self.fn = LOSSES[loss_name].fn

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fn(out, y, None, "none").sum()


@dataclass
class InfluenceResult:
    """For each test row: the k training rows that most support (proponents) and most oppose
    (opponents) its prediction, by TracIn score; plus every training row's self-influence."""

    test_rows: np.ndarray  # (T,)
    predicted: np.ndarray  # (T,) class (or value) the influence is about
    proponents: np.ndarray  # (T, k) training rows
    proponent_scores: np.ndarray  # (T, k)
    opponents: np.ndarray  # (T, k)
    opponent_scores: np.ndarray  # (T, k)
    self_influence: np.ndarray  # (N_train,)
    layers: list[str]
    epochs: list[int]
    max_weight_gap: float
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def top_self_influence(self, k: int) -> np.ndarray:
        """The k training rows with the highest self-influence, highest first."""
        return np.argsort(-self.self_influence, kind="stable")[:k]


def gradient_layers(model: nn.Module, prefix: str = "model") -> list[str]:
    """Names (in ExplainedModel) of the Linear / Conv2d layers TracIn takes gradients of:
    all of them, or the last one for a model over LAST_LAYER_ABOVE parameters."""
    names = [
        f"{prefix}.{name}"
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear | nn.Conv2d)
    ]
    if not names:
        raise PlaygroundError(
            "TracIn here needs a Linear or Conv2d layer and this model has none.",
            "Add a Linear output layer.",
        )
    total = sum(p.numel() for p in model.parameters())
    return names if total <= LAST_LAYER_ABOVE else names[-1:]


def loss_name(ctx: ExplainContext, config_loss: str = "auto") -> str:
    return Objective(ctx.dataset.task, config_loss, ctx.output_width, None).name


def tracin(
    ctx: ExplainContext,
    checkpoints: CheckpointSet,
    test_rows: list[int],
    *,
    k: int = 5,
    config_loss: str = "auto",
    self_influence: bool = True,
    progress: Progress | None = None,
) -> InfluenceResult:
    """TracInCP proponents / opponents of the predictions of `test_rows` (loss taken at the
    predicted class: what supported *this prediction*), and, with `self_influence`, every
    training row's self-influence. Cancel checks between batches of training rows."""
    say = progress or _quiet
    start = time.perf_counter()
    dataset = ctx.dataset
    if ctx.tokens:
        raise PlaygroundError(
            "TracIn here takes gradients with respect to Linear and Conv2d weights of float "
            "inputs; token models are not supported.",
            "Use a tabular, 2D or image run.",
        )
    name = loss_name(ctx, config_loss)
    model = ExplainedModel(_copy(ctx.built.module)).eval()
    layers = gradient_layers(model.model)
    x_train, y_train = dataset.train.x.float(), _loss_targets(dataset.train.y, name)
    train_set = TensorDataset(x_train, y_train)
    lrs = dict(zip(map(str, checkpoints.paths), checkpoints.learning_rates, strict=True))

    def load(module: nn.Module, path: str) -> float:
        tensors = load_file(path)  # safetensors: tensors only, nothing executed
        module.model.load_state_dict(tensors)
        return lrs[path]

    tracer = TracInCP(
        model,
        train_set,
        [str(p) for p in checkpoints.paths],
        checkpoints_load_func=load,
        layers=layers,
        loss_fn=_SummedLoss(name),
        batch_size=BATCH,
        sample_wise_grads_per_batch=True,
    )
    rows = torch.as_tensor(test_rows, dtype=torch.long)
    x_test = dataset.test.x[rows].float()
    with torch.no_grad():
        out = ctx.model(x_test.to(ctx.device)).cpu()
    objective = Objective(dataset.task, name, ctx.output_width, None)
    predicted = objective.predict(out)
    y_test = _loss_targets(predicted, name)
    k = max(1, min(k, len(x_train)))
    say(0.0, "TracIn: proponents")
    with torch.enable_grad():
        pro = tracer.influence((x_test, y_test), k=k, proponents=True)
        say(0.1, "TracIn: opponents")
        opp = tracer.influence((x_test, y_test), k=k, proponents=False)
        scores = np.zeros(0)
        if self_influence:
            parts = []
            for s in range(0, len(x_train), 4 * BATCH):
                say(
                    0.2 + 0.8 * s / len(x_train),
                    f"TracIn: self-influence, rows {s + 1}-{min(s + 4 * BATCH, len(x_train))}",
                )
                batch = (x_train[s : s + 4 * BATCH], y_train[s : s + 4 * BATCH])
                parts.append(tracer.self_influence(batch).detach().cpu())
            scores = torch.cat(parts).numpy().astype(np.float64)
    notes = []
    if checkpoints.max_weight_gap > 1e-5:
        notes.append(
            f"Retraining did not repeat the stored run exactly (largest weight difference "
            f"{checkpoints.max_weight_gap:.3g}): the influence describes a rerun of the same "
            "recipe."
        )
    notes.append(
        f"Gradients of {', '.join(layers)} at epochs {', '.join(map(str, checkpoints.epochs))}."
    )
    say(1.0, "TracIn done")
    return InfluenceResult(
        test_rows=rows.numpy(),
        predicted=predicted.numpy(),
        proponents=pro.indices.numpy(),
        proponent_scores=pro.influence_scores.detach().numpy().astype(np.float64),
        opponents=opp.indices.numpy(),
        opponent_scores=opp.influence_scores.detach().numpy().astype(np.float64),
        self_influence=scores,
        layers=layers,
        epochs=list(checkpoints.epochs),
        max_weight_gap=checkpoints.max_weight_gap,
        notes=notes,
        seconds=time.perf_counter() - start,
    )


def _loss_targets(y: torch.Tensor, name: str) -> torch.Tensor:
    """Labels as the loss wants them: class indices for cross-entropy, floats otherwise."""
    return y.long() if name == "cross_entropy" else y.float()


def _copy(module: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(module)
