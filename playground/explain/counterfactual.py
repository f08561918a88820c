"""Counterfactuals: the nearest changes to a row that flip the model's decision, found by
gradient search on the model (Wachter et al. 2017, with DiCE's diversity term, Mothilal et
al. 2020), shown in the user's own values.

The search runs in the model's encoded space on a batch of K candidates at once:

    loss = hinge(decision towards the wanted class) + distance to the row + diversity

- distance: L1 in standard deviations for numbers; a category switch costs 1. Each
  candidate weighs features by its own random factors, so candidates go different ways.
- after every step: numbers clamped to the training data's range, locked columns reset to
  the row's values, one-hot groups kept in [0, 1];
- at the end: one-hot groups projected to one category (never to "(missing)"), whole-number
  columns rounded, then each change undone where the decision stays flipped without it
  (fewest changes), and duplicates dropped.

Locked by default: the dataset's sensitive columns (sex, race, age...). Classification only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from playground.data import Dataset
from playground.data.tabular import MISSING
from playground.errors import PlaygroundError
from playground.explain.base import Progress
from playground.explain.context import ExplainContext
from playground.train.objectives import Objective

SEARCH_MARGIN = 1.0  # logits past the boundary the search aims for: survives the projection
KEEP_MARGIN = 0.05  # logits past the boundary a change may be undone down to


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass(frozen=True)
class Column:
    """One column as a person edits it: a number (one encoded index) or a category (a one-hot
    group of indices). `lo`, `hi` bound a number's encoded value (training range)."""

    name: str
    kind: str  # "number" | "category"
    indices: tuple[int, ...]
    lo: float = 0.0
    hi: float = 1.0
    whole: bool = False  # whole numbers in the data (age, counts): rounded
    categories: tuple[str, ...] = ()
    mean: float = 0.0  # encoded = (raw - mean) / std
    std: float = 1.0


def columns_of(dataset: Dataset) -> list[Column]:
    """The editable columns of a tabular (with its encoder) or 2D dataset, in encoded order."""
    x = dataset.train.x.float()
    lo, hi = x.min(dim=0).values.tolist(), x.max(dim=0).values.tolist()
    encoder = dataset.encoder
    if dataset.kind == "toy2d" or encoder is None:
        if dataset.kind not in ("toy2d", "tabular") or x.ndim != 2:
            raise PlaygroundError(
                f"Counterfactuals edit rows of tables and 2D points; {dataset.title} is "
                f"{dataset.kind} data.",
                "Use a tabular or 2D dataset.",
            )
        return [
            Column(n, "number", (i,), lo[i], hi[i]) for i, n in enumerate(dataset.feature_names)
        ]
    index = {name: i for i, name in enumerate(dataset.feature_names)}
    raw = dataset.train.raw
    columns = []
    for col in encoder.numeric:
        i = index[col]
        values = pd.to_numeric(raw[col], errors="coerce").dropna() if raw is not None else None
        whole = values is not None and len(values) > 0 and bool(np.all(values == np.round(values)))
        columns.append(
            Column(
                col, "number", (i,), lo[i], hi[i], whole, (), encoder.means[col], encoder.stds[col]
            )
        )
    for col in encoder.categorical:
        cats = tuple(encoder.categories[col])
        columns.append(
            Column(col, "category", tuple(index[f"{col}={c}"] for c in cats), categories=cats)
        )
    return columns


def default_locked(dataset: Dataset) -> list[str]:
    """Columns a counterfactual may not change unless the user unlocks them: the sensitive
    attributes that are also model inputs."""
    names = {c.name for c in columns_of(dataset)}
    return [a for a in dataset.sensitive_attributes if a in names]


@dataclass
class CounterfactualResult:
    """K candidates for one test row. `rows` holds the original then each candidate in the
    user's values with the model's probability of the wanted class; `changes` one line per
    changed column (candidate, column, from, to)."""

    row: int
    original_class: str
    wanted_class: str
    rows: pd.DataFrame
    changes: pd.DataFrame
    flipped: np.ndarray  # (K,) bool
    probability: np.ndarray  # (K,) of the wanted class
    encoded: np.ndarray  # (K, F) candidates as the model sees them
    original: np.ndarray  # (F,)
    locked: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def found(self) -> int:
        return int(self.flipped.sum())


def counterfactuals(
    ctx: ExplainContext,
    row: int,
    *,
    wanted: int | None = None,
    locked: list[str] | None = None,
    n: int = 3,
    steps: int = 300,
    lr: float = 0.05,
    diversity: float = 0.1,
    seed: int = 0,
    progress: Progress | None = None,
) -> CounterfactualResult:
    """Up to `n` diverse counterfactuals for test row `row` that the model assigns to class
    `wanted` (default: the likeliest class other than its prediction). `locked` columns
    (default: `default_locked`) keep their values. Raises PlaygroundError for regression,
    unknown columns or rows."""
    say = progress or _quiet
    dataset = ctx.dataset
    if not dataset.is_classification:
        raise PlaygroundError(
            "Counterfactuals flip a decision; a regression model has none.",
            "Use a classification run, or the what-if panel to move the prediction.",
        )
    columns = columns_of(dataset)
    names = [c.name for c in columns]
    locked = default_locked(dataset) if locked is None else list(locked)
    unknown = [c for c in locked if c not in names]
    if unknown:
        raise PlaygroundError(
            f"No column named {', '.join(map(repr, unknown))} to lock.",
            f"Columns: {', '.join(names)}.",
        )
    if not 0 <= row < len(dataset.test):
        raise PlaygroundError(
            f"Test row {row} does not exist.", f"Choose 0..{len(dataset.test) - 1}."
        )
    x0 = dataset.test.x[row : row + 1].float().to(ctx.device)
    width = ctx.output_width
    objective = Objective(dataset.task, "auto", width, None)
    predicted = int(objective.predict(ctx.outputs(x0))[0])
    n_classes = max(2, width)
    if wanted is None:
        proba = objective.probabilities(ctx.outputs(x0))[0].clone()
        proba[predicted] = -1
        wanted = int(proba.argmax())
    if not 0 <= wanted < n_classes or wanted == predicted:
        raise PlaygroundError(
            f"Class {wanted} is not a change from the prediction ({predicted}).",
            f"Choose a class other than {predicted}, between 0 and {n_classes - 1}.",
        )
    lock_idx = [i for c in columns if c.name in locked for i in c.indices]
    gen = torch.Generator().manual_seed(seed)
    features = x0.shape[1]
    # Each candidate's own weights on the distance, so the K searches go different ways.
    weights = (0.5 + 1.5 * torch.rand(n, features, generator=gen)).to(ctx.device)
    weights[0] = 1.0  # the first candidate is the plain nearest one
    start = x0.repeat(n, 1) + 0.1 * torch.randn(n, features, generator=gen).to(ctx.device)
    z = _clamp(start, x0, columns, lock_idx).requires_grad_()
    optimiser = torch.optim.Adam([z], lr=lr)
    lo, hi = _bounds(columns, x0, lock_idx)
    model = ctx.model
    with torch.enable_grad():
        for step in range(steps):
            if step % 50 == 0:
                say(0.9 * step / steps, f"Searching: step {step} of {steps}")
            out = model(z)
            validity = _hinge(out, wanted, width, SEARCH_MARGIN).sum()
            distance = (weights * (z - x0).abs()).sum()
            spread = torch.cdist(z, z, p=1).sum() / max(n * (n - 1), 1) if n > 1 else 0.0
            loss = validity + 0.1 * distance - diversity * spread
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                z.copy_(torch.minimum(torch.maximum(z, lo), hi))
    say(0.9, "Making the candidates valid and sparse")
    with torch.no_grad():
        cand = _project(z.detach(), x0, columns)
        cand = _sparsify(model, cand, x0, columns, wanted, width)
        cand = torch.unique(cand, dim=0) if len(cand) > 1 else cand
        out = model(cand)
        flipped = (objective.predict(out) == wanted).cpu().numpy()
        proba = objective.probabilities(out)[:, wanted].cpu().numpy().astype(np.float64)
        # Only candidates that flip are counterfactuals; likelier first.
        keep = np.flatnonzero(flipped)[np.argsort(-proba[flipped], kind="stable")]
        tried = len(cand)
        cand, flipped, proba = cand[keep], flipped[keep], proba[keep]
        base_proba = float(objective.probabilities(ctx.outputs(x0))[0, wanted])
    class_names = dataset.class_names or [str(i) for i in range(n_classes)]
    original_values = _user_values(dataset, columns, x0.cpu().numpy(), row)
    candidate_values = _user_values(dataset, columns, cand.cpu().numpy(), None)
    rows = pd.concat([original_values, candidate_values], ignore_index=True)
    rows.insert(0, "row", ["original", *(f"counterfactual {i + 1}" for i in range(len(cand)))])
    rows[f"P({class_names[wanted]})"] = [base_proba, *proba]
    changes = _changes(
        original_values.iloc[0],
        candidate_values,
        columns,
        cand.cpu().numpy(),
        x0[0].cpu().numpy(),
    )
    notes = []
    if 0 < len(cand) < tried:
        notes.append(
            f"{tried - len(cand)} of {tried} searches ended without flipping the decision "
            "or repeated another; they are not shown."
        )
    if not flipped.any():
        notes.append(
            f"No change within the training data's ranges flips this row to "
            f"{class_names[wanted]!r}"
            + (f" with {', '.join(locked)} locked" if locked else "")
            + ". Unlock a column, or ask for another class."
        )
    if locked:
        notes.append(f"Locked (not changed): {', '.join(locked)}.")
    say(1.0, "Counterfactuals done")
    return CounterfactualResult(
        row=row,
        original_class=class_names[predicted],
        wanted_class=class_names[wanted],
        rows=rows,
        changes=changes,
        flipped=flipped.astype(bool),
        probability=proba,
        encoded=cand.cpu().numpy(),
        original=x0[0].cpu().numpy(),
        locked=locked,
        notes=notes,
    )


def _hinge(out: torch.Tensor, wanted: int, width: int, margin: float) -> torch.Tensor:
    """(K,) how far each candidate is from being `wanted` by `margin` logits; 0 once it is."""
    if width == 1:  # one logit: class 1 when it is above 0
        sign = 1.0 if wanted == 1 else -1.0
        return torch.relu(margin - sign * out[:, 0])
    others = out.clone()
    others[:, wanted] = -torch.inf
    return torch.relu(margin - (out[:, wanted] - others.max(dim=1).values))


def _bounds(
    columns: list[Column], x0: torch.Tensor, lock_idx: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(F,) lower and upper bounds per encoded feature: a number's training range, [0, 1] for
    one-hot columns, the row's own value for locked ones; one clamp per step then does it."""
    lo = torch.zeros_like(x0[0])
    hi = torch.ones_like(x0[0])
    for c in columns:
        if c.kind == "number":
            lo[list(c.indices)], hi[list(c.indices)] = c.lo, c.hi
    if lock_idx:
        lo[lock_idx] = hi[lock_idx] = x0[0, lock_idx]
    return lo, hi


def _clamp(
    z: torch.Tensor, x0: torch.Tensor, columns: list[Column], lock_idx: list[int]
) -> torch.Tensor:
    lo, hi = _bounds(columns, x0, lock_idx)
    return torch.minimum(torch.maximum(z, lo), hi)


def _project(z: torch.Tensor, x0: torch.Tensor, columns: list[Column]) -> torch.Tensor:
    """One category per one-hot group (the largest; "(missing)" only if the row had it), and
    whole numbers where the data has only whole numbers."""
    z = z.clone()
    for c in columns:
        idx = list(c.indices)
        if c.kind == "category":
            scores = z[:, idx].clone()
            for j, cat in enumerate(c.categories):
                if cat == MISSING and float(x0[0, idx[j]]) < 0.5:
                    scores[:, j] = -torch.inf
            pick = scores.argmax(dim=1)
            z[:, idx] = torch.nn.functional.one_hot(pick, len(idx)).to(z.dtype)
        elif c.whole:
            raw = torch.round(z[:, idx] * c.std + c.mean)
            z[:, idx] = ((raw - c.mean) / c.std).clamp(c.lo, c.hi)
    return z


def _sparsify(
    model: torch.nn.Module,
    cand: torch.Tensor,
    x0: torch.Tensor,
    columns: list[Column],
    wanted: int,
    width: int,
) -> torch.Tensor:
    """Undo changed columns one at a time, smallest change first, wherever the candidate
    stays on the wanted side without them: each kept change is needed."""
    cand = cand.clone()
    for k in range(len(cand)):
        if float(_hinge(model(cand[k : k + 1]), wanted, width, KEEP_MARGIN)[0]) > 0:
            continue  # not flipped: leave it as found
        sizes = [
            (float((cand[k, list(c.indices)] - x0[0, list(c.indices)]).abs().sum()), c)
            for c in columns
        ]
        for _size, c in sorted((s for s in sizes if s[0] > 1e-6), key=lambda s: s[0]):
            trial = cand[k].clone()
            trial[list(c.indices)] = x0[0, list(c.indices)]
            if float(_hinge(model(trial[None]), wanted, width, KEEP_MARGIN)[0]) == 0:
                cand[k] = trial
    return cand


def _user_values(
    dataset: Dataset, columns: list[Column], encoded: np.ndarray, row: int | None
) -> pd.DataFrame:
    """Encoded rows (K, F) in the user's values: numbers unscaled, one-hot groups as their
    category. The original row (`row`) is read from the data as given."""
    if row is not None and dataset.test.raw is not None:
        raw = dataset.test.raw.iloc[[row]][[c.name for c in columns]].reset_index(drop=True)
        return raw
    out: dict[str, list] = {}
    for c in columns:
        part = encoded[:, list(c.indices)]
        if c.kind == "category":
            out[c.name] = [c.categories[int(j)] for j in part.argmax(axis=1)]
        else:
            values = part[:, 0].astype(np.float64) * c.std + c.mean
            out[c.name] = np.round(values).astype(np.int64) if c.whole else values
    return pd.DataFrame(out)


def _changes(
    original: pd.Series,
    candidates: pd.DataFrame,
    columns: list[Column],
    encoded: np.ndarray,
    x0: np.ndarray,
) -> pd.DataFrame:
    """One line per column a candidate changes (compared as the model sees them, so a
    missing number filled with the median is unchanged until moved), values as text."""
    lines = []
    for k in range(len(candidates)):
        for c in columns:
            idx = list(c.indices)
            if np.abs(encoded[k, idx] - x0[idx]).max() <= 1e-5:
                continue
            lines.append(
                {
                    "counterfactual": k + 1,
                    "column": c.name,
                    "from": _text(original[c.name]),
                    "to": _text(candidates.iloc[k][c.name]),
                }
            )
    return pd.DataFrame(lines, columns=["counterfactual", "column", "from", "to"])


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)
