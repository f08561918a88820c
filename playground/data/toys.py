"""2-D toy datasets in the spirit of TensorFlow Playground.

Each generator is a pure function of (n_samples, noise, seed) returning x (N, 2) float and
y (N,). Points lie roughly in [-1, 1]^2 and are not rescaled, so a decision-boundary plot
shows the same coordinates the data was drawn in. `noise` is the standard deviation of
Gaussian noise added to the coordinates (classification) or to the target (regression).
"""

from __future__ import annotations

import numpy as np

from playground.data.dataset import Dataset, Task
from playground.data.registry import register_dataset
from playground.data.splitting import check_n_samples, dataset_from_arrays
from playground.errors import DatasetError

FEATURES = ["x1", "x2"]
Arrays = tuple[np.ndarray, np.ndarray]


def _halves(n: int) -> tuple[int, int]:
    """Per-class counts for a balanced binary set of n points."""
    return n // 2, n - n // 2


def _with_noise(rng: np.random.Generator, x: np.ndarray, noise: float) -> np.ndarray:
    return x + rng.normal(0.0, noise, size=x.shape)


def circle_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Class 1: a disc of radius 0.5; class 0: a ring from radius 0.7 to 1."""
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n_samples)
    radius = np.concatenate([rng.uniform(0.7, 1.0, n0), rng.uniform(0.0, 0.5, n1)])
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return _with_noise(rng, x, noise), np.repeat([0, 1], [n0, n1])


def xor_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Uniform points in the four quadrants; class 1 where x1 and x2 have the same sign."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    x += np.sign(x) * 0.05  # a small gap along the axes, as in TF Playground
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return _with_noise(rng, x, noise), y


def gaussian_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Two Gaussian blobs centred at (-0.5, -0.5) (class 0) and (0.5, 0.5) (class 1)."""
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n_samples)
    y = np.repeat([0, 1], [n0, n1])
    centres = np.where(y[:, None] == 1, 0.5, -0.5)
    x = centres + rng.normal(0.0, 0.2, size=(n_samples, 2))
    return _with_noise(rng, x, noise), y


def spiral_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Two interleaved spiral arms (1.5 turns), one per class, radius growing from 0 to 1."""
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n_samples)
    xs = []
    for count, offset in ((n0, 0.0), (n1, np.pi)):
        t = rng.uniform(0.0, 1.0, count)
        # 1.5 turns: with 1.75 (as in TF Playground) a tanh MLP on unit-scale inputs sometimes
        # stalls for hundreds of epochs; 1.5 is still clearly non-linear but reliably learnable.
        angle = 1.5 * 2 * np.pi * t + offset
        xs.append(np.stack([t * np.sin(angle), t * np.cos(angle)], axis=1))
    return _with_noise(rng, np.concatenate(xs), noise), np.repeat([0, 1], [n0, n1])


def moons_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Two interleaving half circles (like scikit-learn's make_moons), centred and scaled."""
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n_samples)
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = (np.concatenate([upper, lower]) - [0.5, 0.25]) / 1.5
    return _with_noise(rng, x, noise), np.repeat([0, 1], [n0, n1])


def plane_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Uniform points; target (x1 + x2) / 2 plus noise: a tilted plane."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    return x, x.sum(axis=1) / 2 + rng.normal(0.0, noise, n_samples)


# A 3x3 grid of bumps with alternating signs, like TF Playground's "multi gaussian".
_BUMP_CENTRES = np.array([(a, b) for a in (-0.66, 0.0, 0.66) for b in (-0.66, 0.0, 0.66)])
_BUMP_SIGNS = np.array([1.0 if (i + j) % 2 == 0 else -1.0 for i in range(3) for j in range(3)])
_BUMP_WIDTH = 0.25


def gaussian_bumps_points(n_samples: int, noise: float, seed: int) -> Arrays:
    """Uniform points; target is a signed sum of Gaussian bumps plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    sq_dist = ((x[:, None, :] - _BUMP_CENTRES[None, :, :]) ** 2).sum(axis=2)
    y = (np.exp(-sq_dist / (2 * _BUMP_WIDTH**2)) * _BUMP_SIGNS).sum(axis=1)
    return x, y + rng.normal(0.0, noise, n_samples)


def _build(
    name: str,
    points: Arrays,
    task: Task,
    params: dict,
    class_names: list[str] | None,
    description: str,
) -> Dataset:
    x, y = points
    return dataset_from_arrays(
        name=name,
        params=params,
        x=x.astype(np.float32),
        y=y if task != "regression" else y.astype(np.float64),
        task=task,
        kind="toy2d",
        feature_names=FEATURES,
        seed=params["seed"],
        class_names=class_names,
        description=description,
    )


def _check(n_samples: int, noise: float) -> None:
    check_n_samples(n_samples)
    if noise < 0:
        raise DatasetError(f"noise={noise} is negative.", "Use a noise of 0 or more.")


CIRCLE = "A disc of one class inside a ring of the other: needs a curved boundary."


@register_dataset("circle", title="Circle", kind="toy2d", task="binary", description=CIRCLE)
def circle(n_samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = circle_points(n_samples, noise, seed)
    return _build("circle", points, "binary", params, ["outer ring", "inner disc"], CIRCLE)


XOR = "Opposite quadrants share a class: no single straight line separates them."


@register_dataset("xor", title="XOR", kind="toy2d", task="binary", description=XOR)
def xor(n_samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = xor_points(n_samples, noise, seed)
    return _build("xor", points, "binary", params, ["opposite signs", "same sign"], XOR)


GAUSSIAN = "Two Gaussian blobs: separable by a straight line."


@register_dataset(
    "gaussian", title="Two Gaussians", kind="toy2d", task="binary", description=GAUSSIAN
)
def gaussian(n_samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = gaussian_points(n_samples, noise, seed)
    names = ["lower-left blob", "upper-right blob"]
    return _build("gaussian", points, "binary", params, names, GAUSSIAN)


SPIRAL = "Two interleaved spiral arms: the hardest toy, needs depth or good features."


@register_dataset("spiral", title="Spiral", kind="toy2d", task="binary", description=SPIRAL)
def spiral(n_samples: int = 1000, noise: float = 0.02, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = spiral_points(n_samples, noise, seed)
    return _build("spiral", points, "binary", params, ["arm A", "arm B"], SPIRAL)


MOONS = "Two interleaving half moons: a gently curved boundary."


@register_dataset("moons", title="Moons", kind="toy2d", task="binary", description=MOONS)
def moons(n_samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = moons_points(n_samples, noise, seed)
    return _build("moons", points, "binary", params, ["upper moon", "lower moon"], MOONS)


PLANE = "Regression: the target rises linearly across the plane, (x1 + x2) / 2."


@register_dataset("plane", title="Plane", kind="toy2d", task="regression", description=PLANE)
def plane(n_samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    return _build("plane", plane_points(n_samples, noise, seed), "regression", params, None, PLANE)


BUMPS = "Regression: a 3x3 grid of positive and negative Gaussian bumps."


@register_dataset(
    "gaussian_bumps", title="Gaussian bumps", kind="toy2d", task="regression", description=BUMPS
)
def gaussian_bumps(n_samples: int = 800, noise: float = 0.05, seed: int = 0) -> Dataset:
    _check(n_samples, noise)
    params = {"n_samples": n_samples, "noise": noise, "seed": seed}
    points = gaussian_bumps_points(n_samples, noise, seed)
    return _build("gaussian_bumps", points, "regression", params, None, BUMPS)


# Mixtures of Gaussians for GANs: each mode is a class, so a generator's mode coverage can be
# counted against the labels (a mode's centre is its class mean).


def _mixture(rng: np.random.Generator, centres: np.ndarray, n: int, std: float) -> Arrays:
    """n points spread evenly over the centres (label = centre index), N(centre, std^2 I)."""
    y = np.arange(n) % len(centres)
    return centres[y] + rng.normal(0.0, std, size=(n, 2)), y


def _check_std(std: float) -> None:
    if not std > 0:
        raise DatasetError(f"std={std} must be positive.", "Try 0.05.")


RING_MODES = 8
RING = (
    "Eight Gaussians on a circle of radius 1, one class each: the classic GAN mode-collapse test."
)


def ring_centres() -> np.ndarray:
    """The ring's mode centres (8, 2), mode k at angle k x 45 degrees."""
    angle = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


@register_dataset(
    "ring", title="Ring of 8 Gaussians", kind="toy2d", task="multiclass", description=RING
)
def ring(n_samples: int = 1000, std: float = 0.05, seed: int = 0) -> Dataset:
    check_n_samples(n_samples)
    _check_std(std)
    params = {"n_samples": n_samples, "std": std, "seed": seed}
    points = _mixture(np.random.default_rng(seed), ring_centres(), n_samples, std)
    names = [f"{45 * k}°" for k in range(RING_MODES)]
    return _build("ring", points, "multiclass", params, names, RING)


GRID_SIDE = 5
GRID = "A 5x5 grid of Gaussians 0.5 apart, one class each: 25 modes for a generator to cover."


def grid_centres() -> np.ndarray:
    """The grid's mode centres (25, 2), row by row from (-1, -1) to (1, 1)."""
    ticks = np.linspace(-1.0, 1.0, GRID_SIDE)
    return np.array([(a, b) for b in ticks for a in ticks])


@register_dataset(
    "gaussian_grid", title="Grid of 25 Gaussians", kind="toy2d", task="multiclass", description=GRID
)
def gaussian_grid(n_samples: int = 2000, std: float = 0.05, seed: int = 0) -> Dataset:
    check_n_samples(n_samples)
    _check_std(std)
    params = {"n_samples": n_samples, "std": std, "seed": seed}
    centres = grid_centres()
    points = _mixture(np.random.default_rng(seed), centres, n_samples, std)
    names = [f"({a:g}, {b:g})" for a, b in centres]
    return _build("gaussian_grid", points, "multiclass", params, names, GRID)
