"""What a GAN's two networks do, as plain arrays for charts (no training, no Streamlit).

    discriminator_field    D's verdict over a 2-D plane: the heat map under the points
    generator_gradients    where G's loss pushes each generated point: the arrows
    mode_coverage          how many of the data's modes the generated samples reach
    sample_grid            generated rows (images) from fixed noise: the same grid every time
    live_view              the pictures above for a training run, sent from its worker
    gan_noise / centres_of the fixed noise and the mode centres those use

Each figure is one batched forward pass in eval mode; the modules' train/eval state is
restored afterwards. The losses and the coverage rule are the training mode's own
(playground.train.modes.gan), so the pictures show what the run optimised.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import nn

from playground.data.dataset import SPLIT_NAMES, Dataset
from playground.errors import PlaygroundError
from playground.train.modes.gan import (
    COVERAGE_SAMPLES,
    GAN_LOSSES,
    count_near_centres,
    covered_threshold,
    fixed_noise,
    generator_loss_per_row,
    mode_centres,
)

if TYPE_CHECKING:
    from playground.train.modes.gan import GanMode

# The live view: points and arrows on 2-D data, images otherwise, the field's resolution.
LIVE_SAMPLES = 300
LIVE_ARROWS = 60
LIVE_IMAGES = 16
LIVE_STEPS = 40

FieldKind = Literal["probability", "score", "critic"]
Bounds = tuple[float, float, float, float]


@dataclass
class DiscriminatorField:
    """D's output on a steps x steps grid: `values[i, j]` at (xs[j], ys[i]) (rows follow y,
    as a plotly heatmap expects). `kind`: "probability" that a point is real (standard and
    non-saturating losses, in 0..1); "score" (least squares: D is trained towards 1 on real
    rows and 0 on fakes, unbounded); "critic" (WGAN-GP: an unbounded score, higher = more
    real; only differences between points mean something)."""

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    kind: FieldKind


@dataclass
class GeneratorGradients:
    """Generated points (N, D) and, for each, the direction (N, D) its own generator loss
    falls fastest: minus the loss's gradient with respect to the point (not normalised, so
    a short arrow is a weak push: the standard loss's arrows vanish where D is sure)."""

    points: np.ndarray
    directions: np.ndarray


@dataclass
class ModeCoverage:
    """`counts[k]`: samples whose nearest centre is mode k and within `radius` of it;
    `covered`: modes with at least `min_count` of them; `high_quality`: the share of all
    samples within `radius` of some centre."""

    covered: int
    counts: np.ndarray
    high_quality: float
    radius: float
    min_count: int

    @property
    def modes(self) -> int:
        return len(self.counts)


def discriminator_field(
    discriminator: nn.Module,
    bounds: Bounds,
    steps: int = 60,
    loss: str = "non_saturating",
) -> DiscriminatorField:
    """D over the rectangle `bounds` = (x_min, x_max, y_min, y_max) of a 2-D dataset, on a
    steps x steps grid; see DiscriminatorField for what the values are under each loss."""
    _check_loss(loss)
    if steps < 2:
        raise ValueError(f"steps={steps} is too few; use at least 2 points per axis.")
    x_min, x_max, y_min, y_max = bounds
    xs, ys = np.linspace(x_min, x_max, steps), np.linspace(y_min, y_max, steps)
    grid_x, grid_y = np.meshgrid(xs, ys)  # [i, j] is the point (xs[j], ys[i])
    points = torch.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)).float()
    with torch.no_grad(), _eval_mode(discriminator):
        out = discriminator(points.to(_device(discriminator))).float().reshape(-1)
    kind: FieldKind = {"least_squares": "score", "wasserstein_gp": "critic"}.get(
        loss, "probability"
    )  # type: ignore[assignment]
    if kind == "probability":
        out = torch.sigmoid(out)
    values = out.cpu().numpy().astype(np.float64).reshape(steps, steps)
    return DiscriminatorField(xs, ys, values, kind)


def generator_gradients(
    generator: nn.Module, discriminator: nn.Module, z: torch.Tensor, loss: str
) -> GeneratorGradients:
    """G's samples for noise z (N, noise) and minus the gradient of each sample's own
    generator loss (the mode's, for `loss`) with respect to it: where the next generator
    step would like to move each point. The modules' weights get no gradients."""
    _check_loss(loss)
    with torch.no_grad(), _eval_mode(generator):
        fake = generator(z.to(_device(generator))).flatten(1)
    fake = fake.to(_device(discriminator)).requires_grad_(True)
    with _eval_mode(discriminator):
        per_row = generator_loss_per_row(discriminator(fake), loss)
        (grad,) = torch.autograd.grad(per_row.sum(), fake)
    points = fake.detach().cpu().numpy().astype(np.float64)
    return GeneratorGradients(points, -grad.cpu().numpy().astype(np.float64))


def mode_coverage(
    samples: torch.Tensor | np.ndarray,
    centres: torch.Tensor | np.ndarray,
    radius: float,
    min_count: int | None = None,
) -> ModeCoverage:
    """Coverage of `centres` (K, D) by `samples` (N, D): each sample counts for its nearest
    centre when within `radius`; a mode is covered with at least `min_count` samples
    (default: 20% of a fair share N / K, the rule the training metric uses)."""
    samples_t = torch.as_tensor(samples).flatten(1).float()
    centres_t = torch.as_tensor(centres).float()
    counts, near = count_near_centres(samples_t, centres_t, radius)
    needed = covered_threshold(len(samples_t), len(centres_t)) if min_count is None else min_count
    return ModeCoverage(
        covered=int((counts >= needed).sum()),
        counts=counts.cpu().numpy(),
        high_quality=float(near.float().mean()) if len(samples_t) else 0.0,
        radius=float(radius),
        min_count=int(needed),
    )


def sample_grid(
    generator: nn.Module, z_fixed: torch.Tensor, shape: tuple[int, ...] | None = None
) -> torch.Tensor:
    """G's rows for fixed noise (N, noise), on the CPU, reshaped to `shape` per row (the
    dataset's input_shape, e.g. (1, 8, 8) for digits) or left flat (N, D) without it.
    The same noise at each checkpoint shows how the same samples change over training."""
    with torch.no_grad(), _eval_mode(generator):
        out = generator(z_fixed.to(_device(generator)))
    return out.reshape(len(z_fixed), *(shape or out.shape[1:])).cpu()


def gan_noise(noise: int, seed: int = 0, count: int = COVERAGE_SAMPLES) -> torch.Tensor:
    """Fixed noise (count, noise) for a run's seed, the same on every machine. With the
    default count it is the noise the run's coverage metrics were counted on: feed it to
    sample_grid for exactly the samples they counted."""
    return fixed_noise(count, noise, seed)


def centres_of(dataset: Dataset) -> tuple[np.ndarray, float]:
    """The data's mode centres (K, D) (each class's mean on the training split) and the
    radius that counts as a mode, as the run's coverage metrics use them."""
    if not dataset.is_classification:
        raise PlaygroundError(
            f"Mode coverage needs a labelled dataset, and {dataset.title} is regression.",
            "Use a dataset whose classes are its modes, such as ring or gaussian_grid.",
        )
    centres, radius = mode_centres(dataset.train.x, dataset.train.y, len(dataset.class_names or []))
    return centres.numpy(), radius


def data_bounds(dataset: Dataset, padding: float = 0.1) -> Bounds:
    """(x_min, x_max, y_min, y_max) around every split's points of a 2-D dataset, widened by
    `padding` x the span on each side: the plane discriminator_field draws."""
    x = torch.cat([dataset.split(s).x for s in SPLIT_NAMES if len(dataset.split(s))]).float()
    lo, hi = x.min(dim=0).values.numpy(), x.max(dim=0).values.numpy()
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - padding * span, hi + padding * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def live_view(mode: GanMode) -> dict[str, Any]:
    """What the page draws while a GAN trains (GanMode.live_view, computed in the worker at
    each flush), as plain arrays that travel with the run's updates:

    kind "gan", loss          the run's GAN loss
    samples                   (n, *input_shape) float32: LIVE_SAMPLES rows (2-D data) or
                              LIVE_IMAGES rows (anything else), from the first n rows of
                              gan_noise(noise, seed), the coverage metrics' noise
    field                     2-D data: {"xs", "ys", "values", "kind"} of
                              discriminator_field over the data's plane, else None
    arrows                    2-D data: {"points", "directions"} (LIVE_ARROWS, N x 2) of
                              generator_gradients, else None
    counts, modes_covered     labelled 2-D data: samples per mode and modes covered (of
                              all COVERAGE_SAMPLES), else None
    """
    dataset, loss = mode.trainer.dataset, mode.opts.loss
    flat = dataset.kind == "toy2d" and mode.shape == (2,)
    count = LIVE_SAMPLES if flat else LIVE_IMAGES
    every = sample_grid(mode.generator, mode.coverage_noise, mode.shape)  # one pass for all
    samples = every[:count]
    view: dict[str, Any] = {
        "kind": "gan",
        "loss": loss,
        "samples": samples.numpy().astype(np.float32),
        "field": None,
        "arrows": None,
        "counts": None,
        "modes_covered": None,
    }
    if flat:
        field = discriminator_field(mode.discriminator, data_bounds(dataset), LIVE_STEPS, loss)
        view["field"] = {"xs": field.xs, "ys": field.ys, "values": field.values, "kind": field.kind}
        z = mode.coverage_noise[:LIVE_ARROWS]
        arrows = generator_gradients(mode.generator, mode.discriminator, z, loss)
        view["arrows"] = {"points": arrows.points, "directions": arrows.directions}
    if mode.centres is not None:
        coverage = mode_coverage(every, mode.centres.cpu(), mode.radius)
        view["counts"], view["modes_covered"] = coverage.counts, coverage.covered
    return view


def _check_loss(loss: str) -> None:
    if loss not in GAN_LOSSES:
        raise ValueError(f"Unknown GAN loss {loss!r}; use one of {', '.join(GAN_LOSSES)}.")


def _device(module: nn.Module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode (dropout off, BatchNorm's running statistics) for every submodule, each
    restored after."""
    before = {m: m.training for m in module.modules()}
    module.eval()
    try:
        yield
    finally:
        for m, training in before.items():
            m.training = training
