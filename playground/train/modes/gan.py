"""Generative adversarial training: a generator turns noise into data, a discriminator tells
real rows from generated ones, and they take turns (two modules, two optimisers).

Modules: "generator" (noise (`noise`,) -> prod(input_shape) features, flat; the mode reshapes
them to the data's shape) and "discriminator" (the data's input -> 1 number per row).

Losses (option `loss`), with D's output a logit l for the first three:

    standard        D: BCE(D(x), real) + BCE(D(G(z)), fake); G minimises log(1 - D(G(z))), the
                    minimax game of Goodfellow et al. Its gradient vanishes where D confidently
                    rejects the fakes, which is where G starts.
    non_saturating  D as above; G maximises log D(G(z)) (minimises -log D(G(z))): the same
                    fixed point with strong gradients early on. The default.
    least_squares   D: ((D(x) - 1)^2 + D(G(z))^2) / 2; G: (D(G(z)) - 1)^2 / 2 (LSGAN). D's
                    output is a score, real -> 1, fake -> 0, not a logit.
    wasserstein_gp  critic: D(G(z)) - D(x) + gp_weight (|grad D(x_hat)| - 1)^2 on random
                    blends x_hat of real and fake rows (WGAN-GP); G: -D(G(z)).

One trainer step is one discriminator update on the step's real rows against as many fakes;
every `d_steps`-th step the generator is updated too (with d_steps = 1, every step moves both),
so an epoch shows the discriminator every training row once.

The run's `loss` is the discriminator's, averaged over real and fake rows (with the gradient
penalty for WGAN-GP): the generator's loss rises whenever the discriminator improves, even in
a healthy run, while a discriminator that does worse than knowing nothing (`chance_loss`: it
cannot tell real from fake) is not learning. Epoch metrics: loss (= d_loss), d_loss, g_loss,
and, for labelled 2-D data, modes_covered and high_quality (see `count_near_centres`);
WGAN-GP adds wasserstein (D(x) - D(G(z)), the critic's distance estimate) and
gradient_penalty. Coverage is measured on the same fixed noise every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from playground.errors import TrainingError
from playground.model.build import DataSignature
from playground.model.spec import ModelSpec
from playground.train.modes.base import TrainingMode
from playground.train.modes.supervised import EVAL_BATCH

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.trainer import Trainer

GanLoss = Literal["standard", "non_saturating", "least_squares", "wasserstein_gp"]
GAN_LOSSES: tuple[str, ...] = get_args(GanLoss)
# One noise size for every dataset: 8 numbers are plenty for 2-D mixtures (2 would do) and
# give 8x8 digits some room; the app shows one default, so it does not depend on the data.
DEFAULT_NOISE = 8
# Generated rows the coverage metrics count, from the same noise every epoch.
COVERAGE_SAMPLES = 1000
# A generated point within RADIUS_STDS pooled within-class standard deviations of a mode's
# centre belongs to it (3 std holds 99% of a 2-D Gaussian's own points).
RADIUS_STDS = 3.0
# A mode is covered when it holds at least this share of a fair split of the samples
# (1/K each): 20% as in PacGAN's 25-Gaussian grid (20 of 100 per mode).
COVERED_SHARE = 0.2
# Random stream of the fixed evaluation noise, apart from the training noise's.
_EVAL_STREAM = 7


@dataclass(frozen=True)
class GanOptions:
    """The mode's options (RunRequest.mode_options), checked. `gp_weight` only counts with
    loss wasserstein_gp (the app sends every option whatever the loss)."""

    noise: int = DEFAULT_NOISE
    d_steps: int = 1
    loss: str = "non_saturating"
    gp_weight: float = 10.0

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> GanOptions:
        """Check mode options; raises TrainingError saying what to fix."""
        names = ("noise", "d_steps", "loss", "gp_weight")
        for key in options:
            if key not in names:
                raise TrainingError(
                    f"Mode 'gan' has no option '{key}'.", f"Its options are: {', '.join(names)}."
                )
        noise = _whole(options, "noise", cls.noise, "Try 8 (2 is enough for 2-D data).")
        d_steps = _whole(options, "d_steps", cls.d_steps, "Try 1; WGAN-GP often uses 5.")
        loss = options.get("loss", cls.loss)
        if loss not in GAN_LOSSES:
            raise TrainingError(
                f"Option 'loss' must be one of {', '.join(GAN_LOSSES)} (got {loss!r}).",
                "Try non_saturating, the usual choice.",
            )
        gp_weight = options.get("gp_weight", cls.gp_weight)
        if (
            isinstance(gp_weight, bool)
            or not isinstance(gp_weight, (int, float))
            or not gp_weight > 0
        ):
            raise TrainingError(
                f"Option 'gp_weight' must be a positive number (got {gp_weight!r}).",
                "Try 10, the WGAN-GP paper's weight.",
            )
        return cls(noise, d_steps, loss, float(gp_weight))


def _whole(options: Mapping[str, Any], key: str, default: int, hint: str) -> int:
    value = options.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 2.0 from a number box or JSON means 2
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrainingError(
            f"Option '{key}' must be a whole number, 1 or more (got {value!r}).", hint
        )
    return value


# -- losses (per row, so analysis can take each fake's own gradient) -----------------------
def loss_halves(
    real: torch.Tensor, fake: torch.Tensor, loss: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """D's loss on its real rows and on its fake rows (means), from its outputs (B, 1) on
    each; for WGAN-GP the mean outputs themselves."""
    if loss == "least_squares":
        return (real - 1).square().mean(), fake.square().mean()
    if loss == "wasserstein_gp":
        return real.mean(), fake.mean()
    bce = F.binary_cross_entropy_with_logits
    return bce(real, torch.ones_like(real)), bce(fake, torch.zeros_like(fake))


def discriminator_loss(real: torch.Tensor, fake: torch.Tensor, loss: str) -> torch.Tensor:
    """D's loss (without WGAN-GP's penalty) from its outputs on real and fake rows: the mean
    over both halves, so a constant D scores `equilibrium_loss`; the critic's D(fake) - D(x)."""
    on_real, on_fake = loss_halves(real, fake, loss)
    return on_fake - on_real if loss == "wasserstein_gp" else (on_real + on_fake) / 2


def generator_loss_per_row(fake: torch.Tensor, loss: str) -> torch.Tensor:
    """G's loss for each fake row (B,) from D's outputs on them (B, 1)."""
    out = fake.squeeze(-1)
    if loss == "standard":
        return -F.softplus(out)  # log(1 - sigmoid(l)), computed without overflow
    if loss == "non_saturating":
        return F.softplus(-out)  # -log sigmoid(l)
    if loss == "least_squares":
        return (out - 1).square() / 2
    return -out  # wasserstein_gp


def equilibrium_loss(options: GanOptions) -> float:
    """D's loss when it cannot tell real from fake (a constant output): log 2 for the BCE
    losses, 1/4 for least squares (output 1/2), gp_weight for WGAN-GP (zero gradient)."""
    if options.loss == "least_squares":
        return 0.25
    if options.loss == "wasserstein_gp":
        return options.gp_weight
    return math.log(2.0)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, blend: torch.Tensor
) -> torch.Tensor:
    """Mean (|grad critic(x_hat)| - 1)^2 at x_hat = blend * real + (1 - blend) * fake, with
    `blend` (B,) in [0, 1]; differentiable (the critic learns from it)."""
    weights = blend.view(-1, *([1] * (real.dim() - 1)))
    x_hat = (weights * real + (1 - weights) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


# -- noise, samples and mode coverage --------------------------------------------------------
def fixed_noise(count: int, size: int, seed: int = 0) -> torch.Tensor:
    """The same (count, size) standard normal noise for the same seed on every machine
    (drawn on the CPU): what evaluation, coverage and sample grids feed the generator."""
    state = int(np.random.SeedSequence([seed, _EVAL_STREAM]).generate_state(1)[0])
    return torch.randn(count, size, generator=torch.Generator().manual_seed(state))


def generate(generator: nn.Module, z: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """The generator's rows for noise z (B, noise), in the data's shape (B, *shape)."""
    return generator(z).reshape(len(z), *shape)


def mode_centres(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, float]:
    """Each class's mean row (K, D) as the data's mode centres, and the radius around them
    that counts as the mode: RADIUS_STDS x the pooled within-class std per coordinate."""
    flat = x.flatten(1).float()
    counts = torch.bincount(y, minlength=num_classes).clamp(min=1).unsqueeze(1)
    centres = torch.zeros(num_classes, flat.shape[1], device=flat.device)
    centres.index_add_(0, y, flat)
    centres /= counts
    spread = (flat - centres[y]).square().mean().sqrt()
    return centres, RADIUS_STDS * float(spread)


def count_near_centres(
    samples: torch.Tensor, centres: torch.Tensor, radius: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-mode counts (K,) of the samples (N, D) whose nearest centre is within `radius`,
    and which samples (N,) are (the "high quality" ones)."""
    distances = torch.cdist(samples.flatten(1).float(), centres.float())
    nearest, which = distances.min(dim=1)
    near = nearest <= radius
    return torch.bincount(which[near], minlength=len(centres)), near


def covered_threshold(samples: int, modes: int) -> int:
    """Samples a mode needs to count as covered: COVERED_SHARE of a fair share, at least 1."""
    return max(1, math.ceil(COVERED_SHARE * samples / max(modes, 1)))


class GanMode(TrainingMode):
    name: ClassVar[str] = "gan"
    title: ClassVar[str] = "GAN: a generator learns to make data a discriminator cannot tell apart"
    module_names: ClassVar[tuple[str, ...]] = ("generator", "discriminator")
    draws_boundary: ClassVar[bool] = False
    option_defaults: ClassVar[dict[str, Any]] = {
        "noise": GanOptions.noise,
        "d_steps": GanOptions.d_steps,
        "loss": GanOptions.loss,
        "gp_weight": GanOptions.gp_weight,
    }
    option_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"loss": GAN_LOSSES}
    # Measured on the ring with the default stacks: lr 0.01 covered 0-1 of 8 modes, 0.001
    # covered 7-8.
    suggested_config: ClassVar[dict[str, Any]] = {"lr": 0.001}
    suggestion_reason: ClassVar[str] = (
        "GANs need a small learning rate: at 0.01 the two networks overshoot each other."
    )
    # Flatten first, so one discriminator fits 2-D points and images alike.
    default_stacks: ClassVar[dict[str, str]] = {
        "generator": "linear:64 relu linear:64 relu linear",
        "discriminator": "flatten linear:64 leakyrelu:0.2 linear:64 leakyrelu:0.2 linear",
    }

    @classmethod
    def signatures(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, DataSignature]:
        cls.check_modules(specs)
        if not dataset.train.x.is_floating_point():
            raise TrainingError(
                f"A GAN generates real-valued rows, and {dataset.title} is token sequences.",
                "Choose a numeric dataset (a 2-D toy such as ring, tabular data or digits).",
            )
        opts = GanOptions.parse(options)
        shape = tuple(dataset.input_shape)
        return {
            "generator": DataSignature((opts.noise,), math.prod(shape), "features"),
            "discriminator": DataSignature(shape, 1, "features"),
        }

    # -- training ------------------------------------------------------------------------
    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, cfg, device = trainer.dataset, trainer.config, trainer.device
        _refuse_label_options(trainer)
        self.opts = GanOptions.parse(options)
        self.shape = tuple(dataset.input_shape)
        self.generator: nn.Module = trainer.modules["generator"].module
        self.discriminator: nn.Module = trainer.modules["discriminator"].module
        self.g_params = list(self.generator.parameters())
        self.x = dataset.train.x.to(device)
        # The run's own training noise: same seed, same run.
        self.noise = torch.Generator(device=device).manual_seed(cfg.seed)
        # Evaluation sees the same noise (and WGAN-GP blends) every epoch, so its numbers
        # move with the generator, not with the draw.
        bank = max(len(dataset.train), len(dataset.val), len(dataset.test))
        self.eval_noise = fixed_noise(bank, self.opts.noise, cfg.seed).to(device)
        self.coverage_noise = fixed_noise(COVERAGE_SAMPLES, self.opts.noise, cfg.seed).to(device)
        self.eval_blend = torch.rand(bank, generator=torch.Generator().manual_seed(cfg.seed))
        self.eval_blend = self.eval_blend.to(device)
        self.centres: torch.Tensor | None = None
        self.radius = 0.0
        if dataset.kind == "toy2d" and dataset.is_classification and len(dataset.train):
            self.centres, self.radius = mode_centres(
                self.x, dataset.train.y.to(device), len(dataset.class_names or [])
            )
        self.score_name = "modes_covered" if self.centres is not None else "g_loss"
        self._sums = torch.zeros(3, device=device)  # [d_loss, g_loss, penalty] x rows
        self._counts = [0, 0]  # rows seen by D steps, by G steps
        self._no_penalty = torch.zeros((), device=device)

    def chance_loss(self) -> float | None:
        return equilibrium_loss(self.opts)

    def live_view(self) -> dict[str, Any]:
        # Here, not at the top: the analysis builds on this module.
        from playground.analysis.gan import live_view

        return live_view(self)

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._sums = torch.zeros(3, device=self.x.device)
        self._counts = [0, 0]

    def sample(self, count: int) -> torch.Tensor:
        z = torch.randn(count, self.opts.noise, generator=self.noise, device=self.x.device)
        return generate(self.generator, z, self.shape)

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        trainer, n = self.trainer, len(idx)
        d_loss, penalty = self._discriminator_step(self.x[idx])
        self._sums[0].add_(d_loss, alpha=n)
        self._sums[2].add_(penalty, alpha=n)
        self._counts[0] += n
        if (trainer.state.step + 1) % self.opts.d_steps == 0:
            self._sums[1].add_(self._generator_step(n), alpha=n)
            self._counts[1] += n
        return d_loss

    def _discriminator_step(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            fake = self.sample(len(real))
        d = self.discriminator
        loss = discriminator_loss(d(real), d(fake), self.opts.loss)
        penalty = self._no_penalty
        if self.opts.loss == "wasserstein_gp":
            blend = torch.rand(len(real), generator=self.noise, device=real.device)
            penalty = gradient_penalty(d, real, fake, blend)
            loss = loss + self.opts.gp_weight * penalty
        self._update("discriminator", loss)
        return loss.detach(), penalty.detach()

    def _generator_step(self, count: int) -> torch.Tensor:
        loss = generator_loss_per_row(self.discriminator(self.sample(count)), self.opts.loss).mean()
        # Only G's gradients: D's keep those of its own update (what gradient stats show).
        self._update("generator", loss, inputs=self.g_params)
        return loss.detach()

    def _update(
        self, name: str, loss: torch.Tensor, inputs: list[nn.Parameter] | None = None
    ) -> None:
        trainer = self.trainer
        trainer.steps[name].zero_grad()
        loss.backward(inputs=inputs)
        self.step_module(name)

    def end_epoch(self) -> dict[str, float]:
        d_sum, g_sum, penalty_sum = self._sums.tolist()
        d_rows, g_rows = self._counts
        # An epoch shorter than d_steps has no G step: score the generator as it stands.
        g_loss = g_sum / g_rows if g_rows else self.evaluate_tensors(self.x)["g_loss"]
        metrics = {"loss": d_sum / max(d_rows, 1), "g_loss": g_loss}
        metrics["d_loss"] = metrics["loss"]
        if self.opts.loss == "wasserstein_gp":
            metrics["gradient_penalty"] = penalty_sum / max(d_rows, 1)
            metrics["wasserstein"] = (
                self.opts.gp_weight * metrics["gradient_penalty"] - metrics["loss"]
            )
        metrics.update(self.coverage())
        return metrics

    def evaluate(self, split: Split) -> dict[str, float]:
        """D's loss on the split's real rows against as many fakes from the fixed noise, G's
        loss on those fakes, and the coverage metrics (the same for every split)."""
        metrics = self.evaluate_tensors(split.x.to(self.x.device))
        metrics.update(self.coverage())
        return metrics

    def evaluate_tensors(self, x: torch.Tensor) -> dict[str, float]:
        loss, device = self.opts.loss, self.x.device
        sums = torch.zeros(4, device=device)  # [D on real, D on fake, G loss, penalty] x rows
        with _eval_mode(self.generator, self.discriminator):
            for start in range(0, len(x), EVAL_BATCH):
                real = x[start : start + EVAL_BATCH]
                n = len(real)
                with torch.no_grad():
                    fake = generate(self.generator, self.eval_noise[start : start + n], self.shape)
                    real_out, fake_out = self.discriminator(real), self.discriminator(fake)
                    # The halves' means, weighted by rows, so chunks add up to the split's.
                    parts = loss_halves(real_out, fake_out, loss)
                    g = generator_loss_per_row(fake_out, loss).sum()
                sums[:3] += torch.stack([parts[0] * n, parts[1] * n, g])
                if loss == "wasserstein_gp":
                    with torch.enable_grad():
                        blend = self.eval_blend[start : start + n]
                        penalty = gradient_penalty(self.discriminator, real, fake, blend)
                    sums[3] += penalty.detach() * n
        rows = max(len(x), 1)
        real_sum, fake_sum, g_sum, penalty_sum = (v / rows for v in sums.tolist())
        d_loss = (real_sum + fake_sum) / 2 if loss != "wasserstein_gp" else fake_sum - real_sum
        metrics = {"g_loss": g_sum}
        if loss == "wasserstein_gp":
            metrics["wasserstein"] = -d_loss
            metrics["gradient_penalty"] = penalty_sum
            d_loss += self.opts.gp_weight * penalty_sum
        metrics["loss"] = metrics["d_loss"] = d_loss
        return metrics

    def coverage(self) -> dict[str, float]:
        """modes_covered and high_quality of COVERAGE_SAMPLES fakes, for labelled 2-D data."""
        if self.centres is None:
            return {}
        with torch.no_grad(), _eval_mode(self.generator):
            fake = generate(self.generator, self.coverage_noise, self.shape)
        counts, near = count_near_centres(fake, self.centres, self.radius)
        needed = covered_threshold(COVERAGE_SAMPLES, len(self.centres))
        covered, share = torch.stack(
            [(counts >= needed).sum().float(), near.float().mean()]
        ).tolist()
        return {"modes_covered": covered, "high_quality": share}


@contextmanager
def _eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Modules in eval mode (dropout off, BatchNorm's running statistics), restored after."""
    before = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, training in zip(modules, before, strict=True):
            m.train(training)


def _refuse_label_options(trainer: Trainer) -> None:
    """Options about the labels' loss would be silently ignored here: refuse them."""
    cfg = trainer.config
    if cfg.loss != "auto":
        raise TrainingError(
            f"A GAN's losses are set by its 'loss' option, not the training loss '{cfg.loss}'.",
            "Set the training loss to 'auto' and choose the GAN loss in the mode's options.",
        )
    if cfg.early_stopping_patience:
        raise TrainingError(
            "Early stopping watches the validation loss, which for a GAN is the "
            "discriminator's: it rises when the generator gets better, so the run would stop "
            "(and keep the weights) where the discriminator was winning.",
            "Turn early stopping off; watch the modes covered and the samples instead.",
        )
    if cfg.class_weighting or trainer.sample_weights is not None or cfg.l1:
        raise TrainingError(
            "Class weighting, reweighing and the L1 penalty act on a supervised loss; a GAN "
            "has none.",
            "Turn them off for this mode (L2, weight decay, works per module).",
        )
