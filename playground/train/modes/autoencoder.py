"""Autoencoders: an encoder squeezes each input into a small code, a decoder rebuilds the input.

Three modes share one step:

    autoencoder   rebuild x from encoder(x)
    denoising     rebuild the clean x from encoder(x + noise · N(0, I)); noise in training only
    vae           the encoder gives a mean and a log-variance per code dimension; the decoder
                  rebuilds x from a code sampled as z = mu + sigma · eps, and a KL term pulls
                  the codes towards N(0, I), so decoding N(0, I) samples gives data-like inputs

The modules are "encoder" (the dataset's input -> `latent` features, 2 x latent for the VAE)
and "decoder" (latent -> prod(input_shape) features, flat: the loss compares them with the
flattened input, playground.analysis.autoencoder gives them back in the input's shape). Both
are updated together from one loss every step.

Loss units. The reconstruction error is the mean squared error per input element, so its
scale does not grow with the input's size (8x8 digits or 2 toy features), the same learning
rate works for both, and a decoder that outputs the training mean scores the data's variance
per element (0.07 for digits in [0, 1], ~1 for standardised tabular features, 0.2-0.5
for the 2-D toys): that is `chance_loss`. The VAE's KL is in nats per example (summed over code dimensions), and
enters the loss divided by the number of input elements D:

    loss = recon + kl_weight · kl / D   =   (sum of squared errors + kl_weight · kl) / D

which is, up to a constant, the negative ELBO per input element of a decoder with Gaussian
noise of variance 1/2 (kl_weight = 1): the loss stays on the per-element scale of the other
modes' losses while its two terms keep the ELBO's proportions. That noise is large beside
pixels in [0, 1] (variance ~0.07 per pixel on digits), so there kl_weight 1 lets the KL win
and the codes carry little (0.2 nats measured, a 2-D code); 0.25 gives ~3 nats, 0.1 ~4.

Training numbers are the epoch's batches as trained (noisy inputs, sampled codes, anomaly
class left out); `evaluate` reports every row of a split on clean inputs through the mean
code, so the validation loss is deterministic (early stopping and plateau schedules watch it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from playground.errors import TrainingError
from playground.model.build import DataSignature
from playground.model.spec import ModelSpec
from playground.train.modes.base import TrainingMode
from playground.train.modes.supervised import EVAL_BATCH

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.trainer import Trainer

# Log-variances outside this range give sigma ~ 0 or huge: the exp overflows long before
# such codes mean anything, so they are clamped (the gradient stops there).
LOGVAR_RANGE = (-10.0, 10.0)


@dataclass(frozen=True)
class AutoencoderOptions:
    """A mode's options (RunRequest.mode_options), checked."""

    latent: int = 2
    noise: float = 0.3  # denoising: std of the Gaussian noise added to training inputs
    # vae: weight of the KL term (beta). 0.25, not 1: on pixels in [0, 1] a weight of 1 lets
    # the KL win and the codes collapse (digits: KL 0.2 nats, recon no better than the mean;
    # at 0.25: KL 2.9 nats, recon 0.036 against the mean's 0.074).
    kl_weight: float = 0.25
    anomaly_class: int | None = None  # train only on rows of the other classes


def _defaults(*names: str) -> dict[str, Any]:
    return {name: getattr(AutoencoderOptions, name) for name in names}


def split_code(out: torch.Tensor, latent: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An encoder's output (B, latent) or (B, 2·latent) -> the code (mean) and, for a VAE's
    wider output, its log-variance (clamped), else None."""
    if out.shape[-1] == latent:
        return out, None
    return out[:, :latent], out[:, latent:].clamp(*LOGVAR_RANGE)


def kl_per_example(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) in nats for each row, shape (B,)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=1)


def row_errors(
    encoder: nn.Module, decoder: nn.Module, x: torch.Tensor, latent: int
) -> torch.Tensor:
    """Mean squared reconstruction error per row (B,) of x through the mean code."""
    mu, _ = split_code(encoder(x), latent)
    return (decoder(mu) - x.flatten(1)).square().mean(dim=1)


class AutoencoderMode(TrainingMode):
    """Plain autoencoder; the denoising mode overrides `corrupt`, the VAE sets `variational`."""

    name: ClassVar[str] = "autoencoder"
    title: ClassVar[str] = "Autoencoder: squeeze each input into a small code and rebuild it"
    module_names: ClassVar[tuple[str, ...]] = ("encoder", "decoder")
    draws_boundary: ClassVar[bool] = False
    # Options this mode takes (a typo or another mode's option is refused, not ignored).
    variational: ClassVar[bool] = False
    score_name: str = "recon"  # reconstruction MSE per element: lower is better
    # The options this mode takes, with AutoencoderOptions' defaults (a typo or another mode's
    # option is refused, not ignored).
    option_defaults: ClassVar[dict[str, Any]] = _defaults("latent", "anomaly_class")
    default_stacks: ClassVar[dict[str, str]] = {
        "encoder": "flatten linear:64 relu linear",
        "decoder": "linear:64 relu linear",
    }
    LIVE_POINTS: ClassVar[int] = 300  # test codes sent with each update
    LIVE_SAMPLES: ClassVar[int] = 6  # originals beside their reconstructions

    # -- the modules' data -----------------------------------------------------------------
    @classmethod
    def parse_options(cls, dataset: Dataset, options: Mapping[str, Any]) -> AutoencoderOptions:
        """Check the mode options against the dataset; raises TrainingError saying what to fix."""
        takes = ", ".join(cls.option_defaults)
        for key in options:
            if key not in cls.option_defaults:
                owner = next((m.name for m in AUTOENCODER_MODES if key in m.option_defaults), None)
                where = f" (an option of mode '{owner}')" if owner else ""
                raise TrainingError(
                    f"Mode '{cls.name}' has no option '{key}'{where}.",
                    f"Its options are: {takes}.",
                )
        latent = options.get("latent", AutoencoderOptions.latent)
        if isinstance(latent, float) and latent.is_integer():
            latent = int(latent)  # 2.0 from a number box or JSON means 2
        if not isinstance(latent, int) or isinstance(latent, bool) or latent < 1:
            raise TrainingError(
                f"Option 'latent' must be a whole number of code dimensions, at least 1 "
                f"(got {latent!r}).",
                "Try 2: codes you can plot as points.",
            )
        noise = _number(options, "noise", AutoencoderOptions.noise, "Try 0.3.")
        kl_weight = _number(options, "kl_weight", AutoencoderOptions.kl_weight, "Try 0.25.")
        anomaly = options.get("anomaly_class")
        if anomaly is not None:
            _check_anomaly_class(dataset, anomaly)
        return AutoencoderOptions(latent, noise, kl_weight, anomaly)

    @classmethod
    def code_width(cls, latent: int) -> int:
        """The encoder's output width: the code, or its mean and log-variance (VAE)."""
        return 2 * latent if cls.variational else latent

    @classmethod
    def signatures(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, DataSignature]:
        cls.check_modules(specs)
        if not dataset.train.x.is_floating_point():
            raise TrainingError(
                f"Mode '{cls.name}' rebuilds its input, and {dataset.title} is token "
                "sequences: a squared error between token ids means nothing.",
                "Choose a numeric dataset (a toy, tabular data or images).",
            )
        opts = cls.parse_options(dataset, options)
        shape = tuple(dataset.input_shape)
        return {
            "encoder": DataSignature(shape, cls.code_width(opts.latent), "features"),
            "decoder": DataSignature((opts.latent,), math.prod(shape), "features"),
        }

    # -- training --------------------------------------------------------------------------
    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, cfg, device = trainer.dataset, trainer.config, trainer.device
        _refuse_label_options(trainer)
        self.opts = self.parse_options(dataset, options)
        self.encoder: nn.Module = trainer.modules["encoder"].module
        self.decoder: nn.Module = trainer.modules["decoder"].module
        self.size = math.prod(dataset.input_shape)  # D: input elements per row
        x = dataset.train.x
        if self.opts.anomaly_class is not None:
            x = x[dataset.train.y != self.opts.anomaly_class]
        self.x = x.to(device)
        # The run's own randomness (noise, sampled codes): same seed, same run.
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed)
        self.l1_params = (
            [p for m in (self.encoder, self.decoder) for p in m.parameters() if p.dim() >= 2]
            if cfg.l1
            else []
        )
        self._sums = torch.zeros(3, device=device)  # [loss, recon, kl] x rows
        self._count = 0

    @property
    def train_size(self) -> int:
        return len(self.x)  # the epoch's permutation covers only the rows trained on

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder sees in training (denoising adds noise here)."""
        return x

    def losses(
        self, inputs: torch.Tensor, target: torch.Tensor, sample: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Batch means of (loss, recon, kl) for rebuilding `target` from `inputs`; `sample`
        draws the VAE's code (training) instead of taking its mean (evaluation)."""
        mu, logvar = split_code(self.encoder(inputs), self.opts.latent)
        if logvar is None:
            code, kl = mu, torch.zeros((), device=mu.device)
        else:
            kl = kl_per_example(mu, logvar).mean()
            code = mu
            if sample:  # reparameterised, so the gradient reaches mu and sigma
                eps = torch.randn(mu.shape, generator=self.generator, device=mu.device)
                code = mu + (0.5 * logvar).exp() * eps
        recon = (self.decoder(code) - target.flatten(1)).square().mean()
        return recon + self.opts.kl_weight * kl / self.size, recon, kl

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        trainer = self.trainer
        x = self.x[idx]
        loss, recon, kl = self.losses(self.corrupt(x), x, sample=True)
        if self.l1_params:
            loss = loss + trainer.config.l1 * sum(p.abs().sum() for p in self.l1_params)
        for steps in trainer.steps.values():
            steps.zero_grad()
        loss.backward()
        for name in self.module_names:
            self.step_module(name)
        loss = loss.detach()
        self._sums.add_(torch.stack([loss, recon.detach(), kl.detach()]), alpha=len(idx))
        self._count += len(idx)
        return loss

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._sums = torch.zeros(3, device=self.x.device)
        self._count = 0

    def end_epoch(self) -> dict[str, float]:
        loss, recon, kl = (s / max(self._count, 1) for s in self._sums.tolist())
        return self._metrics(loss, recon, kl)

    def _metrics(self, loss: float, recon: float, kl: float) -> dict[str, float]:
        metrics = {"loss": loss, "recon": recon}
        if self.variational:
            metrics["kl"] = kl
        return metrics

    @torch.no_grad()
    def evaluate(self, split: Split) -> dict[str, float]:
        """Every row of the split, clean, through the mean code: loss, recon (MSE per
        element), kl (vae, nats per row) and, with an anomaly class, `anomaly_auc` (ROC AUC
        of the per-row error for that class against the rest; needs both in the split)."""
        modes = self.encoder.training, self.decoder.training
        self.encoder.eval()
        self.decoder.eval()
        device = self.x.device
        x = split.x.to(device)
        errors, kl_sum = [], torch.zeros((), device=device)
        for start in range(0, len(x), EVAL_BATCH):
            xb = x[start : start + EVAL_BATCH]
            mu, logvar = split_code(self.encoder(xb), self.opts.latent)
            errors.append((self.decoder(mu) - xb.flatten(1)).square().mean(dim=1))
            if logvar is not None:
                kl_sum += kl_per_example(mu, logvar).sum()
        self.encoder.train(modes[0])
        self.decoder.train(modes[1])
        per_row = torch.cat(errors) if errors else torch.zeros(0, device=device)
        n = max(len(x), 1)
        recon, kl = float(per_row.sum()) / n, float(kl_sum) / n
        metrics = self._metrics(recon + self.opts.kl_weight * kl / self.size, recon, kl)
        anomaly = anomaly_class(self.trainer.dataset, self.options)
        if anomaly is not None:
            is_anomaly = (split.y == anomaly).numpy()
            if 0 < is_anomaly.sum() < len(is_anomaly):
                # Here, not at the top: every trainer imports the modes, few runs need it.
                from sklearn.metrics import roc_auc_score

                metrics["anomaly_auc"] = float(roc_auc_score(is_anomaly, per_row.cpu().numpy()))
        return metrics

    def live_view(self) -> dict[str, Any]:
        return autoencoder_live_view(self)

    def chance_loss(self) -> float | None:
        """The data's variance per element (of the rows trained on): the loss of a decoder
        that outputs the training mean whatever the code (a VAE's KL is then 0)."""
        flat = self.x.flatten(1)
        return float(flat.var(dim=0, unbiased=False).mean())


def autoencoder_live_view(mode: AutoencoderMode) -> dict[str, Any]:
    """The test split's codes (at most LIVE_POINTS, the same rows each time) and a few
    originals beside their reconstructions, for the page to draw while the run trains."""
    from playground.analysis.autoencoder import latent_codes, reconstructions

    trainer = mode.trainer
    dataset = trainer.dataset
    encoder, decoder = trainer.modules["encoder"], trainer.modules["decoder"]
    codes = latent_codes(encoder, dataset, "test", mode.name)
    step = max(1, len(codes.points) // mode.LIVE_POINTS)
    rows = list(range(min(mode.LIVE_SAMPLES, len(dataset.test))))
    originals, rebuilt = reconstructions(encoder, decoder, dataset, "test", rows)
    return {
        "kind": "autoencoder",
        "points": codes.points[::step].astype(np.float32),
        "labels": codes.labels[::step],
        "explained_variance": codes.explained_variance,
        "rows": rows,
        "originals": originals.astype(np.float32),
        "reconstructions": rebuilt.astype(np.float32),
    }


class DenoisingMode(AutoencoderMode):
    name: ClassVar[str] = "denoising"
    title: ClassVar[str] = "Denoising autoencoder: rebuild the clean input from a noisy one"
    option_defaults: ClassVar[dict[str, Any]] = _defaults("latent", "noise", "anomaly_class")

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        # Only the encoder's input is noisy: the loss's target stays the clean x.
        eps = torch.randn(x.shape, generator=self.generator, device=x.device)
        return x + self.opts.noise * eps


class VariationalMode(AutoencoderMode):
    name: ClassVar[str] = "vae"
    title: ClassVar[str] = "Variational autoencoder: codes that N(0, I) samples decode from"
    option_defaults: ClassVar[dict[str, Any]] = _defaults("latent", "kl_weight", "anomaly_class")
    variational: ClassVar[bool] = True


AUTOENCODER_MODES: tuple[type[AutoencoderMode], ...] = (
    AutoencoderMode,
    DenoisingMode,
    VariationalMode,
)
AUTOENCODER_NAMES: tuple[str, ...] = tuple(m.name for m in AUTOENCODER_MODES)


def _number(options: Mapping[str, Any], key: str, default: float, hint: str) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise TrainingError(
            f"Option '{key}' must be a finite number, 0 or more (got {value!r}).", hint
        )
    return float(value)


def anomaly_class(dataset: Dataset, options: Mapping[str, Any]) -> int | None:
    """The class whose rows are anomalies for this run: the one held out of training (the
    mode's `anomaly_class`), else the outliers the dataset option injected, else None."""
    held_out = options.get("anomaly_class")
    if held_out is not None:
        return int(held_out)
    # Imported here: the data options import the registry, which imports the modes' users.
    from playground.data.outliers import outlier_class_index

    return outlier_class_index(dataset)


def _check_anomaly_class(dataset: Dataset, anomaly: Any) -> None:
    names = dataset.class_names or []
    if not dataset.is_classification:
        raise TrainingError(
            f"Option 'anomaly_class' needs a dataset with classes; {dataset.title} is regression.",
            "Leave it out, or choose a classification dataset.",
        )
    if isinstance(anomaly, bool) or not isinstance(anomaly, int) or not 0 <= anomaly < len(names):
        listed = ", ".join(f"{i} ({n})" for i, n in enumerate(names))
        raise TrainingError(
            f"Option 'anomaly_class' must be a class index (got {anomaly!r}).",
            f"Choose one of: {listed}.",
        )
    if bool((dataset.train.y == anomaly).all()):
        raise TrainingError(
            f"Every training row is of class {names[anomaly]}: leaving it out leaves nothing "
            "to train on.",
            "Choose another class.",
        )


def _refuse_label_options(trainer: Trainer) -> None:
    """Options about the labels' loss would be silently ignored here: refuse them."""
    cfg = trainer.config
    if cfg.loss not in ("auto", "mse"):
        raise TrainingError(
            f"An autoencoder's loss is the squared reconstruction error, not '{cfg.loss}'.",
            "Set the loss to 'auto' (or 'mse').",
        )
    if cfg.class_weighting or trainer.sample_weights is not None:
        raise TrainingError(
            "Class weighting and reweighing weigh rows by their labels; an autoencoder's "
            "loss does not use the labels.",
            "Turn them off for this mode.",
        )
