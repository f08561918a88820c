"""Every lesson trains its runs headless (seeded, small) and its phenomenon holds with
numbers; each verdict is built from those numbers. Setups were tried on several seeds when
designed (noted per test); the lesson runs on seed 0 here, as the app runs it."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from playground.lessons import LESSONS, LessonResults, get_lesson, run_lesson, stored_run_ids
from playground.lessons.base import pct
from playground.runs import RunRequest
from playground.store import RunStore


@pytest.fixture(scope="module")
def lesson_store(tmp_path_factory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("lessons") / "data")


def trained(lesson_id: str, store: RunStore) -> tuple[dict[str, float], str, LessonResults]:
    lesson = get_lesson(lesson_id)
    results = run_lesson(lesson, store)
    for name, result in results.runs.items():
        assert result.record.status in ("completed", "diverged"), (name, result.record.message)
        assert result.record.lineage["lesson"] == lesson_id
        assert result.record.lineage["variant"] == name
        assert result.record.name == f"Lesson · {lesson.title} · {name}"
    figures = lesson.compare(results)
    assert figures and all(isinstance(f, go.Figure) for f in figures)
    return lesson.measure(results), lesson.verdict(results), results


def test_the_registry_holds_the_lessons_with_plain_serialisable_requests() -> None:
    assert len(LESSONS) >= 15
    for lesson in LESSONS.values():
        assert lesson.question.endswith("?") and len(lesson.explanation) > 150
        names = [v.name for v in lesson.variants]
        assert len(names) == len(set(names)) >= 2
        run_ids = {v.name: "20250101-000000-abcdef" for v in lesson.variants}
        for variant in lesson.variants:
            request = lesson.request_for(variant, run_ids)
            assert RunRequest.from_json(request.to_json()) == request  # a worker can take it
        for link in lesson.try_next:
            assert link.variant in names and link.page in ("build", "train")
    with pytest.raises(KeyError, match="lessons: "):
        get_lesson("nope")


def test_xor_needs_a_hidden_layer(lesson_store) -> None:
    # Seeds 0-2 measured: no hidden layer 0.57, 0.62, 0.47; one hidden layer 1.0, 0.97, 0.98.
    m, verdict, results = trained("xor", lesson_store)
    assert m["linear_acc"] < 0.7 and m["hidden_acc"] > 0.95
    assert pct(m["linear_acc"]) in verdict and pct(m["hidden_acc"]) in verdict
    # The Learn page finds the same runs again in the store.
    found = stored_run_ids(get_lesson("xor"), lesson_store)
    assert found == {n: r.run_id for n, r in results.runs.items()}


def test_a_deep_sigmoid_networks_gradient_vanishes_and_three_fixes_keep_it(lesson_store) -> None:
    # Seeds 0-2 measured: sigmoid first/last ratio 1.7e-8, 3.8e-8, 9.2e-9; fixes 4e-3..1.
    m, verdict, _ = trained("vanishing", lesson_store)
    assert m["sigmoid_ratio"] < 1e-5  # orders of magnitude below the last layer's
    for fix in ("relu", "bn", "res"):
        assert m[f"{fix}_ratio"] > 1e-3, fix
        assert m[f"{fix}_ratio"] > 1000 * m["sigmoid_ratio"], fix
    assert m["sigmoid_acc"] < 0.6 and m["relu_acc"] > 0.9
    assert f"{1 / m['sigmoid_ratio']:,.0f} times smaller" in verdict


def test_too_high_a_learning_rate_diverges_and_a_lower_one_or_clipping_fixes_it(
    lesson_store,
) -> None:
    # Seeds 0-2 measured: rate 3 stopped as diverged after 6 epochs each time (loss 20-110);
    # rate 0.1 and clipped rate 3 ended below 0.1.
    m, verdict, _ = trained("learning_rate", lesson_store)
    assert m["high_diverged"] == 1.0 and m["high_last"] > 10 * m["chance_loss"]
    assert m["low_loss"] < 0.15 and m["clip_loss"] < 0.15
    assert f"{m['high_last']:.3g}" in verdict and f"{m['clip_loss']:.3f}" in verdict


def test_little_data_overfits_and_l2_or_early_stopping_reduce_it(lesson_store) -> None:
    # Seeds 0-3 measured: plain final val loss 3.8, 9.4, 1.4, 8.8; L2 0.54, 0.47, 0.36, 0.57;
    # early stopping 0.47, 0.41, 0.28, 0.47. Dropout 0.5 did not help on seed 0 (4.6): the
    # verdict says so rather than claiming it.
    m, verdict, _ = trained("overfitting", lesson_store)
    assert m["plain_train_loss"] < 0.01
    assert m["plain_val_loss"] > 2 * m["plain_best_val_loss"]
    assert m["l2_val_loss"] < m["plain_val_loss"] / 2
    assert m["early_val_loss"] < m["plain_val_loss"] / 2 and m["early_epochs"] < 100
    assert f"{m['plain_val_loss']:.2f}" in verdict and f"{m['l2_val_loss']:.2f}" in verdict
    # Dropout, on 30 digits per class (seeds 0-2 measured: 0.175 -> 0.150, 0.294 -> 0.268,
    # 0.329 -> 0.288).
    assert m["dropout_val_loss"] < m["digits_plain_val_loss"]
    assert f"{m['dropout_val_loss']:.3f}" in verdict


def test_batch_norm_speeds_up_convergence(lesson_store) -> None:
    # Seeds 0-2 measured: loss at epoch 10 without 0.69, 0.69, 0.69; with 0.25-0.37.
    m, verdict, _ = trained("batch_norm", lesson_store)
    assert m["plain_loss_at"] > 0.6 and m["bn_loss_at"] < 0.4
    assert m["bn_epoch_90"] <= 10 and not m["plain_epoch_90"] <= 10
    assert f"{m['bn_loss_at']:.2f}" in verdict


def test_optimisers_rank_at_the_same_learning_rate(lesson_store) -> None:
    # Seeds 0-2 measured (loss after 30 epochs): SGD 0.67-0.69, momentum 0.61-0.65,
    # RMSprop 0.06-0.24, Adam 0.04-0.05.
    m, verdict, _ = trained("optimizers", lesson_store)
    assert m["SGD loss"] > m["SGD + momentum loss"] > max(m["RMSprop loss"], m["Adam loss"])
    assert m["Adam loss"] < m["SGD loss"] / 4
    assert f"Adam {m['Adam loss']:.3f}" in verdict


def test_a_cnn_beats_an_mlp_on_digits_with_fewer_weights(lesson_store) -> None:
    # Seeds 0-2 measured: CNN 0.989, 0.989, 0.993; MLP 0.974, 0.985, 0.967.
    m, verdict, _ = trained("cnn_vs_mlp", lesson_store)
    assert m["cnn_params"] < m["mlp_params"] and m["cnn_acc"] > m["mlp_acc"]
    assert f"{m['cnn_params']:,.0f} weights" in verdict


def test_gated_cells_remember_what_a_plain_rnn_forgets(lesson_store) -> None:
    # Seeds 0-2 measured: RNN 0.30, 0.27, 0.34; LSTM and GRU 1.0 each.
    m, verdict, _ = trained("lstm_vs_rnn", lesson_store)
    assert m["plain RNN acc"] < 0.5 and m["LSTM acc"] > 0.9 and m["GRU acc"] > 0.9
    assert f"plain RNN {pct(m['plain RNN acc'])}" in verdict


def test_an_autoencoder_flags_injected_outliers(lesson_store) -> None:
    m, verdict, _ = trained("autoencoder", lesson_store)
    assert m["two_auc"] > 0.9 and m["eight_auc"] > 0.95  # measured 0.955 and 0.998
    assert m["eight_recon"] < m["two_recon"]
    assert f"{m['two_auc']:.3f}" in verdict


def test_a_gan_covers_the_ring_and_a_fast_generator_collapses(lesson_store) -> None:
    # Seeds 0-2 measured: balanced 8, 8, 8 clusters; generator 3x faster 1, 1, 2.
    m, verdict, _ = trained("gan", lesson_store)
    assert m["good_modes"] >= 7 and m["bad_modes"] <= 2
    assert f"cover {m['good_modes']:.0f} of" in verdict and f"onto {m['bad_modes']:.0f}" in verdict


def test_transfer_learning_beats_scratch_on_every_seed(lesson_store) -> None:
    # Seeds 0-3 measured (2 images per class): fine-tuned beat scratch by 4-11 points each.
    m, verdict, results = trained("transfer", lesson_store)
    assert m["seeds_won"] == 3 and m["min_gain"] > 0.02
    assert m["tuned_acc"] > m["scratch_acc"] + 0.04
    tuned = results["fine-tuned, seed 0"].record
    assert tuned.lineage["started_from"] == results["pretrained on digits 0-4"].run_id
    assert f"{100 * m['tuned_acc']:.1f}%" in verdict


def test_augmentation_lifts_a_small_image_set(lesson_store) -> None:
    # Seeds 0-2 measured: plain 0.877, 0.900, 0.885; augmented 0.911, 0.941, 0.914.
    m, verdict, _ = trained("augmentation", lesson_store)
    assert m["seeds_won"] == 3 and m["augmented_acc"] > m["plain_acc"] + 0.015
    assert f"{100 * m['augmented_acc']:.1f}%" in verdict


def test_oversampling_and_class_weights_lift_the_rare_class(lesson_store) -> None:
    # Seeds 0-2 measured: plain recall 0.15, 0.04, 0.0; oversampled 0.67-0.74; weighted 0.70-0.89.
    m, verdict, _ = trained("rare_class", lesson_store)
    assert m["plain_recall"] < 0.3
    assert m["over_recall"] > m["plain_recall"] + 0.3
    assert m["weights_recall"] > m["plain_recall"] + 0.3
    assert f"finds {pct(m['plain_recall'])}" in verdict


def test_biased_labels_make_a_biased_model_and_reweighing_narrows_the_gap(lesson_store) -> None:
    m, verdict, _ = trained("bias", lesson_store)
    assert m["base_female"] < m["base_male"] and m["base_gap"] > 0.15  # measured 0.29
    assert m["fair_gap"] < m["base_gap"] - 0.05  # measured 0.18
    assert m["fair_male"] < m["base_male"]  # the cost: fewer men hired
    assert f"{100 * m['base_gap']:.1f} points" in verdict


def test_attributions_find_the_deciding_feature_and_the_shortcut(lesson_store) -> None:
    # Seeds 0-2 measured: shortcut share 1-4% on clean data, 19% with the shortcut; accuracy
    # without the shortcut 0.91, 0.90, 0.90 (clean model 1.0).
    m, verdict, _ = trained("shortcut", lesson_store)
    assert m["clean_signal"] > 0.8 and m["clean_shortcut"] < 0.05
    assert m["short_shortcut"] > 0.1 and m["short_shortcut"] > 5 * m["clean_shortcut"]
    assert m["short_acc_no_shortcut"] < m["short_acc"] - 0.04
    assert not math.isnan(m["clean_acc_no_shortcut"]) and m["clean_acc_no_shortcut"] > 0.97
    assert pct(m["short_shortcut"]) in verdict
