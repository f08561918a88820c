"""GANs: the ring and grid datasets, the gan mode (losses, d_steps, coverage metrics, stored
runs, refused options) and the analysis behind its pictures (D's field, G's arrows, mode
coverage, sample grids). Seeded and on the CPU; figures quoted were measured with these seeds."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from playground.analysis.gan import (
    centres_of,
    data_bounds,
    discriminator_field,
    gan_noise,
    generator_gradients,
    mode_coverage,
    sample_grid,
)
from playground.data import load_dataset
from playground.data.toys import grid_centres, ring_centres
from playground.errors import DatasetError, SpecError, TrainingError
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, check_request, run_request
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.modes.gan import COVERAGE_SAMPLES, GanMode, GanOptions, equilibrium_loss
from tests.run_helpers import Grab

MLP = "linear:64 relu linear:64 relu linear"
RING = {"n_samples": 1000, "std": 0.1}


def modules(generator: str = MLP, discriminator: str = MLP) -> dict:
    return {"generator": parse_layers(generator), "discriminator": parse_layers(discriminator)}


def ring_request(**fields) -> RunRequest:
    """The good setup: least squares, Adam 1e-3 for both, 150 epochs of batch 64 (~2 s).
    Least squares covered all 8 modes with each of seeds 0-4; non-saturating (200 epochs)
    collapsed onto one or two modes with 1 of 3 seeds (these networks) and 2 of 5 (a
    leaky-ReLU discriminator)."""
    return RunRequest.parse(
        {
            "dataset": "ring",
            "dataset_params": RING,
            "modules": modules(),
            "mode": "gan",
            "mode_options": {"loss": "least_squares"},
            "config": {"epochs": 150, "lr": 1e-3, "batch_size": 64, "seed": 0},
            **fields,
        }
    )


@pytest.fixture(scope="module")
def ring_store(tmp_path_factory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("gan") / "data")


@pytest.fixture(scope="module")
def good_run(ring_store: RunStore):
    grab = Grab()
    outcome = run_request(ring_request(), ring_store, callbacks=[grab])
    return outcome, grab.trainer


def independent_coverage(samples: np.ndarray, std: float) -> int:
    """Modes of the true ring (not class means) with >= 20% of a fair share of the samples
    within 3 std, each sample counted for its nearest centre: numpy, no playground code."""
    centres = ring_centres()
    distance = np.sqrt(((samples[:, None, :] - centres[None]) ** 2).sum(axis=2))
    nearest = distance.argmin(axis=1)
    close = distance.min(axis=1) <= 3 * std
    counts = np.bincount(nearest[close], minlength=len(centres))
    return int((counts >= math.ceil(0.2 * len(samples) / len(centres))).sum())


# -- datasets ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "centres", "std"),
    [("ring", ring_centres(), 0.05), ("gaussian_grid", grid_centres(), 0.05)],
)
def test_mixture_datasets_label_each_point_with_its_mode(name, centres, std) -> None:
    data = load_dataset(name, n_samples=len(centres) * 40, std=std, seed=3)
    assert (data.kind, data.task, data.input_shape) == ("toy2d", "multiclass", (2,))
    assert len(data.class_names) == len(centres) == (8 if name == "ring" else 25)
    x = torch.cat([data.train.x, data.val.x, data.test.x]).numpy()
    y = torch.cat([data.train.y, data.val.y, data.test.y]).numpy()
    assert np.bincount(y).tolist() == [40] * len(centres)  # balanced
    # Each point lies near its own label's centre: mean distance std * sqrt(pi / 2) for a
    # 2-D Gaussian (0.063 here), and its nearest centre is its label's.
    distance = np.linalg.norm(x - centres[y], axis=1)
    assert distance.mean() == pytest.approx(std * math.sqrt(math.pi / 2), rel=0.15)
    nearest = np.linalg.norm(x[:, None] - centres[None], axis=2).argmin(axis=1)
    assert (nearest == y).mean() > 0.99
    again = load_dataset(name, n_samples=len(centres) * 40, std=std, seed=3)
    assert torch.equal(again.train.x, data.train.x)
    with pytest.raises(DatasetError, match="std=0"):
        load_dataset(name, std=0.0)


# -- the mode ------------------------------------------------------------------------------
def test_a_good_gan_covers_the_ring_and_the_metric_agrees_with_an_independent_count(
    good_run, ring_store
) -> None:
    outcome, trainer = good_run
    assert outcome.state.status == "completed"
    final = outcome.state.final_metrics
    # Measured: 8 of 8 modes, 80% of samples within 3 std of a centre (5 of 5 seeds: 8).
    assert final["test_modes_covered"] >= 7
    assert final["test_high_quality"] > 0.6
    loaded = load_run(outcome.run_id, ring_store)
    samples = sample_grid(loaded.modules["generator"].module, gan_noise(GanOptions.noise, 0))
    assert samples.shape == (COVERAGE_SAMPLES, 2)
    assert independent_coverage(samples.numpy(), RING["std"]) == final["test_modes_covered"]
    # The analysis function counts the same with the run's own centres and radius.
    centres, radius = centres_of(loaded.dataset)
    assert radius == pytest.approx(3 * RING["std"], rel=0.05)
    coverage = mode_coverage(samples, centres, radius)
    assert coverage.covered == final["test_modes_covered"]
    assert coverage.high_quality == pytest.approx(final["test_high_quality"])
    # The epoch rows carry both losses and the coverage, the score is the coverage.
    row = ring_store.epochs(outcome.run_id)[-1]
    assert {"train_d_loss", "train_g_loss", "val_d_loss", "val_modes_covered"} <= set(row)
    assert row["train_loss"] == row["train_d_loss"]
    assert trainer.score_name == "modes_covered"
    # Least squares: a D that cannot tell real from fake scores 1/4; this one sits just below.
    assert trainer.mode.chance_loss() == 0.25
    assert 0.15 < row["val_d_loss"] < 0.3


def test_a_generator_that_learns_three_times_faster_than_its_discriminator_collapses(
    ring_store,
) -> None:
    # The same run but G's learning rate 3e-3: the classic mode collapse. Its samples are
    # good ones, all in one mode (measured with seed 0: 1 mode covered, 80% of samples within
    # 3 std of a centre, 999 of 1000 nearest the 270 degree mode; seeds 1 and 2: 1 and 2
    # modes covered).
    request = ring_request(module_configs={"generator": {"lr": 3e-3}})
    outcome = run_request(request, ring_store)
    assert outcome.state.status == "completed"
    final = outcome.state.final_metrics
    assert final["test_modes_covered"] <= 2
    assert final["test_high_quality"] > 0.5
    loaded = load_run(outcome.run_id, ring_store)
    samples = sample_grid(loaded.modules["generator"].module, gan_noise(GanOptions.noise, 0))
    samples = samples.numpy()
    assert independent_coverage(samples, RING["std"]) <= 2
    centres = ring_centres()
    nearest = np.linalg.norm(samples[:, None] - centres[None], axis=2).argmin(axis=1)
    assert np.bincount(nearest, minlength=8).max() > 0.9 * len(samples)
    # Not a dead generator: the samples still spread within that mode (0.08 and 0.17 std).
    assert samples.std(axis=0).min() > 0.02


def test_a_stored_gan_gives_the_same_samples_and_runs_are_deterministic(
    good_run, ring_store
) -> None:
    outcome, trainer = good_run
    record = ring_store.get_run(outcome.run_id)
    assert record.mode == "gan" and set(record.modules) == {"generator", "discriminator"}
    loaded = load_run(outcome.run_id, ring_store)
    z = gan_noise(GanOptions.noise, seed=5, count=64)
    stored = sample_grid(loaded.modules["generator"].module, z)
    assert torch.equal(stored, sample_grid(trainer.modules["generator"].module, z))
    # Each module has its own optimiser and learning rate.
    short = ring_request(
        config={"epochs": 2, "lr": 1e-3, "batch_size": 64, "seed": 0},
        module_configs={"discriminator": {"lr": 4e-3, "optimizer": "sgd"}},
    )
    first, second = Grab(), Grab()
    run_request(short, ring_store, callbacks=[first])
    run_request(short, ring_store, callbacks=[second])
    assert type(first.trainer.optimizers["discriminator"]).__name__ == "SGD"
    assert first.trainer.optimizers["discriminator"].param_groups[0]["lr"] == 4e-3
    assert first.trainer.optimizers["generator"].param_groups[0]["lr"] == 1e-3
    # Same seed, same noise, same weights, bit for bit.
    for name in ("generator", "discriminator"):
        a = first.trainer.modules[name].module.state_dict()
        b = second.trainer.modules[name].module.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loss": "hinge"}, "Option 'loss' must be one of standard, non_saturating"),
        ({"d_steps": 0}, "Option 'd_steps' must be a whole number, 1 or more"),
        ({"noise": 2.5}, "Option 'noise' must be a whole number"),
        ({"gp_weight": 0}, "Option 'gp_weight' must be a positive number"),
        ({"latent": 2}, "Mode 'gan' has no option 'latent'"),
    ],
)
def test_bad_options_are_refused_before_anything_is_stored(options, message, store) -> None:
    with pytest.raises(TrainingError, match=message):
        run_request(ring_request(mode_options=options), store)
    assert store.list_runs() == []


def test_module_errors_name_the_module(store) -> None:
    bad = modules(discriminator="linear:64 relu linear:3")
    with pytest.raises(SpecError, match=r"Discriminator layer 2 \(linear\).*needs 1 features"):
        check_request(ring_request(modules=bad))
    with pytest.raises(TrainingError, match="trains the modules generator, discriminator"):
        check_request(ring_request(modules={"generator": parse_layers(MLP)}))
    assert store.list_runs() == []


def test_options_a_gan_would_silently_misuse_are_refused() -> None:
    data = load_dataset("ring", **RING)
    for config, message in [
        (TrainConfig(early_stopping_patience=3), "Early stopping watches the validation loss"),
        (TrainConfig(loss="mse"), "A GAN's losses are set by its 'loss' option"),
        (TrainConfig(class_weighting=True), "Class weighting, reweighing and the L1 penalty"),
    ]:
        with pytest.raises(TrainingError, match=message):
            Trainer(data, modules=modules(), mode="gan", config=config)


def test_the_generator_moves_every_d_steps_th_step_and_wgan_gp_reports_its_penalty() -> None:
    data = load_dataset("ring", **RING)
    config = TrainConfig(epochs=1, batch_size=math.ceil(len(data.train) / 2), seed=0)
    for d_steps, generator_moved in ((3, False), (2, True)):
        trainer = Trainer(
            data, modules=modules(), mode="gan", config=config, mode_options={"d_steps": d_steps}
        )
        before = [p.clone() for p in trainer.modules["generator"].module.parameters()]
        trainer.run()  # two steps: D twice, G once with d_steps 2, not yet with 3
        after = list(trainer.modules["generator"].module.parameters())
        unchanged = all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
        assert trainer.state.step == 2 and unchanged != generator_moved

    # WGAN-GP against a generator that barely moves (learning rate 1e-9): the critic's
    # distance estimate D(x) - D(G(z)) grows epoch by epoch (measured 0.07, 0.17, 0.30).
    options = {"loss": "wasserstein_gp", "gp_weight": 5.0}
    trainer = Trainer(
        data,
        modules=modules(),
        mode="gan",
        config=TrainConfig(epochs=3, lr=1e-3, batch_size=64, seed=0),
        mode_options=options,
        module_configs={"generator": {"lr": 1e-9}},
    )
    assert trainer.run().status == "completed"
    rows = trainer.state.history
    distances = [r["val_wasserstein"] for r in rows]
    assert 0 < distances[0] < distances[1] < distances[2]
    # A constant critic has no gradient: its loss is the whole penalty, gp_weight.
    assert trainer.mode.chance_loss() == equilibrium_loss(GanOptions(**options)) == 5.0
    last = rows[-1]
    assert last["val_loss"] == pytest.approx(
        5.0 * last["val_gradient_penalty"] - last["val_wasserstein"]
    )
    assert last["val_loss"] < 5.0


# -- analysis ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_discriminator():
    """D trained for 20 epochs (non-saturating) against a generator that barely moves
    (learning rate 1e-9): its fakes stay in a blob of radius 0.14 around the origin."""
    data = load_dataset("ring", **RING)
    trainer = Trainer(
        data,
        modules=modules(),
        mode="gan",
        config=TrainConfig(epochs=20, lr=1e-3, batch_size=64, seed=0),
        module_configs={"generator": {"lr": 1e-9}},
    )
    assert trainer.run().status == "completed"
    return data, trainer


def test_generator_arrows_point_towards_the_data_and_vanish_under_the_standard_loss(
    trained_discriminator,
) -> None:
    _, trainer = trained_discriminator
    generator, discriminator = (trainer.modules[n].module for n in GanMode.module_names)
    z = gan_noise(GanOptions.noise, 0, count=200)
    arrows = generator_gradients(generator, discriminator, z, "non_saturating")
    assert arrows.points.shape == arrows.directions.shape == (200, 2)
    centres = ring_centres()
    nearest = centres[np.linalg.norm(arrows.points[:, None] - centres[None], axis=2).argmin(1)]
    towards = nearest - arrows.points
    cosine = (arrows.directions * towards).sum(1) / (
        np.linalg.norm(arrows.directions, axis=1) * np.linalg.norm(towards, axis=1)
    )
    assert cosine.mean() > 0.2  # measured 0.40; 77% of the arrows point within 90 degrees
    # The minimax loss pushes each point the same way, but D rejects these fakes with
    # confidence, so its push is tiny: log(1 - D) saturates (measured: 0.8% as long).
    minimax = generator_gradients(generator, discriminator, z, "standard")
    assert np.allclose(minimax.points, arrows.points)
    same_way = (minimax.directions * arrows.directions).sum(1) / (
        np.linalg.norm(minimax.directions, axis=1) * np.linalg.norm(arrows.directions, axis=1)
    )
    assert same_way.min() > 0.999
    ratio = np.linalg.norm(minimax.directions, axis=1) / np.linalg.norm(arrows.directions, axis=1)
    assert np.median(ratio) < 0.05


def test_discriminator_field_is_a_probability_map_higher_on_real_data(
    trained_discriminator,
) -> None:
    data, trainer = trained_discriminator
    generator, discriminator = (trainer.modules[n].module for n in GanMode.module_names)
    bounds = data_bounds(data)
    x = data.train.x
    assert bounds[0] < x[:, 0].min() and bounds[1] > x[:, 0].max()
    field = discriminator_field(discriminator, bounds, steps=40)
    assert field.kind == "probability"
    assert field.xs.shape == field.ys.shape == (40,) and field.values.shape == (40, 40)
    assert field.values.min() >= 0 and field.values.max() <= 1

    def at(points: np.ndarray) -> np.ndarray:
        j = np.abs(field.xs[None] - points[:, :1]).argmin(1)
        i = np.abs(field.ys[None] - points[:, 1:]).argmin(1)
        return field.values[i, j]

    fakes = sample_grid(generator, gan_noise(GanOptions.noise, 0, 200)).numpy()
    # Measured: 1.00 at every centre, 0.01 where the generator puts its samples.
    assert at(ring_centres()).min() > 0.9
    assert at(fakes).mean() < 0.1
    # A critic's field is its raw score, not squashed into 0..1.
    critic = discriminator_field(discriminator, bounds, steps=40, loss="wasserstein_gp")
    assert critic.kind == "critic"
    assert np.allclose(1 / (1 + np.exp(-critic.values)), field.values)


def test_the_live_view_carries_the_pictures_of_a_2d_run(trained_discriminator) -> None:
    data, trainer = trained_discriminator
    view = pickle.loads(pickle.dumps(trainer.mode.live_view()))  # it travels from a worker
    assert view["kind"] == "gan" and view["loss"] == "non_saturating"
    assert view["samples"].shape == (300, 2)
    field = view["field"]
    assert field["kind"] == "probability" and field["values"].shape == (40, 40)
    expected = discriminator_field(
        trainer.modules["discriminator"].module, data_bounds(data), 40, "non_saturating"
    )
    assert np.array_equal(field["values"], expected.values)
    assert view["arrows"]["points"].shape == view["arrows"]["directions"].shape == (60, 2)
    # The barely trained generator's blob near the origin reaches no mode.
    assert view["counts"].tolist() == [0] * 8 and view["modes_covered"] == 0
    assert trainer.state.history[-1]["val_modes_covered"] == 0


def test_mode_coverage_counts_samples_near_each_centre() -> None:
    centres = ring_centres()
    rng = np.random.default_rng(0)
    near = np.concatenate([centres[k] + rng.normal(0, 0.02, (100, 2)) for k in (0, 1, 2)])
    few = centres[3] + rng.normal(0, 0.02, (10, 2))  # under 20% of a fair share (44)
    far = rng.uniform(5, 6, (40, 2))
    coverage = mode_coverage(np.concatenate([near, few, far]), centres, radius=0.15)
    assert coverage.counts.tolist() == [100, 100, 100, 10, 0, 0, 0, 0]
    assert coverage.min_count == math.ceil(0.2 * 350 / 8) == 9
    assert coverage.covered == 4  # the 10 samples clear a threshold of 9
    assert coverage.high_quality == pytest.approx(310 / 350)
    assert mode_coverage(near, centres, 0.15, min_count=101).covered == 0


def test_a_quick_digits_gan_makes_images_in_the_datas_range() -> None:
    data = load_dataset("digits")
    trainer = Trainer(
        data,
        modules=modules(
            "linear:128 relu linear sigmoid", "flatten linear:128 leakyrelu:0.2 linear"
        ),
        mode="gan",
        config=TrainConfig(epochs=3, lr=1e-3, batch_size=64, seed=0),
    )
    assert trainer.run().status == "completed"
    assert trainer.score_name == "g_loss"  # no 2-D modes to count
    assert "val_modes_covered" not in trainer.state.history[-1]
    generator = trainer.modules["generator"].module
    grid = sample_grid(generator, gan_noise(GanOptions.noise, 0)[:16], data.input_shape)
    assert grid.shape == (16, 1, 8, 8)
    assert grid.min() >= 0 and grid.max() <= 1  # the sigmoid keeps them in the pixels' range
    # After 3 epochs the average generated image already looks like the average digit
    # (correlation measured 0.92; an untrained generator's is about 0).
    mean_fake = sample_grid(generator, gan_noise(GanOptions.noise, 0), data.input_shape).mean(0)
    correlation = np.corrcoef(mean_fake.flatten(), data.train.x.mean(0).flatten())[0, 1]
    assert correlation > 0.6
    view = trainer.mode.live_view()  # images: a grid of samples, no plane to draw
    assert view["samples"].shape == (16, 1, 8, 8) and view["field"] is None
    assert np.array_equal(view["samples"], grid.numpy())


def test_the_mode_is_registered_with_its_options_and_starting_stacks() -> None:
    assert GanMode.module_names == ("generator", "discriminator")
    assert GanMode.option_defaults == {
        "noise": 8,
        "d_steps": 1,
        "loss": "non_saturating",
        "gp_weight": 10.0,
    }
    data = load_dataset("digits")
    specs = {name: parse_layers(text) for name, text in GanMode.default_stacks.items()}
    built = GanMode.check(data, specs, {})
    assert built["generator"].output_shape == (64,)  # reshaped to (1, 8, 8) by the mode
    assert built["discriminator"].output_shape == (1,)


def test_a_digits_gan_stores_its_samples_over_training(store, monkeypatch) -> None:
    """A row of samples per flush is kept with the run (thinned to KEPT_ROWS), so a finished
    run shows its progress; the last row is the stored generator's own output."""
    from playground.runs import reporter
    from playground.store.samples import KEPT_ROWS, thin

    monkeypatch.setattr(reporter, "FLUSH_SECONDS", 0.0)  # a row every epoch
    request = RunRequest.parse(
        {
            "dataset": "digits",
            "modules": modules("linear:64 relu linear sigmoid", "flatten linear:64 relu linear"),
            "config": {"epochs": 12, "lr": 1e-3, "batch_size": 128},
            "mode": "gan",
        }
    )
    outcome = run_request(request, store)
    rows = store.samples_over_time(outcome.run_id)
    epochs = [epoch for epoch, _ in rows]
    assert len(rows) == KEPT_ROWS and epochs[-1] == 12 and epochs == sorted(set(epochs))
    assert all(images.shape == (16, 1, 8, 8) for _, images in rows)
    # Training changed the samples from the first kept row to the last.
    assert np.abs(rows[0][1] - rows[-1][1]).mean() > 0.02
    run = load_run(outcome.run_id, store)
    final = sample_grid(
        run.modules["generator"].module, gan_noise(GanOptions.noise, 0)[:16], (1, 8, 8)
    )
    assert np.allclose(rows[-1][1], final.numpy(), atol=1e-6)
    # Thinning keeps the newest row and spreads the others.
    kept = thin([(e, np.zeros(1)) for e in range(1, 21)])
    assert [e for e, _ in kept][-1] == 20 and len(kept) <= KEPT_ROWS
    store.delete_run(outcome.run_id)
    assert not store.samples_path(outcome.run_id).exists()
