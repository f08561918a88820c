"""What a trained autoencoder (modes "autoencoder", "denoising", "vae") has learnt, as arrays.

Every function takes the run's built modules (`LoadedRun.modules["encoder"]`, `["decoder"]`,
or a trainer's `modules`) and returns NumPy arrays on the CPU, computed in eval mode in
batched forward passes on the modules' own device (their train/eval mode is restored).
Inputs and reconstructions come back in the dataset's input shape ((1, 8, 8) for digits);
a code is the encoder's mean code (a VAE's mu), as in the mode's evaluation, so the numbers
here match the run's `recon` metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.model.build import BuiltModel
from playground.train.modes.autoencoder import row_errors, split_code
from playground.train.modes.supervised import EVAL_BATCH


@dataclass
class LatentCodes:
    """Where a split's rows land in the code space.

    `codes` (N, latent) are the mean codes; `points` (N, 2) what to plot: the codes
    themselves for a 2-D code, their first two principal components for a wider one (a 1-D
    code gets a zero second column). `explained_variance` (2,) is the share of the codes'
    variance those two components hold, None when `points` are the codes. `labels` (N,)
    are the rows' class indices (int) or regression targets (float), for colouring."""

    points: np.ndarray
    labels: np.ndarray
    explained_variance: np.ndarray | None
    codes: np.ndarray


@dataclass
class LatentGrid:
    """Decodings of a regular grid over a 2-D code plane. `xs` (steps,) and `ys` (steps,)
    are the code coordinates; `decoded[i, j]` (shape `decoded.shape[2:]`, the input shape
    when given) is the decoding of the code (xs[j], ys[i]): rows follow y, as in a plot."""

    xs: np.ndarray
    ys: np.ndarray
    decoded: np.ndarray


def reconstructions(
    encoder: BuiltModel,
    decoder: BuiltModel,
    dataset: Dataset,
    split: str,
    rows: Sequence[int] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The split's `rows` (indices) and their reconstructions, each (len(rows), *input_shape)."""
    x = dataset.split(split).x[torch.as_tensor(np.asarray(rows, dtype=np.int64))]
    with _evaluating(encoder, decoder):
        out = _batched(lambda xb: _reconstruct(encoder, decoder, xb), x, _device(encoder.module))
    return x.numpy(), out.reshape(x.shape).numpy()


def latent_codes(encoder: BuiltModel, dataset: Dataset, split: str, mode: str) -> LatentCodes:
    """The split's codes (`mode` is the run's mode: a "vae" encoder's output is mu and
    log-variance, of which the code is mu)."""
    width = encoder.output_shape[0]
    latent = width // 2 if mode == "vae" else width
    data = dataset.split(split)
    with _evaluating(encoder):
        codes = _batched(
            lambda xb: split_code(encoder.module(xb), latent)[0], data.x, _device(encoder.module)
        ).numpy()
    labels = data.y.numpy()
    if latent == 2:
        return LatentCodes(codes.copy(), labels, None, codes)
    if latent == 1:
        points = np.concatenate([codes, np.zeros_like(codes)], axis=1)
        return LatentCodes(points, labels, None, codes)
    points, ratio = _pca2(codes)
    return LatentCodes(points, labels, ratio, codes)


def code_bounds(points: np.ndarray, padding: float = 0.1) -> tuple[tuple[float, float], ...]:
    """((x_min, x_max), (y_min, y_max)) around 2-D `points` (N, 2), widened by `padding` of
    the span on each side: the plane to hand `latent_grid`."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(high - low, 1e-6) * padding
    return tuple((float(a), float(b)) for a, b in zip(low - pad, high + pad, strict=True))


def latent_grid(
    decoder: BuiltModel,
    bounds: Sequence[Sequence[float]],
    steps: int,
    shape: Sequence[int] | None = None,
) -> LatentGrid:
    """Decode a steps x steps grid over the code plane `bounds` ((x_min, x_max), (y_min,
    y_max)) in one batched pass; `shape` (the dataset's input shape) shapes each decoding,
    else it stays flat (D,). Only for 2-D codes."""
    latent = decoder.input_shape[0]
    if latent != 2:
        raise PlaygroundError(
            f"A grid over the code plane needs a 2-D code; this decoder takes {latent}.",
            "Train with latent=2 to decode the plane, or use `interpolate` between two rows.",
        )
    if steps < 2:
        raise ValueError(f"steps={steps} is too few; use at least 2 points per axis.")
    (x0, x1), (y0, y1) = bounds
    xs, ys = np.linspace(x0, x1, steps), np.linspace(y0, y1, steps)
    gx, gy = np.meshgrid(xs, ys)  # [i, j] is the code (xs[j], ys[i])
    codes = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).float()
    with _evaluating(decoder):
        out = _batched(decoder.module, codes, _device(decoder.module))
    item = tuple(shape) if shape is not None else tuple(out.shape[1:])
    return LatentGrid(xs, ys, out.reshape(steps, steps, *item).numpy())


def interpolate(
    encoder: BuiltModel,
    decoder: BuiltModel,
    x_a: torch.Tensor | np.ndarray,
    x_b: torch.Tensor | np.ndarray,
    steps: int,
) -> np.ndarray:
    """Decodings along the straight line from x_a's code to x_b's, both ends included:
    (steps, *x_a.shape) for single inputs of the input shape."""
    a, b = torch.as_tensor(x_a).float(), torch.as_tensor(x_b).float()
    latent = decoder.input_shape[0]
    device = _device(encoder.module)
    t = torch.linspace(0, 1, steps, device=device).unsqueeze(1)
    with _evaluating(encoder, decoder), torch.no_grad():
        ends = split_code(encoder.module(torch.stack([a, b]).to(device)), latent)[0]
        out = decoder.module(ends[0] + t * (ends[1] - ends[0]))
    return out.reshape(steps, *a.shape).cpu().numpy()


def anomaly_scores(
    encoder: BuiltModel, decoder: BuiltModel, dataset: Dataset, split: str
) -> np.ndarray:
    """Each row's reconstruction error (mean squared error over its elements), (N,): rows
    unlike those trained on rebuild worse, so a higher score is more anomalous."""
    latent = decoder.input_shape[0]
    with _evaluating(encoder, decoder):
        return _batched(
            lambda xb: row_errors(encoder.module, decoder.module, xb, latent),
            dataset.split(split).x,
            _device(encoder.module),
        ).numpy()


def anomaly_roc(scores: np.ndarray, is_anomaly: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(fpr, tpr, auc) of flagging rows whose score is above each threshold; `is_anomaly`
    (N,) bool. The ROC curve's points run from (0, 0) to (1, 1)."""
    from sklearn.metrics import roc_auc_score, roc_curve  # only the anomaly view needs it

    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    if is_anomaly.all() or not is_anomaly.any():
        raise PlaygroundError(
            "An ROC curve needs both anomalous and normal rows; this split has only one kind.",
            "Pick a split (or a class) that has both.",
        )
    fpr, tpr, _ = roc_curve(is_anomaly, scores)
    return fpr, tpr, float(roc_auc_score(is_anomaly, scores))


class AnomalyScore(nn.Module):
    """x (B, *input_shape) -> its reconstruction error (B,): one scalar per row, so
    attribution methods (Captum) can say which input features make a row look anomalous."""

    def __init__(self, encoder: BuiltModel, decoder: BuiltModel) -> None:
        super().__init__()
        self.encoder = encoder.module
        self.decoder = decoder.module
        self.latent = decoder.input_shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return row_errors(self.encoder, self.decoder, x, self.latent)


# -- helpers ----------------------------------------------------------------------------


def _reconstruct(encoder: BuiltModel, decoder: BuiltModel, x: torch.Tensor) -> torch.Tensor:
    return decoder.module(split_code(encoder.module(x), decoder.input_shape[0])[0])


def _device(module: nn.Module) -> torch.device:
    return next((p.device for p in module.parameters()), torch.device("cpu"))


@torch.no_grad()
def _batched(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """fn over x in chunks on `device`; the result on the CPU."""
    parts = [fn(x[i : i + EVAL_BATCH].to(device)).cpu() for i in range(0, len(x), EVAL_BATCH)]
    return torch.cat(parts) if parts else torch.zeros(0)


@contextmanager
def _evaluating(*models: BuiltModel) -> Iterator[None]:
    """Eval mode (dropout off, BatchNorm's running statistics) inside; each restored after."""
    modes = [m.module.training for m in models]
    for m in models:
        m.module.eval()
    try:
        yield
    finally:
        for m, mode in zip(models, modes, strict=True):
            m.module.train(mode)


def _pca2(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The codes on their first two principal axes (N, 2) and those axes' variance shares
    (2,). Each axis's sign is fixed (its largest loading positive) so runs compare."""
    centred = codes - codes.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    axes = axes * np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])[:, None]
    variance = s**2
    total = variance.sum()
    ratio = variance[:2] / total if total > 0 else np.zeros(2)
    return centred @ axes.T, ratio


def anomaly_model(encoder: BuiltModel, decoder: BuiltModel) -> BuiltModel:
    """The anomaly score as a model with one output, for the explanation methods: attributions
    then say which input features make a sample look anomalous. It has no layer rows, so only
    methods on the input apply (not Grad-CAM or conductance)."""
    score = AnomalyScore(encoder, decoder)
    params = encoder.total_params + decoder.total_params
    return BuiltModel(
        module=score,  # type: ignore[arg-type]  # any module with (B, *input) -> (B,)
        rows=[],
        input_shape=encoder.input_shape,
        output_shape=(1,),
        total_params=params,
        trainable_params=params,
    )


@dataclass
class Posterior:
    """What a VAE's encoder says about some rows: each row's code distribution N(mu, sigma²)
    and codes drawn from it as training draws them (z = mu + sigma · eps)."""

    rows: np.ndarray  # (N,) row numbers in the split
    mu: np.ndarray  # (N, latent)
    sigma: np.ndarray  # (N, latent)
    draws: np.ndarray  # (N, draws, latent)
    labels: np.ndarray  # (N,)


def posterior(
    encoder: BuiltModel,
    dataset: Dataset,
    split: str,
    rows: Sequence[int] | np.ndarray,
    *,
    mode: str = "vae",
    draws: int = 8,
    seed: int = 0,
) -> Posterior:
    """The reparameterisation made visible: each row's mean and spread, and `draws` codes
    sampled from them with a seeded generator. Only a VAE (`mode`, the run's) has them."""
    width = encoder.output_shape[0]
    if mode != "vae" or width % 2:
        raise PlaygroundError(
            "Only a variational autoencoder's encoder gives a mean and a spread per code.",
            "Train with mode 'vae' to see its posterior.",
        )
    latent = width // 2
    index = torch.as_tensor(np.asarray(rows, dtype=np.int64))
    data = dataset.split(split)
    device = _device(encoder.module)
    with _evaluating(encoder), torch.no_grad():
        mu, logvar = split_code(encoder.module(data.x[index].to(device)), latent)
    sigma = (0.5 * logvar).exp()
    eps = torch.randn(len(index), draws, latent, generator=torch.Generator().manual_seed(seed)).to(
        device
    )
    sampled = mu[:, None, :] + sigma[:, None, :] * eps
    return Posterior(
        index.numpy(),
        mu.cpu().numpy(),
        sigma.cpu().numpy(),
        sampled.cpu().numpy(),
        data.y[index].numpy(),
    )
