"""What the app calls the fairness settings and actions, so advice can point to them by name.

A caution or hint that tells people what to try names a setting, button, tab or page in curly
quotes, exactly as the app labels it ("press “Train without sex” on the “Mitigation” tab").
The Fairness page builds its widgets from these same strings, and a test checks that every
quoted name is a label the app really shows: advice never points to a setting that is not
there. Plain text, no Streamlit: the CLI and the report print the same sentences.
"""

from __future__ import annotations

ATTRIBUTE = "Sensitive attribute"
THRESHOLD = "Decision threshold"
CONSTRAINT = "Constraint"
DATA_TAB = "Data"
MITIGATION_TAB = "Mitigation"
DATA_PAGE = "Data"
ROWS_SETTING = "n samples"  # the Data page's row count for adult, german_credit and hiring
PROXIES = "Proxies"  # the Data tab's heading over the proxy chart
REWEIGH = "reweigh by sensitive attribute"  # the Train page's option (TrainConfig.title)
NO_REWEIGHING = "no reweighing"

# The mitigation buttons of the Mitigation tab, by variant ({attribute}: the chosen one).
VARIANT_BUTTONS = {
    "drop_attribute": "Train without {attribute}",
    "reweighing": "Train with reweighing by {attribute}",
    "threshold_optimizer": "Post-process with ThresholdOptimizer",
}
# The Data page's titles of the built-in datasets that have sensitive attributes.
FAIRNESS_DATASETS = (
    "Adult income (UCI)",
    "German credit (UCI)",
    "Hiring (synthetic, injected bias)",
)
KIND_OF_DATA = "Kind of data"  # the Data page's choice between built-in kinds and a CSV
YOUR_CSV = "Your CSV"


def quote(label: str) -> str:
    """A label as advice names it: in curly quotes, which user text (group names) never gets."""
    return f"“{label}”"


def variant_button(variant: str, attribute: str) -> str:
    """The label of the Mitigation tab's button that makes `variant` for `attribute`."""
    return VARIANT_BUTTONS[variant].format(attribute=attribute)


def try_fairness_data() -> str:
    """Advice for data without sensitive attributes: which datasets have them, and where."""
    first, second, third = (quote(name) for name in FAIRNESS_DATASETS)
    return (
        f"Train on {first}, {second} or {third} (chosen on the {quote(DATA_PAGE)} page), or "
        f"choose {quote(YOUR_CSV)} under {quote(KIND_OF_DATA)} there and name the CSV's "
        "sensitive columns."
    )
