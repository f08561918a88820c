"""Plain-language cautions that go with every audit: what the numbers can and cannot say.

Where a caution says what to try, it names the app's setting or button in curly quotes, as
the app labels it (see `actions`); tests check those labels exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from playground.fairness.actions import CONSTRAINT, MITIGATION_TAB, quote, variant_button

if TYPE_CHECKING:
    from playground.fairness.data_audit import DataAudit
    from playground.fairness.metrics import ModelAudit

BASE_RATE_GAP = 0.05  # base rates further apart than this make the two criteria conflict
FOUR_FIFTHS = 0.8
POST_PROCESS = variant_button("threshold_optimizer", "")


def cautions(audit: ModelAudit) -> list[str]:
    """Cautions for a model audit, most important first; always ends with "not a verdict"."""
    out: list[str] = []
    g = audit.by_group
    if audit.small_groups:
        out.append(_small_groups(audit))
    if audit.disparities_large_groups:
        dp_all = audit.disparities["demographic_parity_difference"]
        dp_large = audit.disparities_large_groups["demographic_parity_difference"]
        out.append(
            f"Over all groups the demographic parity difference is {dp_all:.2f}; over groups of "
            f"at least {audit.min_group} people it is {dp_large:.2f}. Small groups can make a "
            "gap look larger or smaller than it is."
        )
    for rate, need in (("tpr", "actual positives"), ("fpr", "actual negatives")):
        undefined = [str(x) for x in g.index[g[rate].isna()]]
        if undefined:
            out.append(
                f"{rate.upper()} is undefined for {_names(undefined)}: no {need} in the data, so "
                "equalized odds cannot be judged for them."
            )
    out.extend(_chance_gap(audit))
    base = g["base_rate"]
    if base.max() - base.min() > BASE_RATE_GAP:
        hi, lo = base.idxmax(), base.idxmin()
        out.append(
            f"The groups' base rates differ ('{hi}' {base[hi]:.0%} vs '{lo}' {base[lo]:.0%} "
            "positive labels). When base rates differ, no imperfect model can satisfy "
            "demographic parity (equal selection rates) and equalized odds (equal error rates) "
            "at the same time: improving one usually worsens the other. Decide which one fits "
            f"the decision being made, then pick it as the {quote(CONSTRAINT)} on the "
            f"{quote(MITIGATION_TAB)} tab and press {quote(POST_PROCESS)}."
        )
    ratio = audit.disparities["demographic_parity_ratio"]
    if np.isfinite(ratio) and ratio < FOUR_FIFTHS:
        out.append(
            f"The lowest selection rate is {ratio:.0%} of the highest, below the 80% "
            "'four-fifths' rule of thumb used in US employment guidance. It is a screening "
            "rule of thumb, not a legal test."
        )
    out.append(
        "These numbers describe this model on this data at this threshold; a metric is not a "
        "verdict. Whether a gap is acceptable depends on the decision, who it affects, the law "
        "and how the labels were made: biased labels make a biased model look accurate."
    )
    return out


def _small_groups(audit: ModelAudit) -> str:
    sizes = {x: int(audit.by_group.loc[x, "count"]) for x in audit.small_groups}

    def people(n: int) -> str:
        return f"{n} {'person' if n == 1 else 'people'}"

    if len(sizes) == 1:
        ((group, n),) = sizes.items()
        return (
            f"Group '{group}' has only {people(n)} here (fewer than {audit.min_group}): its "
            "rates can swing a lot by chance, so treat them as a hint, not a finding. It is "
            "shown, not hidden, so you can see how little data it has."
        )
    listed = _names([f"{x}' ({people(n)})" for x, n in sizes.items()]).replace(")'", ")")
    return (
        f"Groups {listed} have fewer than {audit.min_group} people each here: their rates can "
        "swing a lot by chance, so treat them as hints, not findings. They are shown, not "
        "hidden, so you can see how little data they have."
    )


def _chance_gap(audit: ModelAudit) -> list[str]:
    """A caution when the selection-rate gap could be chance: the two groups that define it
    have overlapping bootstrap intervals."""
    g = audit.by_group
    if "selection_rate_ci_low" not in g.columns or len(g) < 2:
        return []
    hi, lo = g["selection_rate"].idxmax(), g["selection_rate"].idxmin()
    if g.loc[hi, "selection_rate_ci_low"] <= g.loc[lo, "selection_rate_ci_high"]:
        return [
            f"The selection rates of '{hi}' and '{lo}' have overlapping "
            f"{audit.ci_level:.0%} intervals: their gap may be chance."
        ]
    return []


def data_cautions(audit: DataAudit) -> list[str]:
    """Cautions for a data audit: small groups, label imbalance, proxies, missing values."""
    out: list[str] = []
    g = audit.groups
    small = [str(x) for x in g.index[g["small"]]]
    if small:
        out.append(
            f"{_names(small)} {'has' if len(small) == 1 else 'have'} fewer than "
            f"{audit.min_group} rows: too few to learn from or to judge a model by."
        )
    if "base_rate" in g.columns and g["base_rate"].max() - g["base_rate"].min() > BASE_RATE_GAP:
        hi, lo = g["base_rate"].idxmax(), g["base_rate"].idxmin()
        out.append(
            f"The positive label is more common for '{hi}' ({g.loc[hi, 'base_rate']:.0%}) than "
            f"for '{lo}' ({g.loc[lo, 'base_rate']:.0%}). A model trained on these labels will "
            "tend to repeat that gap, whether it reflects real differences or past bias."
        )
    flagged = audit.proxies[audit.proxies["flagged"]]
    if len(flagged):
        out.append(
            f"{_names(list(flagged['feature']))} {'is' if len(flagged) == 1 else 'are'} "
            f"strongly associated with {audit.attribute} (possible proxies): dropping "
            f"{audit.attribute} from the features does not stop a model from using it."
        )
    if audit.attribute_features:
        cols = audit.attribute_features
        button = quote(variant_button("drop_attribute", audit.attribute))
        out.append(
            f"{_names(cols)} {'is a model feature' if len(cols) == 1 else 'are model features'}"
            f": the model can use {'it' if len(cols) == 1 else 'them'} directly. Press {button} "
            f"on the {quote(MITIGATION_TAB)} tab to compare, keeping any proxies in mind."
        )
    out.append(audit.missing_note)
    return out


def _names(items: list[str]) -> str:
    quoted = [f"'{x}'" for x in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
