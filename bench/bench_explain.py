"""Benchmark the explanation engine against the libraries called directly, in the same run.

Model: the 'mlp' preset trained for a few epochs (fixed seed) on 1,000 training rows of
Adult. Task: global feature importance (mean |attribution|) over 1,000 test rows.

1. Integrated Gradients: `explain()` + `global_importance()` vs captum's
   IntegratedGradients.attribute on all rows at once (same n_steps, zero baseline,
   predicted-class targets, same internal batch size), then |.|.mean(0); once plain, once
   with the convergence delta the playground always computes too (same work).
2. SHAP GradientExplainer: `explain("shap_gradient")` + `global_importance()` vs
   shap.GradientExplainer(model, background).shap_values(x, nsamples, ranked_outputs=1)
   (the predicted class, as the playground's default), same background rows and seed.
3. Latency of one single-sample Integrated Gradients explanation (aim: well under 1 s).

The two sides of each comparison run back to back in every repeat (interleaved), so a slow
spell on a shared machine hits both; we print best-of and the median of per-repeat ratios.
Overhead = playground / direct - 1. Aim: within 10%.

Run: .venv/bin/python bench/bench_explain.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

import captum
import shap
from captum.attr import IntegratedGradients

from playground.data import load_dataset
from playground.data.dataset import Dataset, Split
from playground.explain import _captum_helpers
from playground.explain.api import explain
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.summary import global_importance
from playground.model.presets import PRESETS
from playground.train import TrainConfig, Trainer

ROWS = 1000
N_STEPS = 50
BACKGROUND = 100
SHAP_SAMPLES = 20


def first_rows(split: Split, n: int) -> Split:
    sensitive = (
        split.sensitive.iloc[:n].reset_index(drop=True) if split.sensitive is not None else None
    )
    return Split(split.x[:n], split.y[:n], sensitive)


def trained_context() -> ExplainContext:
    # 7,000 rows split 70/15/15 gives 1,050 test rows; training uses the first 1,000 only.
    data: Dataset = load_dataset("adult", n_samples=7000, seed=0)
    data = replace(data, train=first_rows(data.train, ROWS))
    trainer = Trainer(data, PRESETS["mlp"].spec(), TrainConfig(epochs=5, seed=0))
    trainer.run()
    return ExplainContext.of("bench", data, trainer.built)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def playground_importance(ctx: ExplainContext, request: ExplainRequest) -> np.ndarray:
    attr = explain(ctx, request)
    table = global_importance(attr)
    return table.set_index("feature").loc[ctx.dataset.feature_names, "importance"].to_numpy()


def direct_ig(ctx: ExplainContext, x: torch.Tensor, delta: bool = False) -> np.ndarray:
    """captum IG on all rows at once; `delta` also asks for the convergence delta, which the
    playground always returns (it costs a forward pass on inputs and baselines)."""
    model = ctx.model
    with torch.no_grad():
        targets = model(x).argmax(dim=1)
    values = IntegratedGradients(model).attribute(
        x,
        baselines=torch.zeros_like(x),
        target=targets,
        n_steps=N_STEPS,
        internal_batch_size=_captum_helpers.INTERNAL_BATCH,
        return_convergence_delta=delta,
    )
    if delta:
        values = values[0]
    return values.abs().mean(dim=0).detach().numpy()


def direct_shap_gradient(ctx: ExplainContext, x: torch.Tensor) -> np.ndarray:
    background = ctx.background(BACKGROUND, seed=0)
    explainer = shap.GradientExplainer(ctx.model, background)
    values, _ = explainer.shap_values(x, nsamples=SHAP_SAMPLES, ranked_outputs=1, rseed=0)
    return np.abs(values[..., 0]).mean(axis=0)


def compare(
    name: str,
    ours: Callable[[], np.ndarray],
    direct: dict[str, Callable[[], np.ndarray]],
    repeats: int,
) -> None:
    """Time `ours` and each direct variant back to back in every repeat; print best-of and
    the median of per-repeat ratios playground / direct."""
    ours_t: list[float] = []
    direct_t: dict[str, list[float]] = {k: [] for k in direct}
    for _ in range(repeats):
        t, imp_ours = timed(ours)
        ours_t.append(t)
        for label, fn in direct.items():
            t, imp_direct = timed(fn)
            direct_t[label].append(t)
    print(f"\n{name}   (aim: playground/direct <= 1.10)")
    print(
        f"   {'playground':<34}: best {min(ours_t):7.3f} s   median {statistics.median(ours_t):7.3f} s"
    )
    for label, times in direct_t.items():
        best = min(ours_t) / min(times)
        median = statistics.median(o / d for o, d in zip(ours_t, times, strict=True))
        print(
            f"   {label:<34}: best {min(times):7.3f} s   median {statistics.median(times):7.3f} s"
            f"   playground/direct {best:.3f} best-of ({(best - 1) * 100:+.1f}%), "
            f"{median:.3f} median of pairs ({(median - 1) * 100:+.1f}%)"
        )
    # Same top features: both sides computed the same thing (SHAP's random draws differ).
    shared = set(np.argsort(imp_ours)[-5:]) & set(np.argsort(imp_direct)[-5:])
    print(f"   top-5 features shared with the last direct variant: {len(shared)}/5")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    ctx = trained_context()
    torch.set_num_threads(args.threads)  # the trainer sets its own thread count
    rows = tuple(range(ROWS))
    x = ctx.dataset.test.x[:ROWS]
    print(
        f"torch {torch.__version__}, captum {captum.__version__}, shap {shap.__version__}, threads "
        f"{torch.get_num_threads()}, Adult MLP, {ROWS} rows x {x.shape[1]} features"
    )

    ig_request = ExplainRequest(
        "integrated_gradients", sample_indices=rows, baseline="zeros", n_steps=N_STEPS
    )
    compare(
        f"1. Integrated Gradients, global importance over {ROWS} rows (n_steps {N_STEPS})",
        lambda: playground_importance(ctx, ig_request),
        {
            "captum IG, attribute only": lambda: direct_ig(ctx, x),
            "captum IG + convergence delta": lambda: direct_ig(ctx, x, delta=True),
        },
        args.repeats,
    )

    shap_request = ExplainRequest(
        "shap_gradient",
        sample_indices=rows,
        background_size=BACKGROUND,
        n_samples=SHAP_SAMPLES,
        seed=0,
    )
    compare(
        f"2. SHAP GradientExplainer, global importance over {ROWS} rows "
        f"(background {BACKGROUND}, nsamples {SHAP_SAMPLES})",
        lambda: playground_importance(ctx, shap_request),
        {"shap.GradientExplainer": lambda: direct_shap_gradient(ctx, x)},
        max(3, args.repeats // 2),
    )

    one = ExplainRequest("integrated_gradients", sample_indices=(0,), n_steps=N_STEPS)
    explain(ctx, one)  # warm-up
    latencies = [timed(lambda: explain(ctx, one))[0] for _ in range(20)]
    print(f"\n3. Single-sample Integrated Gradients latency (n_steps {N_STEPS}), 20 calls")
    print(
        f"   best {min(latencies) * 1000:.1f} ms   median {statistics.median(latencies) * 1000:.1f} ms"
        "   (aim well under 1000 ms)"
    )


if __name__ == "__main__":
    main()
