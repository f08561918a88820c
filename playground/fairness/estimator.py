"""The playground's own network as a scikit-learn classifier, for Fairlearn's reductions.

Fairlearn's ExponentiatedGradient and GridSearch call `estimator.fit(X, y, sample_weight=w)`
with relabelled targets and weights (a cost-sensitive classification problem), then
`predict(X)`. `NetworkClassifier` answers those calls by training the network of a model
spec through the playground's `Trainer`, with `sample_weights=w`, on a `Dataset` built from
exactly the rows it is given: the same loop, optimiser and seed as any run, so a network the
reduction trained can be stored and reproduced as a run request (see reductions.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from playground.data.dataset import Dataset, Split
from playground.errors import TrainingError
from playground.model.spec import ModelSpec
from playground.store.checkpoint import weights_bytes
from playground.train.config import TrainConfig

# Rows the trainer's per-epoch validation pass scores: the reduction never reads them, so a
# few keep the loop's contract at almost no cost.
VALIDATION_ROWS = 64


def training_config(config: dict[str, Any] | TrainConfig) -> TrainConfig:
    """A run's config as the reductions train with it: no reweighing (the reduction brings its
    own weights), no early stopping (no validation rows of its own), and no stopping a run
    whose loss looks 'not learning': a relabelled, weighted problem can sit near chance."""
    data = config.model_dump() if isinstance(config, TrainConfig) else dict(config)
    data.update(reweigh=None, early_stopping_patience=None, stop_when_not_learning=False)
    data.update(device="cpu", sampler="none", class_weighting=False)
    return TrainConfig.parse(data)


def rows_dataset(x: np.ndarray, y: np.ndarray, feature_names: list[str] | None = None) -> Dataset:
    """A binary `Dataset` whose training split is exactly the rows given, in order (X (N, D)
    float, y (N,) in {0, 1}); validation and test are its first VALIDATION_ROWS rows."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y).reshape(-1).astype(np.int64))
    head = slice(0, min(VALIDATION_ROWS, len(yt)))
    names = feature_names or [f"x{i}" for i in range(xt.shape[1])]
    return Dataset(
        name="rows",
        params={},
        task="binary",
        kind="tabular",
        input_shape=(int(xt.shape[1]),),
        feature_names=list(names),
        train=Split(xt, yt),
        val=Split(xt[head], yt[head]),
        test=Split(xt[head], yt[head]),
        class_names=["0", "1"],
    )


class NetworkClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier that trains a playground network.

    `spec`: a model spec (dict, as stored with a run); `config`: a TrainConfig as a dict (its
    seed makes every fit deterministic). After `fit`, `module_` is the trained torch module,
    `classes_` is [0, 1]. `predict_proba(X)` (N, 2), `predict(X)` (N,) in {0, 1}.
    """

    def __init__(self, spec: dict[str, Any], config: dict[str, Any]) -> None:
        self.spec = spec
        self.config = config

    def fit(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> NetworkClassifier:
        # Imported here: the trainer pulls in the modes, which import this package lazily.
        from playground.train.trainer import Trainer

        dataset = rows_dataset(np.asarray(X), np.asarray(y))
        weights = None
        if sample_weight is not None:
            weights = torch.as_tensor(np.asarray(sample_weight, dtype=np.float32).reshape(-1))
        trainer = Trainer(
            dataset,
            ModelSpec.parse(self.spec),
            training_config(self.config),
            sample_weights=weights,
        )
        state = trainer.run()
        if state.status != "completed":
            raise TrainingError(
                f"A network the reduction trained ended {state.status}: {state.message}",
                "Lower the learning rate, or train the original run first and check it learns.",
            )
        self.module_ = trainer.model.eval()
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = dataset.input_shape[0]
        return self

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(X, dtype=np.float32))
        out = self.module_(x).float()
        if out.dim() == 1 or out.shape[-1] == 1:
            p1 = torch.sigmoid(out.reshape(-1))
        else:
            p1 = torch.softmax(out, dim=-1)[:, 1]
        p1 = p1.numpy().astype(np.float64)
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def weights_bytes(self) -> bytes:
        """The trained network's weights as safetensors bytes (what a stored run holds)."""
        return weights_bytes(self.module_)


def load_module(spec: dict[str, Any], weights: bytes, x: np.ndarray) -> np.ndarray:
    """0/1 decisions (N,) of a network of `spec` stored as safetensors bytes, on encoded
    rows x (N, D)."""
    from safetensors.torch import load as load_safetensors

    from playground.model.build import DataSignature, build_model

    built = build_model(ModelSpec.parse(spec), DataSignature((int(x.shape[1]),), 2, "binary"))
    built.module.load_state_dict(load_safetensors(weights))
    model = NetworkClassifier(spec, {})
    model.module_ = built.module.eval()
    return model.predict(x)
