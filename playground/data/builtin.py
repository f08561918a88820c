"""Imports every dataset module so their `@register_dataset` decorators run.

Adding a dataset module means adding one import here.
"""

from playground.data import (  # noqa: F401
    attention_task,
    csv_upload,
    fairness_sets,
    hiring,
    sequences,
    shortcut,
    sklearn_sets,
    toys,
)
