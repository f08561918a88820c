"""Ensembles: K copies of one model spec, each from its own initial weights (and, with
`bootstrap`, its own resample of the training rows), trained at once.

The members are not K modules trained in turn: their parameters are stacked along a leading
member dimension (K, ...) and one forward pass runs all of them, vectorised with torch.func
(`vmap` over `functional_call` of a weightless template). For small models, where a step is
mostly Python and kernel launches, K members cost little more than one (bench/bench_ensemble.py
measures it).

Why the members stay independent although one optimiser updates the stack: the loss is the
sum of the members' losses, so member k's gradient is the gradient of its own loss, and every
optimiser in the registry (SGD, Adam, AdamW, RMSprop, Adagrad) updates element by element.
What would couple them is handled here: gradient clipping is per member (a global norm would
mix them), and L1 is a sum of per-element terms. A learning-rate schedule that watches the
validation loss (plateau) watches the ensemble's, so it lowers every member's rate together.

Stored like any run: the run's one module ("model") is the `MemberStack`, whose state dict has
the member's own keys ("0.weight") with the member dimension in front ((K, 32, 2)), so
`load_run` rebuilds it from the spec and the options and gives the same predictions. Its
forward is the ensemble's: the log of the members' mean probability (classification; valid
logits, since softmax(log p) = p) or their mean prediction (regression), so the decision
boundary, explanations and fairness audits see the ensemble as one model.

Numbers: `evaluate` reports the ensemble's loss and score and each member's score
("member0_acc"...). Training numbers (`end_epoch`) are the members' means as trained (each on
its own bootstrap rows, when bootstrapping), so train and validation curves differ in kind
until the final metrics, which `evaluate` all three splits.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from playground.errors import TrainingError
from playground.model.build import BuiltModel, DataSignature, build_model, check_model
from playground.model.spec import ModelSpec
from playground.train.modes.base import TrainingMode
from playground.train.modes.supervised import EVAL_BATCH
from playground.train.objectives import Objective, class_weights_for

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.trainer import Trainer

Combine = Literal["mean", "softmax", "sigmoid"]
MAX_MEMBERS = 64
# The bootstrap draws from its own stream of the run's seed, apart from the members' inits.
_BOOTSTRAP_STREAM = 1


def member_seeds(seed: int, members: int) -> list[int]:
    """Each member's initial-weight seed. Member 0 takes the run's own seed, so it starts
    from the weights a supervised run with the same seed starts from (and, without the
    bootstrap, trains the same batches): the ensemble can be read against that single model."""
    return [seed] + [
        int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0] >> 1)
        for k in range(1, members)
    ]


def bootstrap_rows(seed: int, members: int, n: int) -> torch.Tensor:
    """(members, n) row indices drawn with replacement, one resample of the n training rows
    per member (each sees about 63% of the distinct rows)."""
    rows = []
    for k in range(members):
        g = torch.Generator().manual_seed(
            int(np.random.SeedSequence([seed, k, _BOOTSTRAP_STREAM]).generate_state(1)[0])
        )
        rows.append(torch.randint(0, n, (n,), generator=g))
    return torch.stack(rows)


def combine_kind(task: str, output_width: int) -> Combine:
    """How members' outputs are averaged: mean values (regression), mean sigmoid (one binary
    logit) or mean softmax (class logits)."""
    if task == "regression":
        return "mean"
    return "sigmoid" if output_width == 1 and task == "binary" else "softmax"


def combine_outputs(outputs: torch.Tensor, how: Combine) -> torch.Tensor:
    """Members' outputs (K, B, C) -> the ensemble's (B, C), on the members' own scale: log
    mean probabilities for classification (logits of the mean probability for one binary
    logit), computed in log space so a member certain of a class gives no infinities."""
    if how == "mean":
        return outputs.mean(dim=0)
    if how == "sigmoid":
        log_k = math.log(outputs.shape[0])
        log_p = torch.logsumexp(nn.functional.logsigmoid(outputs), dim=0) - log_k
        log_q = torch.logsumexp(nn.functional.logsigmoid(-outputs), dim=0) - log_k
        return log_p - log_q
    log_probs = torch.log_softmax(outputs, dim=-1)
    return torch.logsumexp(log_probs, dim=0) - math.log(outputs.shape[0])


def member_probabilities(outputs: torch.Tensor, how: Combine) -> torch.Tensor:
    """Members' outputs (K, B, C) -> their class probabilities (K, B, classes), or their
    predictions (K, B) for regression."""
    if how == "mean":
        return outputs[..., 0]
    if how == "sigmoid":
        p = torch.sigmoid(outputs[..., 0])
        return torch.stack([1 - p, p], dim=-1)
    return torch.softmax(outputs, dim=-1)


class MemberStack(nn.Sequential):
    """K members of one architecture, their parameters stacked along dimension 0.

    Its children mirror the member's layers ("0", "1", ...) holding the stacked parameters,
    so parameter names, gradient-norm keys and histograms read as the member's layers. Those
    layers are never called: `member_outputs` calls a weightless template (meta device, not
    a registered submodule) with each member's slice of the parameters under `vmap`.
    A Sequential so code that indexes a run's layers (module[0]) still finds them.
    """

    def __init__(self, members: Sequence[nn.Module], combine: Combine) -> None:
        super().__init__()
        members = list(members)
        params, buffers = stack_module_state(members)
        if buffers:
            raise TrainingError(
                "Ensemble members cannot have layers with running statistics (BatchNorm).",
                "Use layernorm instead, or drop the normalisation layer.",
            )
        # Kept out of the module tree: not stored, not moved, not seen by hooks.
        self._template = (copy.deepcopy(members[0]).to("meta"),)
        skeleton = members[0]
        with torch.no_grad():
            for name, value in params.items():
                owner, _, attr = name.rpartition(".")
                setattr(skeleton.get_submodule(owner), attr, nn.Parameter(value.detach()))
        for name, child in skeleton.named_children():
            self.add_module(name, child)
        self.members = len(members)
        self.combine: Combine = combine
        self._dense = _is_dense(self._template[0])

    def member_outputs(self, x: torch.Tensor, per_member: bool = False) -> torch.Tensor:
        """Every member's output (K, B, C) for a batch x (B, ...) shared by all, or, with
        `per_member`, each member's own batch x (K, B, ...)."""
        template = self._template[0]
        if template.training != self.training:
            template.train(self.training)  # dropout on or off as the stack is
        if self._dense:
            return self._dense_outputs(x, per_member)
        params = dict(self.named_parameters())

        def one(p: dict[str, torch.Tensor], xb: torch.Tensor) -> torch.Tensor:
            return functional_call(template, p, (xb,))

        # "different": each member draws its own dropout masks, as K separate models would.
        return vmap(one, in_dims=(0, 0 if per_member else None), randomness="different")(params, x)

    def _dense_outputs(self, x: torch.Tensor, per_member: bool) -> torch.Tensor:
        """The same as the vmapped call for a stack of Linear, Flatten, Dropout and
        activation layers, without vmap's per-call cost (it was most of a small model's step:
        300 us of a 1.1 ms step for 8 members of a 32x32 MLP): each Linear is one batched
        matmul over the members, and the other layers act element by element on (K, B, ...)
        anyway (a dropout mask drawn over (K, B, F) differs per member, as under vmap). The
        elementwise layers called are the template's, so hooks on the stored layers (dead
        ReLU counts) never see a member dimension they do not expect."""
        h = x if per_member else x.unsqueeze(0).expand(self.members, *x.shape)
        for name, layer in self._template[0].named_children():
            if isinstance(layer, nn.Linear):
                stacked = self._modules[name]
                weight = stacked.weight.transpose(1, 2)  # (K, in, out)
                flat = h.reshape(self.members, -1, h.shape[-1])
                if stacked.bias is None:
                    out = torch.bmm(flat, weight)
                else:
                    out = torch.baddbmm(stacked.bias.unsqueeze(1), flat, weight)
                h = out.view(*h.shape[:-1], out.shape[-1])
            elif isinstance(layer, nn.Flatten):
                h = h.flatten(layer.start_dim + 1)
            else:
                h = layer(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's output (B, C): see `combine_outputs`."""
        return combine_outputs(self.member_outputs(x), self.combine)

    def member(self, k: int) -> nn.Module:
        """Member k as a plain module of its own (a copy of its weights), e.g. to compare it
        with a model trained alone."""
        module = copy.deepcopy(self._template[0]).to_empty(device=self._device())
        module.load_state_dict({name: p[k] for name, p in self.state_dict().items()})
        return module.train(self.training)

    def _device(self) -> torch.device:
        return next(self.parameters()).device


# Layers that act on each element alone: a (K, B, ...) input is K members' batches as is.
_ELEMENTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Identity,
    nn.Dropout,
)


def _is_dense(template: nn.Module) -> bool:
    """Whether `MemberStack._dense_outputs` can run this model: a flat stack of Linear,
    Flatten (to the end) and elementwise layers; anything else goes through vmap."""
    if not isinstance(template, nn.Sequential):
        return False
    for layer in template.children():
        if isinstance(layer, nn.Flatten):
            if layer.end_dim != -1:
                return False
        elif type(layer) not in (nn.Linear, *_ELEMENTWISE):
            return False
    return True


def _refuse_unvectorisable(member: nn.Module) -> None:
    """Layers torch.func cannot run over a stack of members, named with what to use."""
    for name, module in member.named_modules():
        layer = name.split(".")[0]
        if isinstance(module, nn.RNNBase):
            raise TrainingError(
                f"Layer {layer} ({type(module).__name__}) cannot be trained in an ensemble: "
                "recurrent layers have no vectorised form over members in torch.func.",
                "Use a transformer or conv1d layer for sequences, or train the models one "
                "by one (supervised runs with different seeds).",
            )
        if any(True for _ in module.buffers(recurse=False)):
            raise TrainingError(
                f"Layer {layer} ({type(module).__name__}) keeps running statistics, which "
                "members trained at once cannot update.",
                "Use layernorm instead, or drop the normalisation layer.",
            )


def _times(built: BuiltModel, module: nn.Module, members: int) -> BuiltModel:
    """The member's shape table for the whole stack: parameters and activation memory times
    K (the model-size limits and the stored parameter count see what the run holds)."""
    rows = [
        dataclasses.replace(r, params=r.params * members, activations=r.activations * members)
        for r in built.rows
    ]
    return dataclasses.replace(
        built,
        module=module,
        rows=rows,
        total_params=built.total_params * members,
        trainable_params=built.trainable_params * members,
        notes=[*built.notes, f"{members} members of this model, trained at once."],
    )


class EnsembleMode(TrainingMode):
    name: ClassVar[str] = "ensemble"
    title: ClassVar[str] = "Ensemble: K copies of one model trained at once"
    module_names: ClassVar[tuple[str, ...]] = ("model",)
    draws_boundary: ClassVar[bool] = True
    option_defaults: ClassVar[dict[str, Any]] = {"members": 5, "bootstrap": False}
    option_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"bootstrap": (False, True)}

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> tuple[int, bool]:
        """(members, bootstrap), checked; raises TrainingError saying what to fix."""
        for key in options:
            if key not in cls.option_defaults:
                raise TrainingError(
                    f"Mode 'ensemble' has no option '{key}'.",
                    f"Its options are: {', '.join(cls.option_defaults)}.",
                )
        members = options.get("members", cls.option_defaults["members"])
        if isinstance(members, float) and members.is_integer():
            members = int(members)  # 5.0 from a number box or JSON means 5
        if not isinstance(members, int) or isinstance(members, bool):
            members = -1
        if not 1 <= members <= MAX_MEMBERS:
            raise TrainingError(
                f"Option 'members' must be a whole number from 1 to {MAX_MEMBERS} "
                f"(got {options.get('members')!r}).",
                "Try 5: enough members for their disagreement to mean something.",
            )
        bootstrap = options.get("bootstrap", False)
        if not isinstance(bootstrap, bool):
            raise TrainingError(
                f"Option 'bootstrap' must be true or false (got {bootstrap!r}).",
                "true trains each member on its own resample of the training rows.",
            )
        return members, bootstrap

    @classmethod
    def check(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, BuiltModel]:
        members, _ = cls.parse_options(options)
        cls.check_modules(specs)
        built = check_model(specs["model"], DataSignature.of(dataset))
        _refuse_unvectorisable(built.module)
        return {"model": _times(built, built.module, members)}

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        specs: Mapping[str, ModelSpec],
        options: Mapping[str, Any],
        device: str | torch.device = "cpu",
    ) -> dict[str, BuiltModel]:
        """K members, member k initialised from `member_seeds(seed)[k]`. The seed is the one
        the trainer seeded the process with just before building (torch.initial_seed()); the
        process is reseeded with it afterwards, so what the run draws next (dropout masks)
        does not depend on K."""
        members, _ = cls.parse_options(options)
        cls.check_modules(specs)
        signature = DataSignature.of(dataset)
        seed = torch.initial_seed()
        built = []
        for member_seed in member_seeds(seed, members):
            torch.manual_seed(member_seed)
            built.append(build_model(specs["model"], signature, device=device))
        torch.manual_seed(seed)
        first = built[0]
        _refuse_unvectorisable(first.module)
        stack = MemberStack(
            [b.module for b in built], combine_kind(signature.task, first.output_shape[0])
        )
        return {"model": _times(first, stack, members)}

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, cfg, device = trainer.dataset, trainer.config, trainer.device
        self.members, bootstrap = self.parse_options(options)
        num_classes = len(dataset.class_names or [])
        weights = (
            class_weights_for(dataset.train.y, num_classes).to(device)
            if cfg.class_weighting and dataset.is_classification
            else None
        )
        self.stack: MemberStack = trainer.modules["model"].module  # type: ignore[assignment]
        width = trainer.modules["model"].output_shape[0]
        self.objective = Objective(dataset.task, cfg.loss, width, weights)
        self.score_name = self.objective.score_name
        self.steps = trainer.steps["model"]
        self.schedule = trainer.schedules["model"]
        self.x = dataset.train.x.to(device)
        self.y = dataset.train.y.to(device)
        n = len(self.y)
        # Each member's training rows: its bootstrap resample, or every row (None: shared).
        self.rows = bootstrap_rows(cfg.seed, self.members, n).to(device) if bootstrap else None
        self.weights = trainer.sample_weights
        # Stacked weight matrices (a member's dim >= 2) are what L1 shrinks, as supervised.
        self.l1_params = [p for p in self.stack.parameters() if p.dim() >= 3] if cfg.l1 else []
        self._outputs = torch.empty(self.members, n, width, device=device)
        self._targets = torch.empty(self.members, n, dtype=self.y.dtype, device=device)
        self._losses: list[torch.Tensor] = []
        self._sizes: list[int] = []
        self._step_batch = self.schedule.step_batch if self.schedule.per_batch else None

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._losses, self._sizes = [], []

    def member_losses(
        self, out: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Each member's mean batch loss (K,) from outputs (K, B, C) and targets (K, B):
        `Objective.loss` (or `weighted_loss`) of each member, computed in one call on the
        flattened batch (a vmapped loss cost 190 us a step)."""
        objective = self.objective
        members, batch = y.shape
        per_row = objective.entry.fn(
            out.reshape(members * batch, *out.shape[2:]), y.reshape(-1), objective.weights, "none"
        ).view(members, batch)
        if sample_weight is not None:
            return (per_row * sample_weight).mean(dim=1)
        if objective.weights is not None and not objective.entry.binary_single_logit:
            # Cross-entropy with class weights averages over the batch's weights, not rows.
            return per_row.sum(dim=1) / objective.weights[y].sum(dim=1)
        return per_row.mean(dim=1)

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        cfg = self.trainer.config
        if self.rows is None:  # one batch for every member: the input is not copied K times
            out = self.stack.member_outputs(self.x[idx])
            yb = self.y[idx].expand(self.members, -1)
            rows = idx.expand(self.members, -1)
        else:
            rows = self.rows[:, idx]  # (K, B): member k's rows of this batch
            out = self.stack.member_outputs(self.x[rows], per_member=True)
            yb = self.y[rows]
        weights = None if self.weights is None else self.weights[rows]
        losses = self.member_losses(out, yb, weights)  # (K,)
        # The sum: member k's gradient is its own loss's gradient, as if trained alone.
        loss = losses.sum()
        if self.l1_params:
            loss = loss + cfg.l1 * sum(p.abs().sum() for p in self.l1_params)
        self.steps.zero_grad()
        loss.backward()
        if cfg.grad_clip:
            self._clip_per_member(cfg.grad_clip)
        self.steps.step()
        if self._step_batch is not None:
            self._step_batch()
        losses = losses.detach()
        self._losses.append(losses)
        self._sizes.append(len(idx))
        self._outputs[:, start : start + len(idx)] = out.detach()
        self._targets[:, start : start + len(idx)] = yb
        return losses.mean()

    def _clip_per_member(self, max_norm: float) -> None:
        """clip_grad_norm_ for each member alone (torch's coefficient: max / (norm + 1e-6),
        at most 1)."""
        grads = [p.grad for p in self.stack.parameters() if p.grad is not None]
        if not grads:
            return
        squares = torch.stack([g.flatten(1).float().square().sum(dim=1) for g in grads])
        scale = (max_norm / (squares.sum(dim=0).sqrt() + 1e-6)).clamp(max=1.0)  # (K,)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))).to(g.dtype))

    def end_epoch(self) -> dict[str, float]:
        """The members' mean training loss and score, each on the rows it trained on."""
        n = sum(self._sizes)
        sizes = torch.tensor(self._sizes, dtype=torch.float32, device=self.x.device)
        member_losses = (torch.stack(self._losses).float().T @ sizes) / n  # (K,)
        scores = [
            self.objective.finish_score(
                self.objective.score_sums(
                    self.objective.predict(self._outputs[k, :n]), self._targets[k, :n]
                ),
                n,
            )
            for k in range(self.members)
        ]
        return {"loss": float(member_losses.mean()), self.score_name: float(np.mean(scores))}

    @torch.no_grad()
    def member_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's outputs (K, N, C) for x (N, ...) in eval mode, batched."""
        was_training = self.stack.training
        self.stack.eval()
        try:
            return torch.cat(
                [
                    self.stack.member_outputs(x[start : start + EVAL_BATCH])
                    for start in range(0, len(x), EVAL_BATCH)
                ],
                dim=1,
            )
        finally:
            self.stack.train(was_training)

    @torch.no_grad()
    def evaluate(self, split: Split) -> dict[str, float]:
        """The ensemble's loss and score on a split, and each member's score
        ("member<k>_<score>")."""
        device = self.x.device
        x, y = split.x.to(device), split.y.to(device)
        n = max(len(y), 1)
        outputs = self.member_outputs(x)
        combined = combine_outputs(outputs, self.stack.combine)
        objective = self.objective
        metrics = {
            "loss": float(objective.loss(combined, y)) if len(y) else 0.0,
            self.score_name: objective.finish_score(
                objective.score_sums(objective.predict(combined), y), n
            ),
        }
        for k in range(self.members):
            sums = objective.score_sums(objective.predict(outputs[k]), y)
            metrics[f"member{k}_{self.score_name}"] = objective.finish_score(sums, n)
        return metrics


def member_scores(metrics: Mapping[str, float], split: str, score_name: str) -> list[float]:
    """The members' scores on a split from a run's metrics ("val_member3_acc"), in order."""
    prefix, suffix = f"{split}_member", f"_{score_name}"
    found = {}
    for key, value in metrics.items():
        if key.startswith(prefix) and key.endswith(suffix):
            index = key[len(prefix) : -len(suffix)]
            if index.isdigit():
                found[int(index)] = value
    return [found[k] for k in sorted(found)]
