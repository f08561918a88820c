"""Benchmark the explanation checks against the libraries they use, called directly, in the
same run.

Models: the 'cnn' preset trained 2 epochs on digits (100 test images explained) and a small
MLP trained 3 epochs on 1,000 Adult rows (TracIn over its training rows, counterfactuals).

1. LIME, Kernel SHAP, LRP: `explain()` vs captum's Lime / KernelShap / LRP .attribute on the
   same 100 images, same feature mask, samples, baseline and targets.
2. Sanity check (cascading randomisation, Integrated Gradients): `cascading_randomisation`
   vs a plain loop of deepcopy + reset_parameters + captum IntegratedGradients.attribute.
3. Faithfulness curves (IG order + 3 random orders, 20 steps): `faithfulness_curves` vs the
   same perturbed batches built directly and run through the model in one forward each.
4. Counterfactuals (3 candidates, 300 steps, one row): `counterfactuals` vs a bare Adam loop
   on the same loss without projection, sparsifying or tables.
5. TracIn (5 checkpoints, proponents + opponents of 10 test rows, self-influence of every
   training row): `tracin` vs captum TracInCP called directly with the same checkpoints.

The two sides of each comparison run back to back in every repeat (interleaved); we print
best-of times and the median of per-repeat ratios (playground / direct).

Run: .venv/bin/python bench/bench_explain_checks.py [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from captum.attr import LRP, IntegratedGradients, KernelShap, Lime
from captum.influence import TracInCP
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

from playground.explain import ExplainRequest, context_for_run, explain
from playground.explain._surrogate_helpers import feature_mask
from playground.explain.counterfactual import counterfactuals
from playground.explain.faithfulness import faithfulness_curves
from playground.explain.influence import _SummedLoss, gradient_layers, run_checkpoints, tracin
from playground.explain.methods.captum_lrp import lrp_model
from playground.explain.sanity import cascading_randomisation, parameter_layers, randomise
from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest, run_request
from playground.store import RunStore


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, ours: Callable[[], object], direct: Callable[[], object], repeats: int):
    ours(), direct()  # warm up (imports, first-call allocations)
    a, b = [], []
    for _ in range(repeats):
        a.append(_time(ours))
        b.append(_time(direct))
    ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    print(f"{name:<38} playground {min(a):8.3f} s   direct {min(b):8.3f} s   ratio {ratio:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    store = RunStore(tempfile.mkdtemp())
    cnn = run_request(
        RunRequest.supervised("digits", {}, PRESETS["cnn"].spec(), {"epochs": 2, "seed": 0}),
        store,
    )
    ctx = context_for_run(cnn.run_id, store)
    rows = tuple(range(100))
    x = ctx.dataset.test.x[: len(rows)].float()
    targets = ctx.outputs(x).argmax(dim=1)
    mask = feature_mask(ctx, 2)
    print(f"digits CNN, {len(rows)} test images; {args.threads} thread(s); best of {args.repeats}")

    for name, cls in (("lime", Lime), ("kernel_shap", KernelShap)):
        request = ExplainRequest(name, sample_indices=rows, n_samples=200)
        method = cls(ctx.model)

        def direct(method=method) -> object:
            with torch.no_grad():
                return method.attribute(
                    x,
                    baselines=torch.zeros_like(x),
                    target=targets,
                    feature_mask=mask,
                    n_samples=200,
                    perturbations_per_eval=64,
                )

        compare(name, lambda request=request: explain(ctx, request), direct, args.repeats)

    lrp_request = ExplainRequest("lrp", sample_indices=rows)
    compare(
        "lrp",
        lambda: explain(ctx, lrp_request),
        lambda: LRP(lrp_model(ctx.built.module)).attribute(
            x.clone().requires_grad_(), target=targets
        ),
        args.repeats,
    )

    ig_request = ExplainRequest("integrated_gradients", sample_indices=rows[:16], n_steps=50)

    def sanity_direct() -> None:
        clone = copy.deepcopy(ctx.built.module)
        model = torch.nn.Sequential(clone, torch.nn.Flatten())
        ig = IntegratedGradients(model)
        xs, ts = x[:16].clone().requires_grad_(), targets[:16]
        ig.attribute(xs, target=ts, n_steps=50, internal_batch_size=1024)
        for k, (index, _) in enumerate(parameter_layers(ctx.built)):
            randomise(clone[int(index)], k)
            ig.attribute(xs, target=ts, n_steps=50, internal_batch_size=1024)

    compare(
        "sanity (IG, every layer)",
        lambda: cascading_randomisation(
            ctx, ["integrated_gradients"], ig_request, random_labels=False
        ),
        sanity_direct,
        args.repeats,
    )

    full = ExplainRequest("integrated_gradients", sample_indices=rows)
    ig_attr = explain(ctx, full)

    def faith_direct() -> None:
        counts = np.round(np.linspace(0, 64, 21)).astype(int)
        orders = [np.argsort(-ig_attr.values.reshape(100, -1), axis=1)]
        orders += [np.stack([np.random.permutation(64) for _ in range(100)]) for _ in range(3)]
        flat = x.reshape(100, -1)
        with torch.no_grad():
            for order in orders:
                for keep_x in (True, False):
                    batch = []
                    for j in counts:
                        m = torch.zeros(100, 64, dtype=torch.bool)
                        m.scatter_(1, torch.as_tensor(order[:, :j]), True)
                        batch.append(
                            torch.where(m, 0.0, flat) if keep_x else torch.where(m, flat, 0.0)
                        )
                    ctx.model(torch.cat(batch).reshape(-1, 1, 8, 8))

    compare(
        "faithfulness (IG + 3 random, 20 steps)",
        lambda: faithfulness_curves(ctx, [ig_attr], full),
        faith_direct,
        args.repeats,
    )

    adult = run_request(
        RunRequest.supervised(
            "adult",
            {"n_samples": 1250},
            parse_layers("linear:16 relu linear"),
            {"epochs": 3, "lr": 0.01, "seed": 0},
        ),
        store,
    )
    actx = context_for_run(adult.run_id, store)
    print(f"\nAdult MLP, {len(actx.dataset.train)} training rows")
    x0 = actx.dataset.test.x[:1].float()

    def cf_direct() -> None:
        z = x0.repeat(3, 1).clone().requires_grad_()
        opt = torch.optim.Adam([z], lr=0.05)
        for _ in range(300):
            out = actx.model(z)
            loss = torch.relu(1.0 - (out[:, 1] - out[:, 0])).sum() + 0.1 * (z - x0).abs().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()

    compare(
        "counterfactuals (3, 300 steps)",
        lambda: counterfactuals(actx, 0, n=3, steps=300),
        cf_direct,
        args.repeats,
    )

    t = time.perf_counter()
    checkpoints = run_checkpoints(adult.run_id, store, n=5)
    print(f"{'checkpoints (retraining the run once)':<38} {time.perf_counter() - t:8.3f} s")
    test_rows = list(range(10))

    def tracin_direct() -> None:
        model = copy.deepcopy(actx.model)
        lrs = dict(zip(map(str, checkpoints.paths), checkpoints.learning_rates, strict=True))

        def load(module, path):
            module.model.load_state_dict(load_file(path))
            return lrs[path]

        train = TensorDataset(actx.dataset.train.x.float(), actx.dataset.train.y.long())
        tracer = TracInCP(
            model,
            train,
            [str(p) for p in checkpoints.paths],
            checkpoints_load_func=load,
            layers=gradient_layers(model.model),
            loss_fn=_SummedLoss("cross_entropy"),
            batch_size=512,
            sample_wise_grads_per_batch=True,
        )
        xt = actx.dataset.test.x[test_rows].float()
        yt = actx.outputs(xt).argmax(dim=1)
        tracer.influence((xt, yt), k=5, proponents=True)
        tracer.influence((xt, yt), k=5, proponents=False)
        tracer.self_influence(train.tensors)

    compare(
        "TracIn (10 rows + self-influence)",
        lambda: tracin(actx, checkpoints, test_rows, k=5),
        tracin_direct,
        args.repeats,
    )


if __name__ == "__main__":
    main()
