"""Small classic datasets bundled with scikit-learn (no download needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import datasets as skd

from playground.data.dataset import Dataset, Task
from playground.data.registry import register_dataset
from playground.data.splitting import dataset_from_arrays
from playground.data.tabular import dataset_from_frame

# scikit-learn's diabetes columns s1..s6 are blood serum measurements; these are their meanings.
_DIABETES_NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu"}


def _tabular(
    name: str,
    seed: int,
    data: np.ndarray,
    feature_names: list[str],
    y: np.ndarray,
    task: Task,
    class_names: list[str] | None,
    description: str,
) -> Dataset:
    frame = pd.DataFrame(data, columns=feature_names)
    return dataset_from_frame(
        name=name,
        params={"seed": seed},
        features=frame,
        y=y,
        task=task,
        numeric=feature_names,
        categorical=[],
        seed=seed,
        class_names=class_names,
        description=description,
        target_name="class" if class_names else "target",
    )


IRIS = "150 iris flowers, 4 measurements (cm), 3 species."


@register_dataset("iris", title="Iris", kind="tabular", task="multiclass", description=IRIS)
def iris(seed: int = 0) -> Dataset:
    b = skd.load_iris()
    names = [str(n) for n in b.target_names]
    return _tabular(
        "iris", seed, b.data, list(b.feature_names), b.target, "multiclass", names, IRIS
    )


WINE = "178 wines, 13 chemical measurements, 3 cultivars."


@register_dataset("wine", title="Wine", kind="tabular", task="multiclass", description=WINE)
def wine(seed: int = 0) -> Dataset:
    b = skd.load_wine()
    names = [f"cultivar {i + 1}" for i in range(len(b.target_names))]
    return _tabular(
        "wine", seed, b.data, list(b.feature_names), b.target, "multiclass", names, WINE
    )


CANCER = "569 breast tumour biopsies, 30 cell-nucleus measurements: malignant or benign."


@register_dataset(
    "breast_cancer", title="Breast cancer", kind="tabular", task="binary", description=CANCER
)
def breast_cancer(seed: int = 0) -> Dataset:
    b = skd.load_breast_cancer()
    names = [str(n) for n in b.target_names]  # 0 = malignant, 1 = benign
    features = [str(f) for f in b.feature_names]
    return _tabular("breast_cancer", seed, b.data, features, b.target, "binary", names, CANCER)


DIABETES = (
    "442 diabetes patients, 10 baseline measurements (age, sex, BMI, blood pressure, six blood "
    "serum values); target: disease progression one year later."
)


@register_dataset(
    "diabetes", title="Diabetes", kind="tabular", task="regression", description=DIABETES
)
def diabetes(seed: int = 0) -> Dataset:
    # scaled=False gives raw units; we standardise on the training split ourselves.
    b = skd.load_diabetes(scaled=False)
    features = [_DIABETES_NAMES.get(f, f) for f in b.feature_names]
    y = b.target.astype(np.float64)
    return _tabular("diabetes", seed, b.data, features, y, "regression", None, DIABETES)


DIGITS = "1,797 handwritten digits as 8x8 grey images (pixels scaled to [0, 1]), 10 classes."


@register_dataset(
    "digits", title="Digits (8x8)", kind="image", task="multiclass", description=DIGITS
)
def digits(seed: int = 0) -> Dataset:
    b = skd.load_digits()
    # Pixel values are 0..16; a fixed scale keeps images viewable, no fitting needed.
    x = (b.images / 16.0).astype(np.float32)[:, None, :, :]
    return dataset_from_arrays(
        name="digits",
        params={"seed": seed},
        x=x,
        y=b.target.astype(np.int64),
        task="multiclass",
        kind="image",
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        seed=seed,
        class_names=[str(i) for i in range(10)],
        description=DIGITS,
    )
