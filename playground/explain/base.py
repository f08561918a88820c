"""What every explanation method takes and returns (the contract the pages and charts use).

A method is one file under `playground/explain/methods/`, registered by name with
`@register_method`, and called through `explain()` (see `api.py`). Like Captum, every method
has the same call: `(context, request, progress) -> Attribution`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from playground.explain.context import ExplainContext

BaselineKind = Literal["zeros", "mean", "sample"]

# progress(fraction in [0, 1], message). Raises `Cancelled` when the user has cancelled.
Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """Raised inside a computation when its task was cancelled; nothing is cached."""


@dataclass(frozen=True)
class ExplainRequest:
    """The user's choices for one explanation. Plain data: hashable, JSON-able, a cache key."""

    method: str
    sample_indices: tuple[int, ...] = (0,)  # rows of the test split to explain
    target: int | None = None  # class index; None = each sample's predicted class
    baseline: BaselineKind = "zeros"
    baseline_index: int = 0  # training row used when baseline == "sample"
    n_steps: int = 50  # Integrated Gradients / Conductance
    n_samples: int = 20  # GradientShap, NoiseTunnel and SHAP sampling
    stdevs: float = 0.1  # noise for GradientShap and SmoothGrad, in feature units
    background_size: int = 100  # SHAP background rows, drawn from the training split
    layer: str | None = None  # shape-table row ("3", "2.1") for layer / neuron methods
    neuron: int | None = None  # unit index in that layer's output (flattened)
    window: int = 2  # Occlusion patch side, in pixels / time steps
    seed: int = 0

    def key(self, run_id: str) -> str:
        """A stable cache key for this request on this run."""
        blob = json.dumps({"run": run_id, **asdict(self)}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


@dataclass
class Attribution:
    """One method's attributions for a set of samples, as plain arrays.

    `values` has the input's shape per sample, (N, *input_shape), in output units (logit of
    the target class, or the regression output), except Grad-CAM, whose values are (N, H, W)
    upsampled to the image and `layer_map` says so.
    """

    method: str
    title: str
    values: np.ndarray  # (N, *input_shape) float32
    inputs: np.ndarray  # (N, *input_shape) the explained samples, as fed to the model
    sample_indices: np.ndarray  # (N,) test-split rows
    targets: np.ndarray  # (N,) class explained per sample (0 for regression / single logit)
    outputs: np.ndarray  # (N,) model output explained, f(x), e.g. the target logit
    labels: np.ndarray  # (N,) true labels of the samples
    feature_names: list[str]  # for tabular / 2D data: one per input column
    data_kind: str  # dataset kind: toy2d | tabular | image | sequence
    baseline_outputs: np.ndarray | None = None  # (N,) f(baseline), for completeness checks
    expected_value: np.ndarray | None = None  # (N,) SHAP's E[f(x)] per sample's target
    delta: np.ndarray | None = None  # (N,) Integrated Gradients convergence delta
    layer_map: bool = False  # True for Grad-CAM-like maps that are not per input feature
    notes: list[str] = field(default_factory=list)  # plain words: fallbacks, caveats
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


MethodFn = Callable[["ExplainContext", ExplainRequest, Progress], Attribution]


@dataclass(frozen=True)
class MethodInfo:
    """A registry entry: what the page lists and how to call it."""

    name: str
    title: str
    fn: MethodFn
    family: Literal["captum", "shap"]
    data_kinds: tuple[str, ...]  # dataset kinds it applies to
    description: str  # one plain sentence for the page
    needs_layer: bool = False  # asks for ExplainRequest.layer (Grad-CAM, conductance)
    needs_neuron: bool = False  # asks for ExplainRequest.neuron too
    uses: tuple[str, ...] = ()  # request fields it reads: "baseline", "n_steps", "n_samples"...


METHODS: dict[str, MethodInfo] = {}
ALL_KINDS = ("toy2d", "tabular", "image", "sequence")


def register_method(
    name: str,
    title: str,
    family: Literal["captum", "shap"],
    description: str,
    data_kinds: tuple[str, ...] = ALL_KINDS,
    needs_layer: bool = False,
    needs_neuron: bool = False,
    uses: tuple[str, ...] = (),
) -> Callable[[MethodFn], MethodFn]:
    """Decorator: add an explanation method to `METHODS` under `name`."""

    def add(fn: MethodFn) -> MethodFn:
        METHODS[name] = MethodInfo(
            name, title, fn, family, data_kinds, description, needs_layer, needs_neuron, uses
        )
        return fn

    return add
