"""Adversarial debiasing (Zhang, Lemoine and Mitchell, 2018): a predictor learns the labels
while an adversary tries to tell the sensitive attribute from the predictor's output.

Modules: "model", the predictor (the data's input -> the labels' logits; named like a
supervised run's model, so audits, explanations and inspection read it as they read any
run's), and "adversary" (the predictor's logit, plus the label for equalized odds -> one
logit per group of the attribute).

Each step, with predictor weights W, adversary weights U, predictor loss L_P and adversary
loss L_A (cross-entropy of the group):

    U <- U - lr * grad_U L_A                          the adversary gets better at its task
    W <- W - lr * (g_P - proj_{g_A} g_P - alpha g_A)  g_P = grad_W L_P, g_A = grad_W L_A

The projection term removes the part of the predictor's step that would help the adversary
(the paper's eq. 1), and -alpha g_A moves against it; `weight` is alpha. With `goal`
"demographic_parity" the adversary sees only the output, so the output must carry no
information about the group; with "equalized_odds" it also sees the label, so the output
must carry none beyond what the label does.

The sensitive attribute comes from the dataset's `Split.sensitive` (encoded here, numbers in
the same bands as the fairness audit's); it is not a feature of the predictor unless the
dataset's features include it. Epoch metrics: loss (the predictor's), acc, adversary_loss
(chance is the entropy of the groups: `adversary_chance`) and adversary_acc.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from playground.data.dataset import SPLIT_NAMES
from playground.errors import TrainingError
from playground.model.build import DataSignature
from playground.model.spec import ModelSpec
from playground.train.modes.base import TrainingMode
from playground.train.modes.supervised import EVAL_BATCH
from playground.train.objectives import Objective

if TYPE_CHECKING:
    import pandas as pd

    from playground.data.dataset import Dataset, Split
    from playground.train.trainer import Trainer

GOALS = ("equalized_odds", "demographic_parity")
NO_GROUP = -1  # a row whose group the training split never saw: left out of L_A


@dataclass(frozen=True)
class AdversarialOptions:
    """The mode's options, checked. `attribute` "" means the dataset's first sensitive one."""

    attribute: str = ""
    weight: float = 1.0
    goal: str = "equalized_odds"
    projection: bool = True

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> AdversarialOptions:
        names = ("attribute", "weight", "goal", "projection")
        for key in options:
            if key not in names:
                raise TrainingError(
                    f"Mode 'adversarial_debiasing' has no option '{key}'.",
                    f"Its options are: {', '.join(names)}.",
                )
        weight = options.get("weight", cls.weight)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise TrainingError(
                f"Option 'weight' must be a number, 0 or more (got {weight!r}).",
                "Try 1; 0 trains the predictor as if there were no adversary.",
            )
        goal = options.get("goal", cls.goal)
        if goal not in GOALS:
            raise TrainingError(
                f"Option 'goal' must be one of {', '.join(GOALS)} (got {goal!r}).",
                "equalized_odds lets the output follow the label; demographic_parity does not.",
            )
        attribute = str(options.get("attribute", cls.attribute) or "")
        return cls(attribute, float(weight), goal, bool(options.get("projection", True)))

    def attribute_of(self, dataset: Dataset) -> str:
        if self.attribute:
            return self.attribute
        if not dataset.sensitive_attributes:
            raise TrainingError(
                f"Adversarial debiasing needs a sensitive attribute; {dataset.title} has none.",
                "Choose hiring, adult or german_credit, or a CSV with sensitive columns named.",
            )
        return dataset.sensitive_attributes[0]


def group_codes(dataset: Dataset, split: str, attribute: str) -> tuple[np.ndarray, list[str]]:
    """Each row's group index (N,) in the training split's groups (NO_GROUP for a group
    that split never saw), and those groups in reading order."""
    from playground.fairness.groups import groups_for_split, sort_groups  # pandas only

    train: pd.Series = groups_for_split(dataset, "train", attribute)
    names = sort_groups(train)
    labels = train if split == "train" else groups_for_split(dataset, split, attribute)
    index = {g: i for i, g in enumerate(names)}
    return np.array([index.get(str(g), NO_GROUP) for g in labels], dtype=np.int64), names


class AdversarialMode(TrainingMode):
    name: ClassVar[str] = "adversarial_debiasing"
    title: ClassVar[str] = (
        "Adversarial debiasing: a predictor, and an adversary that must not find the group"
    )
    module_names: ClassVar[tuple[str, ...]] = ("model", "adversary")
    option_defaults: ClassVar[dict[str, Any]] = {
        "attribute": AdversarialOptions.attribute,
        "weight": AdversarialOptions.weight,
        "goal": AdversarialOptions.goal,
        "projection": AdversarialOptions.projection,
    }
    option_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"goal": GOALS}
    default_stacks: ClassVar[dict[str, str]] = {
        "model": "linear:32 relu linear",
        "adversary": "linear:16 relu linear",
    }

    @classmethod
    def signatures(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, DataSignature]:
        cls.check_modules(specs)
        opts = AdversarialOptions.parse(options)
        if dataset.task != "binary":
            raise TrainingError(
                f"Adversarial debiasing here debiases a yes/no decision; {dataset.title} is "
                f"{dataset.task}.",
                "Choose a binary dataset with sensitive attributes, e.g. hiring.",
            )
        attribute = opts.attribute_of(dataset)
        if dataset.train.sensitive is None:
            raise TrainingError(
                f"{dataset.title} keeps no sensitive columns to debias against.",
                "Choose hiring, adult or german_credit, or a CSV with sensitive columns named.",
            )
        _, groups = group_codes(dataset, "train", attribute)
        if len(groups) < 2:
            raise TrainingError(
                f"The training rows have one group of {attribute!r}: nothing to debias.",
                "Choose another attribute, or train on more rows.",
            )
        inputs = 2 if opts.goal == "equalized_odds" else 1
        return {
            "model": DataSignature.of(dataset),
            "adversary": DataSignature((inputs,), len(groups), "multiclass"),
        }

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, device = trainer.dataset, trainer.device
        if trainer.sample_weights is not None or trainer.config.sampler != "none":
            raise TrainingError(
                "Adversarial debiasing does not combine with reweighing or sampling here.",
                "Turn reweighing and the sampler off for this mode.",
            )
        self.opts = AdversarialOptions.parse(options)
        self.attribute = self.opts.attribute_of(dataset)
        self.model: nn.Module = trainer.modules["model"].module
        self.adversary: nn.Module = trainer.modules["adversary"].module
        width = trainer.modules["model"].output_shape[0]
        self.objective = Objective(dataset.task, trainer.config.loss, width, None)
        self.score_name = self.objective.score_name
        self.x = dataset.train.x.to(device)
        self.y = dataset.train.y.to(device)
        codes, self.groups = group_codes(dataset, "train", self.attribute)
        self.s = torch.as_tensor(codes, device=device)
        self.p_params = [p for p in self.model.parameters() if p.requires_grad]
        self.a_params = list(self.adversary.parameters())
        self._codes: dict[str, torch.Tensor] = {"train": self.s}
        self._sums = torch.zeros(3, device=device)  # predictor loss, adversary loss, hits
        self._rows = 0

    # -- what the adversary sees ------------------------------------------------------
    def logit(self, out: torch.Tensor) -> torch.Tensor:
        """The predictor's evidence for the positive class (B, 1): its logit, or the
        difference of its two logits."""
        if out.shape[-1] == 1:
            return out
        return (out[:, 1] - out[:, 0]).unsqueeze(1)

    def adversary_input(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = self.logit(out)
        if self.opts.goal == "equalized_odds":
            return torch.cat([z, y.to(z.dtype).unsqueeze(1)], dim=1)
        return z

    def adversary_chance(self) -> float:
        """The adversary's loss when it knows nothing: the entropy of the training groups."""
        counts = torch.bincount(self.s[self.s >= 0], minlength=len(self.groups)).double()
        p = counts[counts > 0] / counts.sum()
        return float(-(p * p.log()).sum())

    # -- training ----------------------------------------------------------------------
    def begin_epoch(self, order: torch.Tensor) -> None:
        self._sums = torch.zeros(3, device=self.x.device)
        self._rows = 0

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        n = len(idx)
        xb, yb, sb = self.x[idx], self.y[idx], self.s[idx]
        out = self.model(xb)
        loss_p = self.objective.loss(out, yb)
        guess = self.adversary(self.adversary_input(out, yb))
        loss_a = F.cross_entropy(guess, sb, ignore_index=NO_GROUP)
        p_count = len(self.p_params)
        g_p = torch.autograd.grad(loss_p, self.p_params, retain_graph=True, allow_unused=True)
        g_all = torch.autograd.grad(loss_a, self.p_params + self.a_params, allow_unused=True)
        flat_p = _flat(g_p, self.p_params)
        flat_a = _flat(g_all[:p_count], self.p_params)
        _assign(
            predictor_step(flat_p, flat_a, self.opts.weight, self.opts.projection), self.p_params
        )
        for param, grad in zip(self.a_params, g_all[p_count:], strict=True):
            param.grad = torch.zeros_like(param) if grad is None else grad
        for name in ("model", "adversary"):
            self.step_module(name)
        hits = (self.objective.predict(out.detach()) == yb).sum()
        self._sums += torch.stack([loss_p.detach() * n, loss_a.detach() * n, hits.float()])
        self._rows += n
        return loss_p.detach()

    def end_epoch(self) -> dict[str, float]:
        loss_p, loss_a, hits = (v / max(self._rows, 1) for v in self._sums.tolist())
        adversary = self._evaluate(self.x, self.y, self.s)
        return {
            "loss": loss_p,
            self.score_name: hits,
            "adversary_loss": loss_a,
            "adversary_acc": adversary["adversary_acc"],
        }

    def evaluate(self, split: Split) -> dict[str, float]:
        device = self.x.device
        return self._evaluate(split.x.to(device), split.y.to(device), self._split_codes(split))

    def _split_codes(self, split: Split) -> torch.Tensor:
        dataset = self.trainer.dataset
        name = next((n for n in SPLIT_NAMES if dataset.split(n) is split), None)
        if name is None:  # rows that are no split of the run's dataset: no groups to score
            return torch.full((len(split),), NO_GROUP, device=self.x.device)
        if name not in self._codes:
            codes, _ = group_codes(dataset, name, self.attribute)
            self._codes[name] = torch.as_tensor(codes, device=self.x.device)
        return self._codes[name]

    @torch.no_grad()
    def _evaluate(self, x: torch.Tensor, y: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
        modes = self.model.training, self.adversary.training
        self.model.eval()
        self.adversary.eval()
        sums = torch.zeros(4, device=x.device)  # loss_p, loss_a, hits, adversary hits
        for start in range(0, len(y), EVAL_BATCH):
            xb, yb, sb = (t[start : start + EVAL_BATCH] for t in (x, y, s))
            out = self.model(xb)
            guess = self.adversary(self.adversary_input(out, yb))
            known = sb >= 0
            loss_a = F.cross_entropy(guess[known], sb[known], reduction="sum")
            sums += torch.stack(
                [
                    self.objective.loss(out, yb) * len(yb),
                    loss_a,
                    (self.objective.predict(out) == yb).sum().float(),
                    (guess.argmax(-1) == sb)[known].sum().float(),
                ]
            )
        self.model.train(modes[0])
        self.adversary.train(modes[1])
        n, known = max(len(y), 1), max(int((s >= 0).sum()), 1)
        loss_p, loss_a, hits, adversary_hits = sums.tolist()
        return {
            "loss": loss_p / n,
            self.score_name: hits / n,
            "adversary_loss": loss_a / known,
            "adversary_acc": adversary_hits / known,
        }


def predictor_step(
    g_p: torch.Tensor, g_a: torch.Tensor, weight: float, projection: bool = True
) -> torch.Tensor:
    """The predictor's update direction from the flat gradients of its loss (g_p) and the
    adversary's loss (g_a) with respect to its weights: g_p - proj_{g_a} g_p - weight g_a
    (without the projection: g_p - weight g_a)."""
    step = g_p - weight * g_a
    if projection:
        unit = g_a / (g_a.norm() + 1e-12)
        step = step - (g_p @ unit) * unit
    return step


def _flat(grads: tuple[torch.Tensor | None, ...], params: list[nn.Parameter]) -> torch.Tensor:
    return torch.cat(
        [
            (torch.zeros_like(p) if g is None else g).reshape(-1)
            for g, p in zip(grads, params, strict=True)
        ]
    )


def _assign(flat: torch.Tensor, params: list[nn.Parameter]) -> None:
    """Write a flat gradient (sum of sizes,) back into each parameter's .grad."""
    offset = 0
    for p in params:
        size = math.prod(p.shape)
        p.grad = flat[offset : offset + size].view_as(p).clone()
        offset += size
