"""In-training mitigation by reductions: Fairlearn's GridSearch and ExponentiatedGradient,
with the run's own network (NetworkClassifier) as the estimator.

Both retrain the network on the run's training split many times, each time on a weighted,
relabelled problem (a Lagrange multiplier per constraint; see cells.py), and:

    grid_search            one network per multiplier on a grid: each is a point of an
                           accuracy-versus-disparity front (measured on the validation split,
                           so the test split stays unseen while choosing); a chosen point is
                           kept as a stored run (`keep_grid_point`).
    exponentiated_gradient a randomised classifier: a mixture of the networks it trained,
                           each used with a probability (`weights`), that meets the constraint
                           within `eps` on the training rows (`keep_mixture`).

How they are stored: every kept network is a run whose request is mode `cell_weights` with
the reduction's (group, label) -> (target, weight) recipe, so `run_request` trains the same
network again from the dataset alone (same spec, config and seed; tests check it). The
weights stored are the ones the search trained. A mixture is a run of its own (lineage
variant "exponentiated_gradient") listing its members' run ids and probabilities, plus any
constant predictor the reduction used; its stored weights are its heaviest member's (what
Inspect and Explain show), and its decisions are drawn per row, seeded, as Fairlearn's
`predict(X, random_state)` does (`mixture_predictions`).

Training many networks is work for a worker, never the web server: the app calls
`in_worker_process`, which runs a search in a fresh process and reports its progress back.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.explain.base import Progress
from playground.fairness.actions import ATTRIBUTE, quote, try_fairness_data
from playground.fairness.cells import Cell, cell_recipe
from playground.fairness.estimator import NetworkClassifier, load_module, training_config
from playground.fairness.groups import groups_for_split
from playground.fairness.metrics import audit_predictions
from playground.fairness.postprocessing import CONSTRAINTS

# The disparity each constraint asks to shrink (a ModelAudit.disparities key).
DISPARITY_OF = {
    "demographic_parity": "demographic_parity_difference",
    "equalized_odds": "equalized_odds_difference",
    "true_positive_rate_parity": "equal_opportunity_difference",
}
REDUCTIONS = {
    "grid_search": "GridSearch (one network per multiplier: a front to choose from)",
    "exponentiated_gradient": "ExponentiatedGradient (a randomised mixture of networks)",
}
DEFAULT_GRID = 7
# Multipliers beyond about 1 turn every decision into one answer on this data: a finer grid
# near 0 draws more of the front than Fairlearn's default of 2.
DEFAULT_GRID_LIMIT = 1.0
DEFAULT_EPS = 0.02
DEFAULT_ITERATIONS = 20
MIXTURE_SEED = 0  # a mixture's per-row draws: the same decisions every time it is audited


def moment(constraint: str) -> Any:
    """The Fairlearn moment (constraint object) for a constraint name."""
    from fairlearn.reductions import DemographicParity, EqualizedOdds, TruePositiveRateParity

    moments = {
        "demographic_parity": DemographicParity,
        "equalized_odds": EqualizedOdds,
        "true_positive_rate_parity": TruePositiveRateParity,
    }
    if constraint not in moments:
        raise PlaygroundError(
            f"Unknown fairness constraint {constraint!r}.",
            f"Choose one of: {', '.join(CONSTRAINTS)}.",
        )
    return moments[constraint]()


@dataclass
class ReductionProblem:
    """What a reduction trains on: the run's training split (X (N, D) float32, y (N,)), the
    group of each row, and the network (spec, config) it retrains."""

    dataset: Dataset
    attribute: str
    spec: dict[str, Any]
    config: dict[str, Any]
    x: np.ndarray
    y: np.ndarray
    groups: pd.Series

    @classmethod
    def of(
        cls, dataset: Dataset, attribute: str, spec: dict[str, Any], config: Mapping[str, Any]
    ) -> ReductionProblem:
        if dataset.task != "binary" or not dataset.sensitive_attributes:
            raise PlaygroundError(
                "Reductions mitigate a yes/no decision: they need a binary dataset with "
                "sensitive attributes.",
                try_fairness_data(),
            )
        if dataset.kind != "tabular":
            raise PlaygroundError(
                f"Reductions here retrain tabular models; {dataset.title} is {dataset.kind}.",
                "Use a tabular dataset (hiring, adult, german_credit or a CSV).",
            )
        groups = groups_for_split(dataset, "train", attribute)
        if groups.nunique() < 2:
            raise PlaygroundError(
                f"The training rows hold one group of {attribute!r}: nothing to balance.",
                f"Choose another {quote(ATTRIBUTE)}.",
            )
        config = training_config(dict(config)).model_dump()
        x = dataset.train.x.numpy().astype(np.float32)
        return cls(dataset, attribute, dict(spec), config, x, dataset.train.y.numpy(), groups)


@dataclass
class ReducedNetwork:
    """One network a reduction trained: its recipe and weights (safetensors bytes), or a
    constant decision (`constant` 0 or 1, no weights) where the reduction used one."""

    cells: list[Cell]
    spec: dict[str, Any]
    weights: bytes | None
    constant: int | None = None
    multipliers: dict[str, float] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """0/1 decisions (N,) for encoded rows (N, D)."""
        if self.constant is not None:
            return np.full(len(x), self.constant, dtype=np.int64)
        return load_module(self.spec, self.weights or b"", x)


@dataclass
class GridResult:
    """`table`: one row per grid point (point, val/test accuracy and disparity, on_front:
    no other point is both more accurate and less unequal on the validation split);
    `networks[i]` is point i's network."""

    attribute: str
    constraint: str
    table: pd.DataFrame
    networks: list[ReducedNetwork]
    seconds: float


@dataclass
class MixtureResult:
    """`members[i]` is used with probability `weights[i]`; `table` holds the mixture's
    validation and test accuracy and disparity (decisions drawn with MIXTURE_SEED)."""

    attribute: str
    constraint: str
    eps: float
    members: list[ReducedNetwork]
    weights: list[float]
    table: pd.DataFrame
    oracle_calls: int
    seconds: float


class _Recording(NetworkClassifier):
    """A NetworkClassifier that remembers the problem of its last fit (targets, weights) so
    the recipe can be read back, and counts fits for progress."""

    def __init__(
        self, spec: dict[str, Any], config: dict[str, Any], on_fit: Callable[[], None] | None = None
    ) -> None:
        super().__init__(spec, config)
        self.on_fit = on_fit

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _Recording:
        self.fit_targets_ = np.asarray(y).reshape(-1).astype(np.int64)
        self.fit_weights_ = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        super().fit(X, y, sample_weight)
        if self.on_fit is not None:
            self.on_fit()
        return self


def _network(
    problem: ReductionProblem, fitted: Any, multipliers: pd.Series | None
) -> ReducedNetwork:
    lam = {} if multipliers is None else {_key(k): float(v) for k, v in multipliers.items()}
    if not isinstance(fitted, _Recording):  # Fairlearn's DummyClassifier: one constant label
        constant = int(np.asarray(fitted.predict(problem.x[:1]))[0])
        return ReducedNetwork([], problem.spec, None, constant, lam)
    cells = cell_recipe(problem.groups, problem.y, fitted.fit_targets_, fitted.fit_weights_)
    return ReducedNetwork(cells, problem.spec, fitted.weights_bytes(), None, lam)


def _key(index: Any) -> str:
    """A multiplier's index ('+', 'all', 'female') as text: '+ all female'."""
    return " ".join(map(str, index)) if isinstance(index, tuple) else str(index)


def _score(
    problem: ReductionProblem, constraint: str, predict: Callable[[np.ndarray], np.ndarray]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for split in ("val", "test"):
        data = problem.dataset.split(split)
        y = data.y.numpy()
        pred = predict(data.x.numpy().astype(np.float32))
        groups = groups_for_split(problem.dataset, split, problem.attribute)
        audit = audit_predictions(y, pred, groups, n_boot=0)
        out[f"{split}_accuracy"] = float((pred == y).mean())
        out[f"{split}_disparity"] = float(audit.disparities[DISPARITY_OF[constraint]])
        out[f"{split}_selection_rate"] = float(pred.mean())
    return out


def pareto_front(accuracy: np.ndarray, disparity: np.ndarray) -> np.ndarray:
    """Which points (N,) no other point beats on both: at least as accurate and at most as
    unequal, and strictly better on one."""
    acc, gap = np.asarray(accuracy, float), np.asarray(disparity, float)
    better_eq = (acc[None, :] >= acc[:, None]) & (gap[None, :] <= gap[:, None])
    strictly = (acc[None, :] > acc[:, None]) | (gap[None, :] < gap[:, None])
    return ~(better_eq & strictly).any(axis=1)


def grid_search(
    problem: ReductionProblem,
    constraint: str = "demographic_parity",
    grid_size: int = DEFAULT_GRID,
    grid_limit: float = DEFAULT_GRID_LIMIT,
    on_fit: Callable[[], None] | None = None,
) -> GridResult:
    """Fairlearn's GridSearch over `grid_size` multipliers in [-grid_limit, grid_limit]."""
    from fairlearn.reductions import GridSearch

    start = time.perf_counter()
    search = GridSearch(
        _Recording(problem.spec, problem.config, on_fit),
        constraints=moment(constraint),
        grid_size=grid_size,
        grid_limit=grid_limit,
    )
    search.fit(problem.x, problem.y, sensitive_features=problem.groups.to_numpy())
    networks, rows = [], []
    for i, fitted in enumerate(search.predictors_):
        lam = search.lambda_vecs_[i]
        net = _network(problem, fitted, lam)
        networks.append(net)
        rows.append(
            {
                "point": i,
                **_score(problem, constraint, fitted.predict),
                "multipliers": _lam_text(net),
            }
        )
    table = pd.DataFrame(rows)
    table["on_front"] = pareto_front(table["val_accuracy"], table["val_disparity"])
    return GridResult(problem.attribute, constraint, table, networks, time.perf_counter() - start)


def _lam_text(net: ReducedNetwork) -> str:
    shown = {k: v for k, v in net.multipliers.items() if abs(v) > 1e-12}
    return ", ".join(f"{k}: {v:.2f}" for k, v in shown.items()) or "0 (accuracy only)"


def exponentiated_gradient(
    problem: ReductionProblem,
    constraint: str = "demographic_parity",
    eps: float = DEFAULT_EPS,
    max_iter: int = DEFAULT_ITERATIONS,
    on_fit: Callable[[], None] | None = None,
) -> MixtureResult:
    """Fairlearn's ExponentiatedGradient: a mixture meeting the constraint within `eps`."""
    from fairlearn.reductions import ExponentiatedGradient

    start = time.perf_counter()
    reduction = ExponentiatedGradient(
        _Recording(problem.spec, problem.config, on_fit),
        constraints=moment(constraint),
        eps=eps,
        max_iter=max_iter,
    )
    reduction.fit(problem.x, problem.y, sensitive_features=problem.groups.to_numpy())
    members, weights = [], []
    for i, fitted in enumerate(reduction.predictors_):
        w = float(reduction.weights_.iloc[i])
        if w > 0:
            members.append(_network(problem, fitted, reduction.lambda_vecs_.iloc[:, i]))
            weights.append(w)
    total = sum(weights)
    weights = [w / total for w in weights]

    def predict(x: np.ndarray) -> np.ndarray:
        return draw_mixture([m.predict(x) for m in members], weights, MIXTURE_SEED)

    table = pd.DataFrame([{"members": len(members), **_score(problem, constraint, predict)}])
    calls = len(reduction.predictors_)
    return MixtureResult(
        problem.attribute,
        constraint,
        eps,
        members,
        weights,
        table,
        calls,
        time.perf_counter() - start,
    )


def draw_mixture(decisions: list[np.ndarray], weights: list[float], seed: int) -> np.ndarray:
    """A randomised classifier's decisions (N,): each row is positive with probability
    sum_i weights[i] * decisions[i][row] (the mixture's pmf), drawn with `seed`."""
    pmf = np.zeros(len(decisions[0]))
    for d, w in zip(decisions, weights, strict=True):
        pmf += w * np.asarray(d, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return (rng.random(len(pmf)) < pmf).astype(np.int64)


# -- running a search away from the web server ---------------------------------------------
def run_search(
    dataset_name: str,
    dataset_params: dict[str, Any],
    attribute: str,
    spec: dict[str, Any],
    config: dict[str, Any],
    reduction: str,
    constraint: str,
    options: dict[str, Any],
    on_fit: Callable[[], None] | None = None,
) -> GridResult | MixtureResult:
    """Load the dataset and run one reduction ('grid_search' or 'exponentiated_gradient')."""
    from playground.data import load_dataset

    dataset = load_dataset(dataset_name, **dataset_params)
    problem = ReductionProblem.of(dataset, attribute, spec, config)
    if reduction == "grid_search":
        return grid_search(problem, constraint, on_fit=on_fit, **options)
    if reduction == "exponentiated_gradient":
        return exponentiated_gradient(problem, constraint, on_fit=on_fit, **options)
    raise PlaygroundError(
        f"Unknown reduction {reduction!r}.", f"Choose one of: {', '.join(REDUCTIONS)}."
    )


def expected_fits(reduction: str, options: Mapping[str, Any]) -> int:
    """About how many networks a search trains (for its progress bar)."""
    if reduction == "grid_search":
        return int(options.get("grid_size", DEFAULT_GRID))
    return int(options.get("max_iter", DEFAULT_ITERATIONS)) + 1


def _child(conn: Any, kwargs: dict[str, Any]) -> None:
    count = [0]

    def on_fit() -> None:
        count[0] += 1
        conn.send(("fit", count[0]))

    try:
        conn.send(("done", run_search(**kwargs, on_fit=on_fit)))
    except PlaygroundError as exc:
        conn.send(("error", (exc.message, exc.hint)))
    except Exception as exc:  # reported to the page, not a traceback in a dead process
        conn.send(("error", (f"{type(exc).__name__}: {exc}", "")))
    finally:
        conn.close()


def in_worker_process(kwargs: dict[str, Any], progress: Progress) -> GridResult | MixtureResult:
    """`run_search(**kwargs)` in a fresh process (spawned: no threads or locks inherited),
    reporting networks trained to `progress`; if `progress` raises (Cancel), the process is
    ended. The web server's process never runs the training loop."""
    total = max(expected_fits(kwargs["reduction"], kwargs.get("options", {})), 1)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, kwargs), daemon=True)
    process.start()
    child.close()
    try:
        fraction, message = 0.0, "Starting a worker process"
        while True:
            progress(fraction, message)  # raises when the page cancelled the task
            if parent.poll(0.25):
                try:
                    kind, value = parent.recv()
                except EOFError:
                    raise PlaygroundError(
                        "The worker process running the reduction ended without a result.",
                        "Try again with fewer networks (a smaller grid or fewer iterations).",
                    ) from None
                if kind == "fit":
                    fraction, message = min(value / total, 0.99), f"Trained {value} networks"
                elif kind == "done":
                    return value
                else:
                    raise PlaygroundError(*value)
            elif not process.is_alive() and not parent.poll():
                raise PlaygroundError(
                    "The worker process running the reduction stopped.",
                    "Try again with fewer networks (a smaller grid or fewer iterations).",
                )
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        parent.close()
