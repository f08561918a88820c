"""Plain results computed from a model, a run or a dataset (arrays and tables, no charts).

boundary.py      the model's output on a grid over a 2-D dataset (one batched pass)
health.py        plain-words warnings: vanishing / exploding gradients, dead ReLU units
data_summary.py  column summary, class balance and sample rows of a dataset
"""

from playground.analysis.boundary import BoundaryGrid, decision_grid
from playground.analysis.data_summary import class_balance, column_summary, dataset_frame
from playground.analysis.health import HealthWarning, gradient_warnings, labels_of

__all__ = [
    "BoundaryGrid",
    "HealthWarning",
    "class_balance",
    "column_summary",
    "dataset_frame",
    "decision_grid",
    "gradient_warnings",
    "labels_of",
]
