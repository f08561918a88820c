"""The penultimate representation (what the last layer reads) projected to 2-D with PCA:
do the classes separate in the space the model learned?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from playground.data.dataset import Dataset
from playground.inspect.hooks import capture, select_rows
from playground.model.build import BuiltModel

DEFAULT_MAX_ROWS = 1000


@dataclass
class Projection:
    """`points` (n, 2): PCA coordinates of rows `rows` of `split`; `explained_variance_ratio`
    (2,) in [0, 1] (0 for a component the data cannot have). `labels` (n,) are class indices,
    or target values in original units for regression. `layer_index`/`layer_label` name the
    last top-level layer, whose input was projected; `width` is that input's size."""

    split: str
    rows: np.ndarray
    points: np.ndarray
    explained_variance_ratio: np.ndarray
    labels: np.ndarray
    class_names: list[str] | None
    layer_index: str
    layer_label: str
    width: int


def penultimate_projection(
    built: BuiltModel,
    dataset: Dataset,
    *,
    split: str = "test",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Projection:
    """PCA of the input to the last top-level layer on the first `max_rows` rows of `split`."""
    last = [r for r in built.rows if r.depth == 0][-1]
    rows, x, y = select_rows(dataset, split, None, max_rows)
    captured, _ = capture(built, x, [last.index], inputs=True)
    features = captured[last.index].float().reshape(len(rows), -1).numpy().astype(np.float64)
    points = np.zeros((len(rows), 2))
    ratio = np.zeros(2)
    components = min(2, features.shape[1], len(rows))
    # PCA needs some spread: a single row or a constant representation stays at the origin.
    if components >= 1 and len(rows) >= 2 and np.ptp(features, axis=0).max() > 0:
        pca = PCA(n_components=components, random_state=0)
        points[:, :components] = pca.fit_transform(features)
        ratio[:components] = np.clip(pca.explained_variance_ratio_, 0.0, 1.0)
    if dataset.task == "regression":
        labels = y.float().numpy() * dataset.target_std + dataset.target_mean
    else:
        labels = y.numpy()
    return Projection(
        split=split,
        rows=rows.numpy(),
        points=points,
        explained_variance_ratio=ratio,
        labels=labels,
        class_names=dataset.class_names if dataset.is_classification else None,
        layer_index=last.index,
        layer_label=last.label,
        width=features.shape[1],
    )
