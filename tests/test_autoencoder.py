"""Autoencoder modes (autoencoder, denoising, vae) and their analysis, on the 8x8 digits.

Each test trains small MLPs on the CPU for a second or two, seeded; the figures in the
comments were measured with these seeds (torch 2.13, CPU) and the bounds leave room around
them without letting the phenomenon go: a code that says nothing about the digit, an
autoencoder that does no better than the mean, a held-out class that rebuilds as well as
the others would each fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients
from sklearn.neighbors import KNeighborsClassifier

from playground.analysis.autoencoder import (
    AnomalyScore,
    anomaly_roc,
    anomaly_scores,
    code_bounds,
    interpolate,
    latent_codes,
    latent_grid,
    reconstructions,
)
from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError, SpecError, TrainingError
from playground.runner import load_run
from playground.runs import RunRequest, check_request, run_request
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.modes import MODES
from tests.run_helpers import Grab

ENCODER = [
    {"kind": "flatten"},
    {"kind": "linear", "out_features": 64},
    {"kind": "relu"},
    {"kind": "linear"},
]
DECODER = [
    {"kind": "linear", "out_features": 64},
    {"kind": "relu"},
    {"kind": "linear"},
    {"kind": "sigmoid"},
]
LINEAR_DECODER = DECODER[:3]  # no sigmoid: nothing forces the outputs into [0, 1]
CONFIG = {"epochs": 40, "lr": 0.005, "batch_size": 32, "seed": 0}


def ae_request(mode: str = "autoencoder", options: dict | None = None, **fields) -> RunRequest:
    return RunRequest.parse(
        {
            "dataset": "digits",
            "modules": {"encoder": ENCODER, "decoder": DECODER},
            "mode": mode,
            "mode_options": {"latent": 2} if options is None else options,
            "config": CONFIG,
            **fields,
        }
    )


def train(data: Dataset, mode: str, options: dict, decoder: list = DECODER) -> Trainer:
    trainer = Trainer(
        data,
        modules={"encoder": ENCODER, "decoder": decoder},
        mode=mode,
        mode_options=options,
        config=TrainConfig(**CONFIG),
    )
    assert trainer.run().status == "completed"
    return trainer


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits")


@pytest.fixture(scope="module")
def stored(tmp_path_factory, digits):
    """A 2-D autoencoder of the digits, trained and stored the way the product does."""
    store = RunStore(tmp_path_factory.mktemp("ae") / "data")
    grab = Grab()
    outcome = run_request(ae_request(), store, callbacks=[grab], dataset=digits)
    assert outcome.state.status == "completed", outcome.state.message
    return outcome, grab.trainer, store


def test_the_three_modes_are_registered() -> None:
    assert {"autoencoder", "denoising", "vae"} <= set(MODES)
    assert all(MODES[m].module_names == ("encoder", "decoder") for m in ("denoising", "vae"))


def test_a_2d_code_of_digits_keeps_the_classes_apart(stored, digits) -> None:
    _, trainer, _ = stored
    encoder = trainer.modules["encoder"]
    train_codes = latent_codes(encoder, digits, "train", "autoencoder")
    test_codes = latent_codes(encoder, digits, "test", "autoencoder")
    assert train_codes.codes.shape == (len(digits.train), 2)
    assert test_codes.explained_variance is None  # a 2-D code is plotted as it is
    np.testing.assert_array_equal(test_codes.points, test_codes.codes)
    np.testing.assert_array_equal(test_codes.labels, digits.test.y.numpy())
    knn = KNeighborsClassifier(n_neighbors=5).fit(train_codes.codes, train_codes.labels)
    # Measured 0.788 (0.796 with seed 1); chance is 0.1. The labels were never trained on.
    assert knn.score(test_codes.codes, test_codes.labels) > 0.65


def test_the_autoencoder_rebuilds_digits_better_than_their_mean(stored, digits) -> None:
    outcome, trainer, store = stored
    metrics = outcome.state.final_metrics
    mean_image = digits.train.x.mean(dim=0)
    mean_mse = float((digits.test.x - mean_image).square().mean())  # 0.0730
    assert trainer.mode.chance_loss() == pytest.approx(0.0737, abs=1e-3)  # train variance
    assert metrics["test_recon"] < 0.045  # measured 0.0370 through a 2-number code
    assert metrics["test_recon"] < 0.6 * mean_mse
    assert metrics["test_loss"] == metrics["test_recon"]  # no KL outside the VAE
    # The analysis functions give the same errors as the run's metric.
    scores = anomaly_scores(trainer.modules["encoder"], trainer.modules["decoder"], digits, "test")
    assert scores.shape == (len(digits.test),)
    assert scores.mean() == pytest.approx(metrics["test_recon"], rel=1e-5)
    originals, rebuilt = reconstructions(
        trainer.modules["encoder"], trainer.modules["decoder"], digits, "test", [0, 5, 7]
    )
    assert originals.shape == rebuilt.shape == (3, 1, 8, 8)
    np.testing.assert_array_equal(originals, digits.test.x[[0, 5, 7]].numpy())
    row_mse = ((originals - rebuilt) ** 2).reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(row_mse, scores[[0, 5, 7]], rtol=1e-5)
    rows = store.epochs(outcome.run_id)
    assert {"train_loss", "train_recon", "val_recon"} <= set(rows[-1])
    assert "train_kl" not in rows[-1]
    # It learnt as it went: 0.066 after the first epoch, 0.035 after the last.
    assert rows[-1]["val_recon"] < 0.7 * rows[0]["val_recon"]


def test_a_stored_autoencoder_loads_with_the_same_reconstructions(stored, digits) -> None:
    outcome, trainer, store = stored
    loaded = load_run(outcome.run_id, store)
    assert loaded.record.mode == "autoencoder"
    assert loaded.modules["decoder"].input_shape == (2,)
    assert loaded.modules["decoder"].output_shape == (64,)  # flat; the analysis reshapes
    rows = np.arange(len(digits.test))
    _, before = reconstructions(
        trainer.modules["encoder"], trainer.modules["decoder"], digits, "test", rows
    )
    _, after = reconstructions(
        loaded.modules["encoder"], loaded.modules["decoder"], loaded.dataset, "test", rows
    )
    np.testing.assert_array_equal(before, after)  # bit for bit


def test_a_request_says_which_module_and_option_is_wrong(digits) -> None:
    bad_decoder = {"encoder": ENCODER, "decoder": [{"kind": "conv2d", "out_channels": 4}]}
    with pytest.raises(SpecError, match=r"^Decoder layer 0 \(conv2d\)") as info:
        check_request(ae_request(modules=bad_decoder), digits)
    assert info.value.layer_index == "0" and info.value.received == (2,)
    wide = [*ENCODER[:3], {"kind": "linear", "out_features": 5}]
    with pytest.raises(SpecError, match=r"^Encoder layer 3 \(linear\).*needs 2 features"):
        check_request(ae_request(modules={"encoder": wide, "decoder": DECODER}), digits)
    # The VAE's encoder gives a mean and a log-variance per code dimension.
    with pytest.raises(SpecError, match=r"Encoder layer 3 .*needs 4 features"):
        check_request(ae_request("vae", modules={"encoder": wide, "decoder": DECODER}), digits)
    with pytest.raises(TrainingError, match="trains the modules encoder, decoder"):
        check_request(ae_request(modules={"encoder": ENCODER}), digits)
    with pytest.raises(TrainingError, match="no option 'latnet'"):
        check_request(ae_request(options={"latnet": 2}), digits)
    with pytest.raises(TrainingError, match="an option of mode 'denoising'"):
        check_request(ae_request(options={"noise": 0.3}), digits)
    with pytest.raises(TrainingError, match="'latent' must be a whole number"):
        check_request(ae_request(options={"latent": 0}), digits)
    with pytest.raises(TrainingError, match="'kl_weight' must be a finite number"):
        check_request(ae_request("vae", options={"kl_weight": -1}), digits)
    with pytest.raises(TrainingError, match=r"Choose one of: 0 \(0\), 1 \(1\)"):
        check_request(ae_request(options={"anomaly_class": 10}), digits)
    with pytest.raises(TrainingError, match="'noise' must be a finite number"):
        check_request(ae_request("denoising", options={"noise": float("inf")}), digits)
    assert check_request(ae_request(options={"latent": 2.0}), digits).modules[
        "decoder"
    ].input_shape == (2,)
    tokens = load_dataset("long_memory", n_samples=200, encoding="tokens")
    with pytest.raises(TrainingError, match="token sequences"):
        check_request(ae_request(dataset="long_memory"), tokens)


def test_options_about_the_labels_are_refused_not_ignored(digits) -> None:
    for config in ({"loss": "cross_entropy"}, {"class_weighting": True}):
        with pytest.raises(TrainingError, match="loss"):
            Trainer(
                digits,
                modules={"encoder": ENCODER, "decoder": DECODER},
                mode="autoencoder",
                config=TrainConfig(**config),
            )


def test_holding_a_class_out_makes_it_the_worst_rebuilt(stored, digits) -> None:
    trainer = train(digits, "autoencoder", {"latent": 2, "anomaly_class": 0})
    # Only the other classes are trained on; evaluation covers every row.
    assert trainer.mode.train_size == int((digits.train.y != 0).sum())
    metrics = trainer.final_metrics()
    assert metrics["test_anomaly_auc"] > 0.9  # measured 0.987 (0.965, 0.925: seeds 1, 2)
    encoder, decoder = trainer.modules["encoder"], trainer.modules["decoder"]
    scores = anomaly_scores(encoder, decoder, digits, "test")
    fpr, tpr, auc = anomaly_roc(scores, digits.test.y.numpy() == 0)
    assert auc == pytest.approx(metrics["test_anomaly_auc"])
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    # The same autoencoder trained on every class rebuilds 0s better than most digits
    # (AUC measured 0.19): holding the class out is what makes its rows stand out.
    _, everything, _ = stored
    kept = anomaly_scores(
        everything.modules["encoder"], everything.modules["decoder"], digits, "test"
    )
    assert anomaly_roc(kept, digits.test.y.numpy() == 0)[2] < 0.4
    with pytest.raises(PlaygroundError, match="only one kind"):
        anomaly_roc(scores, np.zeros(len(scores), dtype=bool))


def test_a_vae_decodes_standard_normal_codes_into_digit_like_pixels(digits) -> None:
    trainer = train(digits, "vae", {"latent": 2, "kl_weight": 0.25}, decoder=LINEAR_DECODER)
    metrics = trainer.final_metrics()
    assert 2.0 < metrics["test_kl"] < 4.0  # nats per digit, measured 2.94
    assert metrics["test_loss"] == pytest.approx(
        metrics["test_recon"] + 0.25 * metrics["test_kl"] / 64
    )
    assert metrics["test_recon"] < 0.045  # measured 0.0362
    assert {"train_kl", "val_kl"} <= set(trainer.state.history[-1])
    # The codes (means) spread like N(0, I): measured means (-0.02, 0.09), stds (0.98, 1.03).
    codes = latent_codes(trainer.modules["encoder"], digits, "train", "vae").codes
    assert codes.shape == (len(digits.train), 2)
    assert np.abs(codes.mean(axis=0)).max() < 0.3
    assert np.all((codes.std(axis=0) > 0.7) & (codes.std(axis=0) < 1.3))
    # So N(0, I) samples decode into the pixels' range with no sigmoid to force it (99.5%
    # measured) and average out near the mean digit (0.015 measured per pixel).
    z = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        samples = trainer.modules["decoder"].module.eval()(z)
    assert float(((samples > -0.1) & (samples < 1.1)).float().mean()) > 0.97
    mean_gap = (samples.mean(dim=0) - digits.train.x.flatten(1).mean(dim=0)).abs().mean()
    assert float(mean_gap) < 0.04


def test_the_kl_weight_trades_code_information_for_the_prior(digits) -> None:
    # kl_weight 1 prices a nat of code as much as the squared error of a whole input:
    # digits' codes then carry little (KL measured 0.20, recon 0.067). That is why the
    # default is 0.25 (KL 2.9 nats, recon 0.036, in the test above).
    options = {"latent": 2, "kl_weight": 1.0}
    strong = train(digits, "vae", options, decoder=LINEAR_DECODER).final_metrics()
    assert strong["test_kl"] < 1.0
    assert strong["test_recon"] > 0.055
    # The run's own generator draws the codes: the same seed gives the same run.
    again = train(digits, "vae", options, decoder=LINEAR_DECODER).final_metrics()
    assert again == strong


def test_a_denoising_autoencoder_rebuilds_the_clean_digit_from_a_noisy_one(digits) -> None:
    clean = digits.test.x
    noisy = clean + 0.3 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    noisy_mse = float((noisy - clean).square().mean())  # 0.091

    def denoised_mse(trainer: Trainer) -> float:
        encoder = trainer.modules["encoder"].module.eval()
        decoder = trainer.modules["decoder"].module.eval()
        with torch.no_grad():
            return float((decoder(encoder(noisy)).reshape(clean.shape) - clean).square().mean())

    denoising = train(digits, "denoising", {"latent": 8, "noise": 0.3})
    plain = train(digits, "autoencoder", {"latent": 8})
    # Measured 0.024 (denoising) and 0.054 (plain) against 0.091 for the noisy input itself:
    # the loss's target was the clean digit, so the noise is undone, not copied.
    assert denoised_mse(denoising) < 0.35 * noisy_mse
    assert denoised_mse(denoising) < 0.6 * denoised_mse(plain)
    # The noise is there in training only: the epoch's training error (noisy inputs, 0.023)
    # is above the same rows' clean error, and evaluation is deterministic.
    last = denoising.state.history[-1]
    clean_train = denoising.mode.evaluate(digits.train)
    assert last["train_recon"] > 1.2 * clean_train["recon"]
    assert denoising.mode.evaluate(digits.train) == clean_train


def test_the_anomaly_score_is_attributable_to_pixels(stored, digits) -> None:
    _, trainer, _ = stored
    score = AnomalyScore(trainer.modules["encoder"], trainer.modules["decoder"]).eval()
    x = digits.test.x[:6]
    baseline = torch.zeros_like(x)
    attributions = IntegratedGradients(score).attribute(x, baselines=baseline, n_steps=200)
    assert attributions.shape == x.shape
    with torch.no_grad():
        gap = score(x) - score(baseline)
    # Completeness: each row's attributions add up to its score's change from the baseline.
    sums = attributions.sum(dim=(1, 2, 3))
    torch.testing.assert_close(sums, gap, rtol=0.02, atol=1e-3)
    assert float(gap.abs().min()) > 0.01  # the check is not 0 == 0


def test_the_code_plane_decodes_in_one_grid_and_lines_between_codes(stored, digits) -> None:
    _, trainer, _ = stored
    encoder, decoder = trainer.modules["encoder"], trainer.modules["decoder"]
    points = latent_codes(encoder, digits, "test", "autoencoder").points
    bounds = code_bounds(points)
    assert bounds[0][0] < points[:, 0].min() and bounds[1][1] > points[:, 1].max()
    grid = latent_grid(decoder, bounds, 5, shape=(1, 8, 8))
    assert grid.decoded.shape == (5, 5, 1, 8, 8)
    code = torch.tensor([[grid.xs[3], grid.ys[1]]], dtype=torch.float32)
    with torch.no_grad():
        expected = decoder.module(code).reshape(1, 8, 8).numpy()
    np.testing.assert_allclose(grid.decoded[1, 3], expected, rtol=1e-5, atol=1e-6)
    # A line between two rows' codes starts and ends at their reconstructions.
    x_a, x_b = digits.test.x[0], digits.test.x[1]
    line = interpolate(encoder, decoder, x_a, x_b, 7)
    assert line.shape == (7, 1, 8, 8)
    _, ends = reconstructions(encoder, decoder, digits, "test", [0, 1])
    np.testing.assert_allclose(line[[0, -1]], ends, rtol=1e-5, atol=1e-6)
    assert np.abs(line[3] - line[0]).mean() > 0.01  # and moves in between


def test_wider_codes_are_plotted_on_their_principal_axes(digits) -> None:
    trainer = train(digits, "autoencoder", {"latent": 8})
    codes = latent_codes(trainer.modules["encoder"], digits, "test", "autoencoder")
    assert codes.codes.shape == (len(digits.test), 8) and codes.points.shape == (
        len(digits.test),
        2,
    )
    ratio = codes.explained_variance
    assert ratio is not None and ratio[0] >= ratio[1] > 0 and ratio.sum() <= 1
    # The two points' columns hold exactly that share of the codes' variance.
    share = codes.points.var(axis=0).sum() / codes.codes.var(axis=0).sum()
    assert share == pytest.approx(ratio.sum(), rel=1e-4)
    with pytest.raises(PlaygroundError, match="needs a 2-D code; this decoder takes 8"):
        latent_grid(trainer.modules["decoder"], ((0, 1), (0, 1)), 5)


def test_the_live_view_carries_codes_and_reconstructions_of_the_test_split(digits) -> None:
    trainer = train(digits, "autoencoder", {"latent": 2})
    view = trainer.mode.live_view()
    assert view["kind"] == "autoencoder"
    assert view["points"].shape[1] == 2 and len(view["points"]) == len(view["labels"]) <= 300
    assert view["originals"].shape == view["reconstructions"].shape == (6, 1, 8, 8)
    np.testing.assert_array_equal(view["originals"][0], digits.test.x[0].numpy())


def test_the_posterior_shows_each_codes_mean_spread_and_draws(digits) -> None:
    from playground.analysis.autoencoder import posterior
    from playground.charts.autoencoder import posterior_chart

    trainer = train(digits, "vae", {"latent": 2, "kl_weight": 0.25})
    encoder = trainer.modules["encoder"]
    post = posterior(encoder, digits, "test", list(range(12)), draws=400)
    assert post.mu.shape == post.sigma.shape == (12, 2) and post.draws.shape == (12, 400, 2)
    assert (post.sigma > 0).all() and (post.sigma < 3).all()
    # The draws follow N(mu, sigma²): their mean and spread match, per row and dimension.
    np.testing.assert_allclose(post.draws.mean(axis=1), post.mu, atol=4 * post.sigma.max() / 20)
    np.testing.assert_allclose(post.draws.std(axis=1), post.sigma, rtol=0.15)
    figure = posterior_chart(post, digits.class_names)
    assert len(figure.data) == 2 * 12  # an ellipse and its draws per row
    with pytest.raises(PlaygroundError, match="variational"):
        plain = train(digits, "autoencoder", {"latent": 2}).modules["encoder"]
        posterior(plain, digits, "test", [0], mode="autoencoder")


def test_injected_outliers_are_flagged_by_the_reconstruction_error() -> None:
    """The 'outliers' dataset option: rows whose pixels each come from another digit, in the
    val and test splits only, labelled as their own class; the anomaly score ranks them high."""
    from playground.data.outliers import OUTLIER_CLASS, outlier_class_index

    data = load_dataset("digits", outliers=0.1)
    outlier = outlier_class_index(data)
    assert data.class_names[-1] == OUTLIER_CLASS and outlier == 10
    assert not (data.train.y == outlier).any()  # training stays clean
    test_outliers = data.test.x[data.test.y == outlier]
    assert len(test_outliers) == round(0.1 * (len(data.test) - len(test_outliers)))
    # Every injected pixel value is one a real test digit has at that position.
    real = data.test.x[data.test.y != outlier].flatten(1)
    for row in test_outliers.flatten(1)[:5]:
        assert all(bool((real[:, j] == row[j]).any()) for j in range(row.numel()))
    assert load_dataset(data.name, **data.params).test.x.equal(data.test.x)  # rebuilt the same
    trainer = train(data, "autoencoder", {"latent": 2})
    assert trainer.final_metrics()["test_anomaly_auc"] > 0.85  # measured 0.955 (latent 8: 0.998)


def test_a_decoder_is_inspected_on_the_encoders_codes(stored, digits) -> None:
    from playground.inspect import layer_activations
    from playground.inspect.module_inputs import fed_by_data, module_inputs

    _, trainer, _ = stored
    modules = trainer.modules
    assert fed_by_data("encoder", modules["encoder"], digits)
    assert not fed_by_data("decoder", modules["decoder"], digits)
    codes, what = module_inputs(modules, "decoder", digits, "test", 50)
    assert codes.shape == (50, 2) and what == "the encoder's codes of 50 test rows"
    with torch.no_grad():
        assert torch.allclose(codes, modules["encoder"].module.eval()(digits.test.x[:50]))
        rebuilt = modules["decoder"].module.eval()(codes)
    acts = layer_activations(modules["decoder"], digits, inputs=codes)
    last = acts.layers[-1]
    assert last.output_shape == (64,)
    assert last.mean == pytest.approx(float(rebuilt.mean()), abs=1e-6)
