"""Datasets: a registry of built-in datasets plus the user's own CSV."""

from playground.data.dataset import Dataset, Split, Task
from playground.data.registry import DATASETS, DatasetInfo, list_datasets, load_dataset

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "Split", "Task", "list_datasets", "load_dataset"]
