"""Transfer learning: start a run from a stored run's weights.

The plan says, layer by layer, what a new run takes from the stored one: a layer is copied
when every tensor of it has a stored tensor of the same name and shape; a layer whose shapes
differ (the head, when the number of classes differs) keeps its fresh initialisation and
is called "new". Frozen layers do not learn (or learn at a fraction of the learning rate).

The plan is made twice from the same inputs: in the process that records the run (its
summary goes into the run's lineage, so Runs can say where a run started from) and in the
worker that trains it (which copies the tensors). Layers are named by their top-level index
in their module's stack ("0", "2"), prefixed by the module in a run of several
("encoder.0"). An autoencoder's encoder can start a supervised model (`source_module`):
self-supervised pretraining.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from playground.errors import PlaygroundError

if TYPE_CHECKING:
    from playground.model.build import BuiltModel
    from playground.runs.request import StartFrom


@dataclass
class TransferPlan:
    # (module, layer index) -> [(parameter or buffer key in the module, stored key)]
    copies: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    new: list[tuple[str, str, str]] = field(default_factory=list)  # (module, layer, why)
    frozen: list[tuple[str, str]] = field(default_factory=list)
    single: bool = True  # one module: layers are named without their module

    def name(self, module: str, layer: str) -> str:
        return layer if self.single else f"{module}.{layer}"

    def lineage(self, start: StartFrom) -> dict[str, Any]:
        """What the run's record keeps about where it started."""
        summary: dict[str, Any] = {
            "started_from": start.run_id,
            "copied_layers": [self.name(m, i) for m, i in self.copies],
            "new_layers": [self.name(m, i) for m, i, _ in self.new],
            "frozen_layers": [self.name(m, i) for m, i in self.frozen],
        }
        if self.frozen and start.frozen_lr_scale > 0:
            summary["frozen_lr_scale"] = start.frozen_lr_scale
        if start.source_module:
            summary["source_module"] = start.source_module
        return summary


def _layer_of(key: str) -> str:
    return key.split(".", 1)[0]


def _parse_layer(text: str, modules: Mapping[str, BuiltModel], what: str) -> tuple[str, str]:
    """ "2" (one module) or "encoder.2" -> (module, "2"), checked against the run's stacks."""
    single = len(modules) == 1
    module, _, layer = text.rpartition(".")
    if not module:
        if not single:
            raise PlaygroundError(
                f"{what} names layer {text!r}, but this run has several modules.",
                f"Name it with its module, e.g. {next(iter(modules))}.{text}.",
            )
        module = next(iter(modules))
    if module not in modules:
        raise PlaygroundError(
            f"{what} names module {module!r}, which this run does not have.",
            f"Its modules: {', '.join(modules)}.",
        )
    count = sum(1 for r in modules[module].rows if r.depth == 0)
    if not layer.isdigit() or int(layer) >= count:
        raise PlaygroundError(
            f"{what} names layer {text!r}; the {module} has layers 0 to {count - 1}.",
            "Use the layer numbers of the Build page.",
        )
    return module, layer


def plan_transfer(
    start: StartFrom,
    modules: Mapping[str, BuiltModel],
    stored: Mapping[str, torch.Tensor],
) -> TransferPlan:
    """Which layers of `modules` (real or on the meta device) take which `stored` tensors."""
    single = len(modules) == 1
    plan = TransferPlan(single=single)
    stored_modules = {k.split(".", 1)[0] for k in stored if not k.split(".", 1)[0].isdigit()}
    if start.source_module and start.source_module not in stored_modules:
        raise PlaygroundError(
            f"Run {start.run_id} has no module {start.source_module!r} to start from.",
            f"Its modules: {', '.join(sorted(stored_modules)) or 'one model (leave it empty)'}.",
        )
    wanted = None
    if start.layers is not None:
        wanted = {_parse_layer(t, modules, "'Copy layers'") for t in start.layers}
    for name, built in modules.items():
        if start.modules is not None and name not in start.modules:
            continue
        # Where this module's tensors are in the stored file.
        if start.source_module:
            prefix = f"{start.source_module}."
        elif stored_modules:
            prefix = f"{name}."
        else:
            prefix = ""  # a one-module run stores plain keys ("0.weight")
        by_layer: dict[str, list[tuple[str, torch.Tensor]]] = {}
        for key, tensor in built.module.state_dict().items():
            by_layer.setdefault(_layer_of(key), []).append((key, tensor))
        for layer, tensors in by_layer.items():
            if wanted is not None and (name, layer) not in wanted:
                continue
            missing = [k for k, _ in tensors if prefix + k not in stored]
            if missing:
                plan.new.append((name, layer, "the stored run has no such layer"))
                continue
            mismatched = [
                (k, tuple(stored[prefix + k].shape), tuple(t.shape))
                for k, t in tensors
                if tuple(stored[prefix + k].shape) != tuple(t.shape)
            ]
            if mismatched:
                key, old, new = mismatched[0]
                plan.new.append((name, layer, f"{key}: stored {old}, this run needs {new}"))
                continue
            plan.copies[(name, layer)] = [(k, prefix + k) for k, _ in tensors]
    if not plan.copies:
        raise PlaygroundError(
            f"None of run {start.run_id}'s layers fit this model (no layer has the same "
            "place and shapes).",
            "Start from a run with the same first layers, or train from scratch.",
        )
    for text in start.freeze:
        module, layer = _parse_layer(text, modules, "'Freeze'")
        plan.frozen.append((module, layer))
    return plan


def copy_weights(
    modules: Mapping[str, BuiltModel], plan: TransferPlan, stored: Mapping[str, torch.Tensor]
) -> None:
    """Copy the planned tensors into the modules (real weights, any device)."""
    with torch.no_grad():
        for (name, _), pairs in plan.copies.items():
            state = modules[name].module.state_dict()
            for key, source in pairs:
                state[key].copy_(stored[source])


def layer_lr_scales(plan: TransferPlan, start: StartFrom) -> dict[str, dict[str, float]]:
    """module -> {layer index: learning-rate factor} for the frozen layers (0: frozen)."""
    scales: dict[str, dict[str, float]] = {}
    for module, layer in plan.frozen:
        scales.setdefault(module, {})[layer] = start.frozen_lr_scale
    return scales
