"""Sanity checks for saliency maps (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

An explanation of *this model* must change when the model does. Two checks:

- Cascading randomisation: replace the weights of the model's layers by fresh random ones,
  from the output layer down, re-attributing after each; compare each map with the original
  (Spearman rank correlation of |attribution|, and for images the structural similarity
  SSIM of the normalised |maps|). A method whose maps stay alike once every layer is random
  shows the input (edges, the image itself) rather than what the model learnt.
- Random labels (where cheap): train a copy of the architecture on shuffled training labels
  and compare its maps with the real model's. A faithful method gives different maps for a
  model that learnt nothing true.

Pure engine code: arrays in, arrays and plain words out.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import rankdata
from torch import nn

from playground.errors import PlaygroundError
from playground.explain import api
from playground.explain._captum_helpers import seeded
from playground.explain.base import Attribution, ExplainRequest, Progress
from playground.explain.context import ExplainContext
from playground.model import BuiltModel
from playground.train.objectives import Objective

FLAG_AT = 0.5  # rank correlation with the original after full randomisation above this: flagged
SSIM_FLAG_AT = 0.5
RANDOM_LABEL_BUDGET = 2e9  # training rows x parameters x epochs above this: the check is skipped
RANDOM_LABEL_EPOCHS = 5


def _quiet(fraction: float, message: str) -> None:
    return None


# ---------------------------------------------------------------- similarity measures


def rank_correlation(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """(N,) Spearman rank correlation of |a[i]| and |b[i]| over each sample's elements, or
    only over the elements `where[i]` is True.

    A map that is constant (every element equal, e.g. all zero after randomisation) has no
    ranking; its correlation is 0 (nothing of the original order survives)."""
    x = np.abs(a.reshape(len(a), -1)).astype(np.float64)
    y = np.abs(b.reshape(len(b), -1)).astype(np.float64)
    if where is None:
        return _row_spearman(x, y)
    keep = where.reshape(len(where), -1)
    return np.array(
        [_row_spearman(x[i : i + 1, k], y[i : i + 1, k])[0] for i, k in enumerate(keep)]
    )


def _row_spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.shape[1] < 2:
        return np.zeros(len(x))
    rx = rankdata(x, axis=1)
    ry = rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    denom = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    out = np.zeros(len(x))
    ok = denom > 0
    out[ok] = (rx[ok] * ry[ok]).sum(axis=1) / denom[ok]
    return out


def attributable(attr: Attribution, baseline: np.ndarray) -> np.ndarray | None:
    """(N, D) elements where the input differs from the baseline, or None for layer maps and
    token inputs. Elsewhere a path method (Integrated Gradients, DeepLIFT, input x gradient)
    gives 0 whatever the weights, so those elements would make any two maps alike by the
    input's shape alone (half an 8x8 digit is background)."""
    if attr.layer_map or attr.values.shape != attr.inputs.shape or attr.inputs.dtype.kind != "f":
        return None
    differs = attr.inputs.reshape(attr.n, -1) != baseline.reshape(len(baseline), -1)
    return differs if differs.any(axis=1).all() else None


def ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> np.ndarray:
    """(N,) structural similarity (Wang et al. 2004) of maps a, b (N, H, W), each scaled to
    [0, 1] by its own maximum, with a uniform `window` (at most the map's side) and the usual
    constants C1 = 0.01^2, C2 = 0.03^2 for a data range of 1. 1 = identical maps."""
    x = torch.as_tensor(_unit_scale(a), dtype=torch.float64).unsqueeze(1)
    y = torch.as_tensor(_unit_scale(b), dtype=torch.float64).unsqueeze(1)
    side = max(1, min(window, x.shape[-1], x.shape[-2]))
    kernel = torch.full((1, 1, side, side), 1.0 / side**2, dtype=torch.float64)
    mu_x, mu_y = F.conv2d(x, kernel), F.conv2d(y, kernel)
    var_x = F.conv2d(x * x, kernel) - mu_x**2
    var_y = F.conv2d(y * y, kernel) - mu_y**2
    cov = F.conv2d(x * y, kernel) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return index.mean(dim=(1, 2, 3)).numpy()


def _unit_scale(maps: np.ndarray) -> np.ndarray:
    m = np.abs(maps.astype(np.float64))
    top = m.reshape(len(m), -1).max(axis=1).reshape(-1, *([1] * (m.ndim - 1)))
    return np.divide(m, top, out=np.zeros_like(m), where=top > 0)


def image_maps(attr: Attribution) -> np.ndarray:
    """(N, H, W) maps of an image attribution: channels summed (Grad-CAM is already (N,H,W))."""
    values = attr.values
    return values.sum(axis=1) if values.ndim == 4 else values


# ---------------------------------------------------------------- randomising layers


def parameter_layers(built: BuiltModel) -> list[tuple[str, str]]:
    """(row index, label) of the model's top-level layers that hold weights, output first:
    the order the cascading randomisation destroys them."""
    rows = {r.index: r for r in built.rows if r.depth == 0}
    out = []
    for i, module in enumerate(built.module):
        if any(True for _ in module.parameters()):
            row = rows.get(str(i))
            out.append((str(i), row.label if row else type(module).__name__))
    return out[::-1]


def randomise(module: nn.Module, seed: int) -> None:
    """Fresh random weights for every sub-layer of `module`, as at initialisation
    (each layer's own `reset_parameters`), from a seeded generator."""
    with seeded(seed), torch.no_grad():
        for sub in module.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()


def _context_like(ctx: ExplainContext, module: nn.Module, suffix: str) -> ExplainContext:
    built = replace(ctx.built, module=module)
    return ExplainContext.of(f"{ctx.run_id}-{suffix}", ctx.dataset, built)


# ---------------------------------------------------------------- the checks


@dataclass
class SanityResult:
    """Similarity of each method's maps to its maps on the trained model.

    `steps[0]` is "trained model"; `steps[k]` names the k-th layer randomised (cumulative:
    at step k the top k layers are random). `rank[m]` and `ssim[m]` are (steps,) means over
    the samples (ssim only for images); 1 = the same map, 0 = unrelated."""

    methods: list[str]
    titles: dict[str, str]
    steps: list[str]
    rank: dict[str, np.ndarray]  # over the elements the method can attribute (`attributable`)
    rank_all: dict[str, np.ndarray]  # over every element
    ssim: dict[str, np.ndarray] | None
    sample_indices: np.ndarray
    flags: dict[str, str] = field(default_factory=dict)  # method -> what is wrong, in words
    passed: dict[str, str] = field(default_factory=dict)  # method -> why it passes
    random_labels: dict[str, float] | None = None  # method -> rank correlation, shuffled labels
    random_labels_ssim: dict[str, float] | None = None
    random_labels_note: str = ""
    seconds: float = 0.0

    def final_rank(self, method: str) -> float:
        return float(self.rank[method][-1])


def cascading_randomisation(
    ctx: ExplainContext,
    methods: Sequence[str],
    base_request: ExplainRequest,
    progress: Progress | None = None,
    seed: int = 0,
    random_labels: bool = True,
) -> SanityResult:
    """Randomise the model's weighted layers from the output down, re-explaining the
    requested rows with each of `methods` after each layer (same request otherwise).

    With `random_labels`, also train a copy on shuffled labels (skipped, with a note, when
    too costly or not classification). Raises PlaygroundError when no method applies."""
    import time

    say = progress or _quiet
    start = time.perf_counter()
    layers = parameter_layers(ctx.built)
    if not layers:
        raise PlaygroundError(
            "This model has no weights to randomise.", "Train a model with at least one layer."
        )
    methods = list(dict.fromkeys(methods))
    if not methods:
        raise PlaygroundError("No method chosen for the sanity check.", "Pick at least one.")
    total = (len(layers) + 1) * len(methods) + (len(methods) + 2 if random_labels else 0)
    done = 0

    def tick(message: str) -> None:
        nonlocal done
        say(done / total, message)
        done += 1

    originals: dict[str, Attribution] = {}
    for m in methods:
        tick(f"Explaining the trained model with {m}")
        originals[m] = api.explain_cached(ctx, replace(base_request, method=m))
    image = ctx.dataset.kind == "image"
    wheres = _attributable_elements(ctx, base_request, originals)
    rank = {m: [1.0] for m in methods}
    rank_all = {m: [1.0] for m in methods}
    sims = {m: [1.0] for m in methods} if image else None
    clone = copy.deepcopy(ctx.built.module)
    for k, (index, _label) in enumerate(layers):
        randomise(clone[int(index)], seed + k)
        rctx = _context_like(ctx, clone, f"sanity{seed}-{k}")
        for m in methods:
            tick(f"Layers {', '.join(i for i, _ in layers[: k + 1])} random: {m}")
            attr = api.explain(rctx, replace(base_request, method=m))
            rank[m].append(
                float(rank_correlation(originals[m].values, attr.values, wheres[m]).mean())
            )
            rank_all[m].append(float(rank_correlation(originals[m].values, attr.values).mean()))
            if sims is not None:
                sims[m].append(float(ssim(image_maps(originals[m]), image_maps(attr)).mean()))
    result = SanityResult(
        methods=methods,
        titles={m: originals[m].title for m in methods},
        steps=["trained model", *(f"{i} {label}" for i, label in layers)],
        rank={m: np.asarray(v) for m, v in rank.items()},
        rank_all={m: np.asarray(v) for m, v in rank_all.items()},
        ssim={m: np.asarray(v) for m, v in sims.items()} if sims is not None else None,
        sample_indices=np.asarray(base_request.sample_indices, dtype=np.int64),
    )
    if random_labels:
        _random_label_check(ctx, methods, base_request, originals, wheres, result, seed, tick)
    _verdicts(result)
    result.seconds = time.perf_counter() - start
    say(1.0, "Sanity checks done")
    return result


def _attributable_elements(
    ctx: ExplainContext, request: ExplainRequest, originals: dict[str, Attribution]
) -> dict[str, np.ndarray | None]:
    if ctx.tokens:
        return dict.fromkeys(originals)
    x, _ = ctx.samples(request)
    baseline = ctx.baseline(x, request).float().cpu().numpy()
    return {m: attributable(a, baseline) for m, a in originals.items()}


def _verdicts(result: SanityResult) -> None:
    """Plain words per method: flagged when its maps barely change (rank correlation above
    FLAG_AT) once every layer is random, or once the labels are shuffled."""
    for m in result.methods:
        r = result.final_rank(m)
        title = result.titles[m]
        whole = float(result.rank_all[m][-1])
        aside = (
            f" ({whole:.2f} counting the elements equal to the baseline, which get no "
            "attribution whatever the weights)"
            if abs(whole - r) > 0.1
            else ""
        )
        if r > FLAG_AT:
            result.flags[m] = (
                f"{title} barely changes when every layer's weights are replaced by random "
                f"ones: rank correlation {r:.2f} with the trained model's maps{aside}. It shows "
                "the input more than what this model learnt: do not use it to explain this "
                "model."
            )
        else:
            result.passed[m] = (
                f"{title} changes when the weights are destroyed: rank correlation {r:.2f} "
                f"with the trained model's maps once every layer is random{aside}."
            )
            s = float(result.ssim[m][-1]) if result.ssim is not None else None
            if s is not None and s > SSIM_FLAG_AT:
                result.passed[m] += (
                    f" Its maps still look alike (SSIM {s:.2f}): their outline comes from the "
                    "input itself, the ranking inside it from the model."
                )
        if result.random_labels is not None and m in result.random_labels:
            rl = result.random_labels[m]
            if rl > FLAG_AT:
                result.flags[m] = (
                    result.flags.get(m, "")
                    + f" With the labels shuffled, {title}'s maps stay alike (rank correlation "
                    f"{rl:.2f}): they do not depend on the labels the model learnt."
                ).strip()
                result.passed.pop(m, None)


def _random_label_check(
    ctx: ExplainContext,
    methods: list[str],
    base_request: ExplainRequest,
    originals: dict[str, Attribution],
    wheres: dict[str, np.ndarray | None],
    result: SanityResult,
    seed: int,
    tick,
) -> None:
    dataset = ctx.dataset
    n_params = sum(p.numel() for p in ctx.built.module.parameters())
    cost = len(dataset.train) * n_params * RANDOM_LABEL_EPOCHS
    if not dataset.is_classification:
        result.random_labels_note = "The random-label check needs class labels; skipped."
        return
    if cost > RANDOM_LABEL_BUDGET:
        result.random_labels_note = (
            f"The random-label check was skipped: retraining {n_params:,} weights on "
            f"{len(dataset.train):,} rows would take minutes. Cascading randomisation above "
            "tests the same thing through the weights."
        )
        return
    tick("Training a copy on shuffled labels")
    model, accuracy = train_on_shuffled_labels(ctx, seed)
    rctx = _context_like(ctx, model, f"shuffled{seed}")
    result.random_labels, result.random_labels_ssim = {}, {}
    for m in methods:
        tick(f"Explaining the shuffled-label model with {m}")
        attr = api.explain(rctx, replace(base_request, method=m))
        result.random_labels[m] = float(
            rank_correlation(originals[m].values, attr.values, wheres[m]).mean()
        )
        if dataset.kind == "image":
            result.random_labels_ssim[m] = float(
                ssim(image_maps(originals[m]), image_maps(attr)).mean()
            )
    if dataset.kind != "image":
        result.random_labels_ssim = None
    result.random_labels_note = (
        f"A copy of the model trained {RANDOM_LABEL_EPOCHS} epochs on shuffled training labels "
        f"(training accuracy {accuracy:.0%}: what it learnt is noise)."
    )


def train_on_shuffled_labels(ctx: ExplainContext, seed: int = 0) -> tuple[nn.Module, float]:
    """A fresh copy of the architecture trained briefly (Adam, lr 1e-3, batch 64) on the
    training split with its labels shuffled; returns (model in eval mode, training accuracy)."""
    dataset = ctx.dataset
    model = copy.deepcopy(ctx.built.module)
    randomise(model, seed + 1000)
    gen = torch.Generator().manual_seed(seed)
    x = dataset.train.x
    y = dataset.train.y[torch.randperm(len(dataset.train), generator=gen)]
    width = ctx.output_width
    objective = Objective(dataset.task, "auto", width, None)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    with torch.enable_grad():
        for _ in range(RANDOM_LABEL_EPOCHS):
            order = torch.randperm(len(x), generator=gen)
            for start in range(0, len(x), 64):
                idx = order[start : start + 64]
                out = model(x[idx].to(ctx.device)).reshape(len(idx), -1)
                loss = objective.loss(out, y[idx].to(ctx.device))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    model.eval()
    with torch.no_grad():
        out = torch.cat(
            [
                model(x[i : i + 1024].to(ctx.device)).reshape(-1, width).cpu()
                for i in range(0, len(x), 1024)
            ]
        )
    accuracy = float((objective.predict(out) == y).float().mean())
    return model, accuracy
