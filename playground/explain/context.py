"""Everything a method needs about the run, prepared once: the model as a function whose
output columns are the things we explain, the samples, and the baselines.

Models with a single output (binary with BCE, or regression) are explained through that
output (target 0); multi-class models through the logit of the chosen or predicted class.
Attributions are on logits rather than probabilities: they add up (completeness) and do
not saturate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.explain.base import ExplainRequest
from playground.model import BuiltModel


class ExplainedModel(nn.Module):
    """The run's model with a 2-D output (N, outputs), in eval mode, without dropout noise."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out.reshape(out.shape[0], -1)


@dataclass
class ExplainContext:
    run_id: str
    dataset: Dataset
    built: BuiltModel
    model: ExplainedModel
    device: torch.device

    @classmethod
    def of(cls, run_id: str, dataset: Dataset, built: BuiltModel) -> ExplainContext:
        built.module.eval()
        device = next((p.device for p in built.module.parameters()), torch.device("cpu"))
        return cls(run_id, dataset, built, ExplainedModel(built.module).eval(), device)

    @property
    def output_width(self) -> int:
        return int(np.prod(self.built.output_shape))

    @property
    def tokens(self) -> bool:
        """Token inputs (Embedding first) have no gradient w.r.t. the input: attribution
        methods work on the embedding layer's output instead."""
        return not self.dataset.train.x.is_floating_point()

    def samples(self, request: ExplainRequest) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of the requested test rows, x on the model's device."""
        test = self.dataset.test
        idx = torch.as_tensor(request.sample_indices, dtype=torch.long)
        if len(idx) == 0:
            raise PlaygroundError("No samples chosen to explain.", "Pick at least one test row.")
        bad = [int(i) for i in idx if not 0 <= int(i) < len(test)]
        if bad:
            raise PlaygroundError(
                f"Test rows {bad[:5]} do not exist; the test split has {len(test)} rows.",
                f"Choose rows between 0 and {len(test) - 1}.",
            )
        return test.x[idx].to(self.device), test.y[idx]

    @torch.no_grad()
    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(N, outputs) model outputs."""
        return self.model(x.to(self.device))

    def targets(self, x: torch.Tensor, request: ExplainRequest) -> torch.Tensor:
        """(N,) output column explained per sample: the chosen class, else the predicted one;
        always 0 for single-output models."""
        n = x.shape[0]
        if self.output_width == 1:
            return torch.zeros(n, dtype=torch.long, device=self.device)
        if request.target is not None:
            if not 0 <= request.target < self.output_width:
                names = self.dataset.class_names or []
                raise PlaygroundError(
                    f"Target class {request.target} does not exist.",
                    f"Choose 0..{self.output_width - 1} ({', '.join(map(str, names))}).",
                )
            return torch.full((n,), request.target, dtype=torch.long, device=self.device)
        return self.outputs(x).argmax(dim=1)

    def baseline(self, x: torch.Tensor, request: ExplainRequest) -> torch.Tensor:
        """A baseline batch shaped like x: zeros, the training mean, or one training row."""
        train = self.dataset.train.x
        if request.baseline == "zeros":
            return torch.zeros_like(x)
        if request.baseline == "mean":
            return train.float().mean(dim=0, keepdim=True).to(self.device).expand_as(x).clone()
        if request.baseline == "sample":
            if not 0 <= request.baseline_index < len(train):
                raise PlaygroundError(
                    f"Training row {request.baseline_index} does not exist.",
                    f"Choose a row between 0 and {len(train) - 1}.",
                )
            row = train[request.baseline_index : request.baseline_index + 1]
            return row.to(self.device).expand_as(x).clone()
        raise PlaygroundError(
            f"Unknown baseline {request.baseline!r}.", "Use zeros, mean or sample."
        )

    def background(self, size: int, seed: int = 0) -> torch.Tensor:
        """`size` training rows drawn without replacement (SHAP's background set)."""
        train = self.dataset.train.x
        if size < 1:
            raise PlaygroundError("The background set is empty.", "Use at least 1 row.")
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(train), generator=gen)[: min(size, len(train))]
        return train[idx].to(self.device)
