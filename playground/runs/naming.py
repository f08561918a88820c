"""Default run names that tell runs apart: the dataset, the model in a few words, and the
training options that differ from the defaults ("titanic.csv · MLP 32-32 · lr 0.001")."""

from __future__ import annotations

from typing import Any

from playground.data.dataset import dataset_title
from playground.model import ModelSpec
from playground.train import TrainConfig

# Options worth a word in a name, in the order people compare them; the rest (seed, device,
# threads, how often to record) do not change what is learned or are too fine for a name.
# Most telling first: at most MAX_OPTIONS of them make it into a name.
NAMED_OPTIONS = (
    "optimizer",
    "lr",
    "sampler",
    "class_weighting",
    "augment",
    "batch_size",
    "schedule",
    "l2",
    "l1",
    "epochs",
    "loss",
)
SHORT = {
    "lr": "lr",
    "batch_size": "batch",
    "l2": "L2",
    "l1": "L1",
    "schedule": "schedule",
    "class_weighting": "class weights",
}
MAX_OPTIONS = 4
# Layer kinds that name a model family, most telling first.
FAMILIES = (
    ("transformer", "Transformer"),
    ("lstm", "LSTM"),
    ("gru", "GRU"),
    ("rnn", "RNN"),
    ("conv2d", "CNN"),
    ("conv1d", "CNN"),
    ("residual", "ResNet"),
)
WIDTH_FIELDS = ("out_features", "out_channels", "hidden_size", "d_model")


def model_summary(spec: ModelSpec | dict[str, Any]) -> str:
    """A model in a few words: its family and the widths of its hidden layers ("MLP 32-32",
    "CNN 8-16", "LSTM 32")."""
    layers = (spec if isinstance(spec, dict) else spec.model_dump())["layers"]
    kinds = [layer["kind"] for layer in layers]
    family = next((name for kind, name in FAMILIES if kind in kinds), "MLP")
    widths = [
        str(layer[f])
        for layer in layers
        for f in WIDTH_FIELDS
        if isinstance(layer.get(f), int) and layer.get(f)
    ]
    return f"{family} {'-'.join(widths)}".strip() if widths else f"{family} ({len(layers)} layers)"


def _classes(value: list[int]) -> str:
    runs = value == list(range(value[0], value[0] + len(value))) if value else False
    return (
        f"classes {value[0]}-{value[-1]}"
        if runs and len(value) > 2
        else ("classes " + ",".join(map(str, value)))
    )


# Dataset options in words, so runs on different subsets of one dataset are told apart.
DATASET_OPTION_WORDS = {
    "keep_classes": _classes,
    "per_class": lambda n, _: f"{n} per class",
    "rare_class": lambda c, p: f"class {c} rare ({p.get('rare_ratio', 1.0):g})",
    "outliers": lambda f, _: f"{f:.0%} outliers",
    "fold": lambda i, p: f"fold {i + 1}/{p.get('folds')}" if p.get("folds") else "",
}


def dataset_option_words(params: dict[str, Any]) -> list[str]:
    """The dataset options a run's dataset_params set, in words ("2 per class")."""
    words = []
    for name, describe in DATASET_OPTION_WORDS.items():
        value = params.get(name)
        if value is None or value == [] or (value == 0 and name != "fold"):
            continue
        text = describe(value) if name == "keep_classes" else describe(value, params)
        if text:
            words.append(text)
    return words


def option_changes(config: TrainConfig | dict[str, Any]) -> list[str]:
    """The named options that differ from TrainConfig's defaults, in words ("lr 0.001")."""
    values = config.model_dump() if isinstance(config, TrainConfig) else dict(config)
    defaults = TrainConfig().model_dump()
    changes = []
    for option in NAMED_OPTIONS:
        value = values.get(option, defaults[option])
        if value == defaults[option]:
            continue
        if option in ("optimizer", "sampler"):
            changes.append(str(value))
        elif isinstance(value, bool):
            changes.append(SHORT.get(option, option.replace("_", " ")))
        elif isinstance(value, dict):  # augmentations by name
            changes.append(f"{option} {'+'.join(value)}")
        else:
            label = SHORT.get(option, option.replace("_", " "))
            changes.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    return changes[:MAX_OPTIONS]


def default_run_name(
    dataset: str,
    params: dict[str, Any],
    spec: ModelSpec | dict[str, Any],
    config: TrainConfig | dict[str, Any],
    mode: str = "supervised",
) -> str:
    """The name a run gets unless the user gives one; a mode other than supervised learning
    is named after the dataset ("digits · vae · MLP 64 · ...")."""
    parts = [dataset_title(dataset, params), *dataset_option_words(params)]
    if mode != "supervised":
        parts.append(mode)
    return " · ".join([*parts, model_summary(spec), *option_changes(config)])


def lineage_words(lineage: dict[str, Any], names: dict[str, str]) -> str:
    """Where a run comes from, in words ("fine-tuned from digits 0-4"), from its lineage;
    `names` maps run ids to run names. "" for a run trained from scratch on its own."""

    def name(run_id: Any) -> str:
        return names.get(str(run_id), str(run_id))

    parts = []
    if "started_from" in lineage:
        parts.append(f"fine-tuned from {name(lineage['started_from'])}")
    if "parent" in lineage:
        parts.append(f"{lineage.get('variant', 'variant')} of {name(lineage['parent'])}")
    if "fold" in lineage and "folds" in lineage:
        parts.append(f"fold {int(lineage['fold']) + 1} of {lineage['folds']}")
    if "sweep" in lineage:
        parts.append(f"sweep {lineage['sweep']}, trial {lineage.get('trial', '?')}")
    if "lesson" in lineage:
        parts.append(
            f"lesson {lineage['lesson']} ({lineage.get('variant', '')})".replace(" ()", "")
        )
    return "; ".join(parts)
