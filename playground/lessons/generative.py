"""Lessons on generative models: an autoencoder's 2-D map and anomalies, a GAN's collapse."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.analysis.autoencoder import latent_codes
from playground.analysis.gan import centres_of, gan_noise, mode_coverage, sample_grid
from playground.charts.autoencoder import latent_scatter
from playground.charts.lessons import generated_scatter, variant_bars
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    register_lesson,
)
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest
from playground.train.modes.gan import GanOptions

# -- 10. Autoencoder ---------------------------------------------------------------------------
ENCODER = "flatten linear:64 relu linear"
DECODER = "linear:64 relu linear sigmoid"
# One injected outlier per ten digits in the validation and test splits; training stays clean.
DIGITS_OUTLIERS = {"outliers": 0.1}
AE_CONFIG = {"epochs": 40, "lr": 0.005, "batch_size": 32, "seed": 0}


def _autoencoder(latent: int) -> RunRequest:
    return RunRequest.parse(
        {
            "dataset": "digits",
            "dataset_params": DIGITS_OUTLIERS,
            "modules": {"encoder": parse_layers(ENCODER), "decoder": parse_layers(DECODER)},
            "mode": "autoencoder",
            "mode_options": {"latent": latent},
            "config": AE_CONFIG,
        }
    )


def _ae_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for key, name in (("two", "2 numbers"), ("eight", "8 numbers")):
        out[f"{key}_recon"] = results[name].final["test_recon"]
        out[f"{key}_auc"] = results[name].final["test_anomaly_auc"]
    return out


def _ae_say(m: dict[str, float]) -> str:
    return (
        f"Squeezed into 2 numbers, the 64 pixels come back with a mean squared error of "
        f"{m['two_recon']:.4f}, and ranking test rows by that error puts an injected outlier "
        f"above a real digit {100 * m['two_auc']:.1f}% of the time (ROC AUC "
        f"{m['two_auc']:.3f}). With 8 numbers: error {m['eight_recon']:.4f}, AUC "
        f"{m['eight_auc']:.3f}."
    )


def _ae_figures(results: LessonResults) -> list[go.Figure]:
    run = results.loaded("2 numbers")
    codes = latent_codes(run.modules["encoder"], run.dataset, "test", "autoencoder")
    fig = latent_scatter(
        codes.points, codes.labels, run.dataset.class_names, codes.explained_variance
    )
    fig.update_layout(title="The 2-D map of the test digits (outliers included)")
    names = ("2 numbers", "8 numbers")
    auc = {n: results[n].final["test_anomaly_auc"] for n in names}
    return [fig, variant_bars(auc, "Finding the outliers: ROC AUC", "AUC (1 = perfect)")]


register_lesson(
    Lesson(
        id="autoencoder",
        title="An autoencoder maps digits to 2-D and flags anomalies",
        question="Can a network squeeze a digit into two numbers, and spot what is not a digit?",
        explanation=(
            "An autoencoder is two networks: an encoder squeezes each 8x8 image (64 pixels) "
            "into a few numbers, its code, and a decoder rebuilds the image from the code. "
            "Trained only to rebuild, it must keep what digits have in common: with 2 numbers "
            "the codes form a map where similar digits sit together. An image unlike the "
            "training digits (here: outliers made of pixels from different digits) rebuilds "
            "badly, so a high rebuild error flags an anomaly."
        ),
        variants=(
            Variant("2 numbers", _autoencoder(2), note="latent size 2"),
            Variant("8 numbers", _autoencoder(8), note="latent size 8"),
        ),
        measure=_ae_measure,
        say=_ae_say,
        compare=_ae_figures,
        try_next=(
            TryNext("2 numbers", "build", "Make the encoder deeper, or try mode 'vae'."),
            TryNext("2 numbers", "train", "Train it, then open it on the Generative page."),
        ),
        topic="Generative models",
        seconds=4.0,
    )
)

# -- 11. GAN -------------------------------------------------------------------------------
GAN_MLP = "linear:64 relu linear:64 relu linear"
RING = {"n_samples": 1000, "std": 0.1}


def _gan(**fields: object) -> RunRequest:
    # The good setup of tests/test_gan.py: least squares, Adam 1e-3, 150 epochs of batch 64.
    return RunRequest.parse(
        {
            "dataset": "ring",
            "dataset_params": RING,
            "modules": {"generator": parse_layers(GAN_MLP), "discriminator": parse_layers(GAN_MLP)},
            "mode": "gan",
            "mode_options": {"loss": "least_squares"},
            "config": {"epochs": 150, "lr": 1e-3, "batch_size": 64, "seed": 0},
            **fields,
        }
    )


GAN_VARIANTS = ("balanced", "generator 3x faster")


def _gan_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for key, name in zip(("good", "bad"), GAN_VARIANTS, strict=True):
        out[f"{key}_modes"] = results[name].final["test_modes_covered"]
        out[f"{key}_quality"] = results[name].final["test_high_quality"]
    return out


def _gan_say(m: dict[str, float]) -> str:
    return (
        f"With both networks learning at 0.001, the generator's samples cover "
        f"{m['good_modes']:.0f} of the ring's 8 clusters ({100 * m['good_quality']:.0f}% of "
        f"samples close to one). With the generator learning 3 times faster it collapses onto "
        f"{m['bad_modes']:.0f} ({100 * m['bad_quality']:.0f}% of samples close to a cluster: "
        f"good-looking samples, all alike)."
    )


def _gan_samples(results: LessonResults, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    run = results.loaded(name)
    options = run.record.request.get("mode_options", {})
    noise = gan_noise(int(options.get("noise", GanOptions.noise)), run.config.seed)
    samples = sample_grid(run.modules["generator"].module, noise).numpy()
    centres, radius = centres_of(run.dataset)
    covered = mode_coverage(samples, centres, radius).covered
    return run.dataset.test.x.numpy(), samples, covered


def _gan_figures(results: LessonResults) -> list[go.Figure]:
    figures = []
    for name in GAN_VARIANTS:
        real, fake, covered = _gan_samples(results, name)
        figures.append(generated_scatter(real, fake, f"{name}: {covered} of 8 clusters covered"))
    return figures


register_lesson(
    Lesson(
        id="gan",
        title="A GAN learns a distribution, or collapses",
        question="Can a generator learn to draw points from eight clusters, and what goes wrong?",
        explanation=(
            "A GAN (generative adversarial network) is two networks in a contest: the "
            "generator turns random noise into points, the discriminator learns to tell them "
            "from real ones, and the generator learns from the discriminator's mistakes. When "
            "the generator learns much faster than the discriminator can keep up, it finds a "
            "few points that fool the discriminator and puts everything there: mode collapse, "
            "good samples that are all alike."
        ),
        variants=(
            Variant(GAN_VARIANTS[0], _gan(), note="both learning rates 0.001"),
            Variant(
                GAN_VARIANTS[1],
                _gan(module_configs={"generator": {"lr": 3e-3}}),
                note="generator learning rate 0.003",
            ),
        ),
        measure=_gan_measure,
        say=_gan_say,
        compare=_gan_figures,
        try_next=(
            TryNext(GAN_VARIANTS[1], "train", "Watch the collapse live on the Train page."),
            TryNext(GAN_VARIANTS[0], "build", "Try another loss or more discriminator steps."),
        ),
        topic="Generative models",
        seconds=5.0,
    )
)
