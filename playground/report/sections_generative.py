"""The report's section for autoencoder and GAN runs: each module's size, what the run's
numbers mean, and the pictures that show what the model learnt (codes, reconstructions, the
anomaly score; a GAN's samples over its discriminator's field and the modes it covers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.analysis import autoencoder as ae
from playground.analysis import gan
from playground.charts import autoencoder as ae_charts
from playground.charts import gan as gan_charts
from playground.errors import PlaygroundError
from playground.model.shorthand import format_layers
from playground.model.spec import ModelSpec
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun
from playground.train.modes.autoencoder import AUTOENCODER_NAMES, anomaly_class
from playground.train.modes.gan import COVERAGE_SAMPLES, covered_threshold


def generative_section(run: LoadedRun) -> Section | None:
    """The section for a generative run, or None for a supervised one."""
    mode = run.record.mode
    if mode not in (*AUTOENCODER_NAMES, "gan"):
        return None
    section = Section(
        "Generative model", facts={"mode": mode, **run.record.request.get("mode_options", {})}
    )
    modules = pd.DataFrame(
        [
            {
                "module": name,
                "layers": format_layers(ModelSpec.parse(run.record.module_specs[name])),
                "input": str(built.input_shape),
                "output": str(built.output_shape),
                "parameters": built.total_params,
            }
            for name, built in run.modules.items()
        ]
    )
    section.tables.append(Table("Modules", modules))
    if mode in AUTOENCODER_NAMES:
        _autoencoder(run, section)
    else:
        _gan(run, section)
    return section


def _autoencoder(run: LoadedRun, section: Section) -> None:
    dataset = run.dataset
    encoder, decoder = run.modules["encoder"], run.modules["decoder"]
    section.paragraphs.append(
        "The encoder squeezes each input into a small code and the decoder rebuilds the input "
        "from it; 'recon' is the mean squared error per input value (lower is better)."
    )
    codes = ae.latent_codes(encoder, dataset, "test", run.record.mode)
    section.charts.append(
        Chart(
            "Latent space of the test split",
            ae_charts.latent_scatter(
                codes.points, codes.labels, dataset.class_names, codes.explained_variance
            ),
        )
    )
    if dataset.kind == "image":
        rows = list(range(min(8, len(dataset.test))))
        originals, rebuilt = ae.reconstructions(encoder, decoder, dataset, "test", rows)
        section.charts.append(
            Chart(
                "Originals and reconstructions",
                ae_charts.reconstruction_grid(originals, rebuilt, [f"row {r}" for r in rows]),
            )
        )
    anomaly = anomaly_class(dataset, run.record.request.get("mode_options", {}))
    if anomaly is not None and dataset.is_classification:
        scores = ae.anomaly_scores(encoder, decoder, dataset, "test")
        is_anomaly = dataset.test.y.numpy() == int(anomaly)
        try:
            fpr, tpr, auc = ae.anomaly_roc(scores, is_anomaly)
        except PlaygroundError as exc:
            section.cautions.append(exc.message)
            return
        section.facts["anomaly AUC (test split)"] = round(auc, 4)
        section.charts.append(
            Chart(
                "The reconstruction error as an anomaly score",
                ae_charts.anomaly_charts(scores, is_anomaly, fpr, tpr, auc),
            )
        )


def _gan(run: LoadedRun, section: Section) -> None:
    dataset = run.dataset
    generator = run.modules["generator"].module
    discriminator = run.modules["discriminator"].module
    options = run.record.request.get("mode_options", {})
    loss = options.get("loss", "non_saturating")
    noise = gan.gan_noise(
        run.modules["generator"].input_shape[0], int(run.record.config.get("seed", 0))
    )
    shape = tuple(dataset.input_shape)
    samples = gan.sample_grid(generator, noise, shape)
    section.paragraphs.append(
        "The generator turns noise into samples; the discriminator learns to tell them from "
        "real data. Samples below come from fixed noise, so runs can be compared."
    )
    if dataset.kind == "toy2d" and shape == (2,):
        field = gan.discriminator_field(discriminator, gan.data_bounds(dataset), 60, loss)
        arrows = gan.generator_gradients(generator, discriminator, noise[:80], loss)
        view = {
            "samples": samples.numpy()[:300],
            "field": {"xs": field.xs, "ys": field.ys, "values": field.values, "kind": field.kind},
            "arrows": {"points": arrows.points, "directions": arrows.directions},
        }
        modes = None
        if dataset.is_classification:
            centres, radius = gan.centres_of(dataset)
            coverage = gan.mode_coverage(samples, centres, radius)
            view["modes_covered"] = coverage.covered
            modes = len(centres)
            section.facts["modes covered"] = f"{coverage.covered} of {modes}"
            section.charts.append(
                Chart(
                    "Generated samples near each mode",
                    gan_charts.coverage_bars(
                        coverage.counts,
                        dataset.class_names or [],
                        covered_threshold(COVERAGE_SAMPLES, modes),
                    ),
                )
            )
        real = dataset.train.x.numpy()
        section.charts.insert(
            0,
            Chart(
                "Samples over the discriminator's field", gan_charts.gan_field(view, real, modes)
            ),
        )
        return
    images = np.asarray(samples[:8])
    section.charts.append(
        Chart(
            "Generated samples", ae_charts.image_rows([("generated", images)], [""] * len(images))
        )
    )
