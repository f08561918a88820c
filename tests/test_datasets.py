"""Built-in datasets: shapes, tasks, seeded splits, train-only preprocessing, sensitive columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_diabetes

from playground.data import DATASETS, Dataset, load_dataset
from playground.data.splitting import split_indices
from playground.data.tabular import MISSING, TabularPreprocessor
from playground.errors import DatasetError

# Small parameters keep the whole file fast; (task, kind, input_shape) is what each must give.
SMALL: dict[str, dict] = {
    "circle": {"n_samples": 200},
    "xor": {"n_samples": 200},
    "gaussian": {"n_samples": 200},
    "spiral": {"n_samples": 200},
    "moons": {"n_samples": 200},
    "plane": {"n_samples": 200},
    "gaussian_bumps": {"n_samples": 200},
    "iris": {},
    "wine": {},
    "breast_cancer": {},
    "diabetes": {},
    "digits": {},
    "adult": {"n_samples": 1000},
    "german_credit": {},
    "sine": {"n_samples": 200, "seq_len": 16},
    "long_memory": {"n_samples": 200, "seq_len": 12},
}
EXPECTED = {
    "circle": ("binary", "toy2d", (2,)),
    "xor": ("binary", "toy2d", (2,)),
    "gaussian": ("binary", "toy2d", (2,)),
    "spiral": ("binary", "toy2d", (2,)),
    "moons": ("binary", "toy2d", (2,)),
    "plane": ("regression", "toy2d", (2,)),
    "gaussian_bumps": ("regression", "toy2d", (2,)),
    "iris": ("multiclass", "tabular", (4,)),
    "wine": ("multiclass", "tabular", (13,)),
    "breast_cancer": ("binary", "tabular", (30,)),
    "diabetes": ("regression", "tabular", (10,)),
    "digits": ("multiclass", "image", (1, 8, 8)),
    "adult": ("binary", "tabular", None),  # width depends on the categories in train
    "german_credit": ("binary", "tabular", None),
    "sine": ("regression", "sequence", (16, 1)),
    "long_memory": ("multiclass", "sequence", (12, 8)),
}
FULL_SIZES = {"iris": 150, "wine": 178, "breast_cancer": 569, "diabetes": 442, "digits": 1797}
FULL_SIZES["german_credit"] = 1000

_cache: dict[str, Dataset] = {}


def small(name: str) -> Dataset:
    """Each small dataset is built once per test session (they are pure, so sharing is safe)."""
    if name not in _cache:
        _cache[name] = load_dataset(name, **SMALL[name])
    return _cache[name]


def splits(ds: Dataset):
    return [ds.train, ds.val, ds.test]


def expected_size(name: str) -> int:
    return SMALL[name].get("n_samples") or FULL_SIZES[name]


def test_every_builtin_is_registered_with_matching_metadata():
    load_dataset("iris")  # registers the built-ins
    assert set(EXPECTED) | {"csv"} <= set(DATASETS)
    for name, (task, kind, _) in EXPECTED.items():
        assert (DATASETS[name].task, DATASETS[name].kind) == (task, kind), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_types_and_task(name):
    ds = small(name)
    task, kind, shape = EXPECTED[name]
    assert (ds.name, ds.task, ds.kind) == (name, task, kind)
    if shape is not None:
        assert ds.input_shape == shape
    for split in splits(ds):
        assert tuple(split.x.shape[1:]) == ds.input_shape
        assert split.x.dtype == torch.float32
        assert torch.isfinite(split.x).all()
        assert split.y.shape == (len(split),)
        assert split.y.dtype == (torch.float32 if task == "regression" else torch.int64)
    if task == "regression":
        assert ds.class_names is None and ds.num_outputs == 1
    else:
        assert all(isinstance(c, str) and c for c in ds.class_names)
        if task == "binary":
            assert len(ds.class_names) == 2
        else:
            assert len(ds.class_names) >= 3
        labels = torch.cat([s.y for s in splits(ds)])
        assert set(labels.tolist()) == set(range(len(ds.class_names)))
    if kind in ("toy2d", "tabular"):
        assert len(ds.feature_names) == ds.input_shape[0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_split_sizes_follow_70_15_15(name):
    ds = small(name)
    sizes = [len(s) for s in splits(ds)]
    n = expected_size(name)
    assert sum(sizes) == n
    assert abs(sizes[0] - 0.70 * n) <= 0.02 * n + 2
    assert abs(sizes[1] - 0.15 * n) <= 0.02 * n + 2
    assert abs(sizes[2] - 0.15 * n) <= 0.02 * n + 2


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if e[0] != "regression"])
def test_classification_splits_are_stratified(name):
    ds = small(name)
    overall = np.bincount(torch.cat([s.y for s in splits(ds)]).numpy()) / expected_size(name)
    for split in splits(ds):
        share = np.bincount(split.y.numpy(), minlength=len(overall)) / len(split)
        assert np.abs(share - overall).max() < 0.06, (name, share, overall)


@pytest.mark.parametrize("name", ["circle", "spiral", "plane", "sine"])
def test_splits_do_not_overlap(name):
    # Continuous random rows are all distinct, so a row in two splits would be a shared sample.
    ds = small(name)
    rows = torch.cat([s.x.flatten(1) for s in splits(ds)])
    assert torch.unique(rows, dim=0).shape[0] == rows.shape[0] == expected_size(name)


def test_split_indices_partition_and_stratify():
    y = np.array([0] * 80 + [1] * 20)
    train, val, test = split_indices(y, seed=3, stratify=True)
    together = np.concatenate([train, val, test])
    assert sorted(together.tolist()) == list(range(100))
    assert (len(train), len(val), len(test)) == (70, 15, 15)
    assert [int((y[i] == 1).sum()) for i in (train, val, test)] == [14, 3, 3]
    again = split_indices(y, seed=3, stratify=True)
    other = split_indices(y, seed=4, stratify=True)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    assert not np.array_equal(train, other[0])


def test_split_refuses_too_few_samples():
    with pytest.raises(DatasetError, match="too few"):
        split_indices(np.array([0, 1, 0]), seed=0, stratify=False)


def _same(a: Dataset, b: Dataset) -> bool:
    return all(
        torch.equal(sa.x, sb.x) and torch.equal(sa.y, sb.y)
        for sa, sb in zip(splits(a), splits(b), strict=True)
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_params_rebuild_identical_splits_and_seed_changes_them(name):
    ds = small(name)
    assert set(ds.params) == set(DATASETS[name].defaults())
    assert all(ds.params[k] == v for k, v in SMALL[name].items())
    assert _same(ds, load_dataset(name, **ds.params))
    assert not _same(ds, load_dataset(name, **{**ds.params, "seed": 1}))


def test_toy_generators_are_pure_and_on_a_unit_scale():
    for name in ("circle", "xor", "gaussian", "spiral", "moons", "plane", "gaussian_bumps"):
        ds = small(name)
        assert ds.feature_names == ["x1", "x2"]
        x = torch.cat([s.x for s in splits(ds)])
        assert x.abs().max() < 1.6, name
        assert x.abs().max() > 0.5, name
    noisy = load_dataset("circle", n_samples=200, noise=0.3)
    assert not torch.equal(noisy.train.x, small("circle").train.x)


@pytest.fixture
def one_thread():
    # Tiny models are much slower with several threads on a busy CPU (thread hand-offs).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_spiral_is_learnable_by_a_small_mlp(one_thread):
    ds = load_dataset("spiral")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
        torch.nn.Linear(32, 2),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(300):  # full-batch epochs: fast on 700 points
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ds.train.x), ds.train.y).backward()
        opt.step()
    accuracy = (model(ds.test.x).argmax(1) == ds.test.y).float().mean().item()
    assert accuracy > 0.95


def test_tabular_features_are_standardised_on_train_only():
    ds = small("breast_cancer")
    assert ds.train.x.mean(0).abs().max() < 1e-4
    assert (ds.train.x.std(0, unbiased=False) - 1).abs().max() < 1e-3
    # Validation uses the train statistics, so its means are near 0 but not exactly 0.
    assert ds.val.x.mean(0).abs().max() > 1e-2
    assert ds.feature_names[0] == "mean radius"
    assert ds.feature_groups["mean radius"] == "mean radius"


def test_regression_target_is_standardised_on_train_and_invertible():
    ds = small("diabetes")
    assert abs(ds.train.y.mean().item()) < 1e-4
    assert abs(ds.train.y.std(unbiased=False).item() - 1) < 1e-3
    assert abs(ds.val.y.mean().item()) > 1e-3
    raw = torch.cat([s.y for s in splits(ds)]).double() * ds.target_std + ds.target_mean
    expected = np.sort(load_diabetes().target)
    assert np.allclose(np.sort(raw.numpy()), expected, atol=1e-3)
    assert ds.feature_names[:4] == ["age", "sex", "bmi", "bp"]


def test_digits_are_images_in_unit_range():
    ds = small("digits")
    assert ds.class_names == [str(i) for i in range(10)]
    x = torch.cat([s.x for s in splits(ds)])
    assert x.min() == 0 and x.max() == 1
    assert len(ds.feature_names) == 64


def test_tabular_preprocessor_handles_missing_and_unknown_categories():
    train = pd.DataFrame({"n": [1.0, 2.0, np.nan, 5.0], "c": ["a", "b", None, "a"]})
    prep = TabularPreprocessor(["n"], ["c"]).fit(train)
    assert prep.feature_names == ["n", "c=a", "c=b", f"c={MISSING}"]
    assert prep.feature_groups == {"n": "n", "c=a": "c", "c=b": "c", f"c={MISSING}": "c"}
    out = prep.transform(pd.DataFrame({"n": [np.nan], "c": ["zzz"]}))
    # Missing number -> train median (2.0); unseen category -> all zeros.
    assert out[0, 0] == pytest.approx((2.0 - prep.means["n"]) / prep.stds["n"])
    assert out[0, 1:].tolist() == [0, 0, 0]
    assert prep.transform(pd.DataFrame({"n": [1.0], "c": [None]}))[0, 1:].tolist() == [0, 0, 1]


def test_adult_keeps_raw_sensitive_columns_aligned_with_rows():
    ds = small("adult")
    assert ds.sensitive_attributes == ["sex", "race", "age"]
    assert ds.class_names == ["<=50K", ">50K"]
    assert ds.feature_groups["workclass=Private"] == "workclass"
    assert "fnlwgt" not in ds.feature_groups.values()
    male = ds.feature_names.index("sex=Male")
    for split in splits(ds):
        sens = split.sensitive
        assert list(sens.columns) == ["sex", "race", "age"] and len(sens) == len(split)
        assert set(sens["sex"]) == {"Female", "Male"}
        assert "White" in set(sens["race"])
        assert sens["age"].between(17, 90).all()
        # The raw column and the encoded feature must describe the same rows.
        assert np.array_equal(split.x[:, male].numpy() == 1, (sens["sex"] == "Male").to_numpy())


def test_adult_full_table_has_both_files_and_normalised_labels():
    ds = load_dataset("adult")
    assert sum(len(s) for s in splits(ds)) == 48842
    counts = ds.class_counts("train")
    assert set(counts) == {"<=50K", ">50K"}
    assert 0.2 < counts[">50K"] / len(ds.train) < 0.28
    assert any(name.endswith(f"={MISSING}") for name in ds.feature_names)  # from '?' values


def test_drop_columns_trains_without_a_column_but_keeps_it_sensitive():
    ds = load_dataset("adult", n_samples=1000, drop_columns=("sex",))
    assert "sex" not in ds.feature_groups.values()
    assert "race" in ds.feature_groups.values()
    assert ds.params["drop_columns"] == ("sex",)
    assert set(ds.train.sensitive["sex"]) == {"Female", "Male"}
    assert ds.input_shape[0] == small("adult").input_shape[0] - 2
    # A list (as stored in JSON) rebuilds the same dataset.
    assert _same(ds, load_dataset("adult", n_samples=1000, drop_columns=["sex"]))


def test_drop_columns_rejects_unknown_column_naming_valid_ones():
    with pytest.raises(DatasetError) as err:
        load_dataset("german_credit", drop_columns=("gender",))
    assert "'gender'" in str(err.value)
    assert "checking_account" in str(err.value)


def test_german_credit_labels_and_sensitive_columns():
    ds = small("german_credit")
    assert ds.class_names == ["bad", "good"]
    assert ds.sensitive_attributes == ["sex", "age"]
    totals = {
        c: sum(ds.class_counts(s)[c] for s in ("train", "val", "test")) for c in ds.class_names
    }
    assert totals == {"bad": 300, "good": 700}  # risk 1 = good in the source table
    assert set(ds.test.sensitive["sex"]) == {"female", "male"}
    assert ds.test.sensitive["age"].dtype.kind == "i"


def test_long_memory_tokens_and_onehot_agree():
    onehot = small("long_memory")
    tokens = load_dataset("long_memory", **{**SMALL["long_memory"], "encoding": "tokens"})
    assert onehot.vocab_size is None and tokens.vocab_size == 8
    assert tokens.input_shape == (12,) and tokens.train.x.dtype == torch.int64
    assert onehot.train.x.shape == (len(onehot.train), 12, 8)
    assert torch.equal(onehot.train.x.argmax(-1), tokens.train.x)
    assert torch.equal(onehot.train.y, tokens.train.y)
    assert tokens.class_names == ["A", "B", "C", "D"]


def test_long_memory_label_is_the_token_after_the_marker():
    ds = load_dataset("long_memory", n_samples=300, seq_len=30, encoding="tokens")
    x, y = ds.train.x, ds.train.y
    marker = ds.vocab_size - 1
    assert ((x == marker).sum(1) == 1).all()
    position = (x == marker).long().argmax(1)
    assert torch.equal(x[torch.arange(len(y)), position + 1], y)
    assert int(position.max()) > 20  # some markers are far from the start


def test_sine_target_is_the_next_value_of_the_wave():
    ds = load_dataset("sine", n_samples=100, seq_len=24, noise=0.0)
    x = ds.train.x[:, :, 0].double()
    y = ds.train.y.double() * ds.target_std + ds.target_mean
    # A clean sine obeys s[t+1] = c * s[t] - s[t-1] with c = 2 cos(frequency).
    c = ((x[:, 2:] + x[:, :-2]) * x[:, 1:-1]).sum(1) / (x[:, 1:-1] ** 2).sum(1)
    assert torch.allclose(y, c * x[:, -1] - x[:, -2], atol=1e-4)


@pytest.mark.parametrize(
    ("name", "params", "text"),
    [
        ("circle", {"n_samples": 5}, "n_samples"),
        ("moons", {"noise": -1.0}, "noise"),
        ("long_memory", {"n_classes": 8, "vocab_size": 8}, "vocab_size"),
        ("long_memory", {"encoding": "ascii"}, "encoding"),
        ("adult", {"n_samples": 10**6}, "rows"),
        ("iris", {"noise": 0.1}, "parameter"),
    ],
)
def test_bad_parameters_raise_clear_errors(name, params, text):
    with pytest.raises(DatasetError, match=text):
        load_dataset(name, **params)
