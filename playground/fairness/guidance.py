"""Which fairness metric to look at, from a few plain questions, after Aequitas's fairness
tree (Saleiro et al., "Aequitas: A Bias and Fairness Audit Toolkit", 2018).

The questions: are the labels trusted (or do they record past decisions that may be biased),
is a positive decision punitive (it harms the person: flagged, denied, detained) or
assistive (it helps: hired, given a loan, offered a programme), and which error costs people
more. The tree's answers:

    labels not trusted           -> demographic parity (selection rates): error rates are
                                    measured against the labels, so they inherit their bias
    punitive, false positives    -> false positive rate parity (wrongly punished)
    assistive, false negatives   -> true positive rate parity / equal opportunity (wrongly
                                    left without help)
    both errors matter           -> equalized odds (both rates)

Each recommendation names the audit's rate and disparity to read and the constraint to
mitigate with (the same names as the Mitigation tab's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Decision = Literal["assistive", "punitive"]
Costlier = Literal["false_negatives", "false_positives", "both"]

QUESTIONS = {
    "labels_trusted": "Do the labels record the truth, rather than past decisions that may be biased?",
    "decision": "Is a positive decision assistive (it helps the person) or punitive (it harms them)?",
    "costlier": "Which error costs people more?",
}
DECISIONS: dict[str, str] = {
    "assistive": "assistive (hired, a loan, a programme)",
    "punitive": "punitive (flagged, denied, detained)",
}
COSTLIER: dict[str, str] = {
    "false_negatives": "missing someone who should get a positive decision",
    "false_positives": "giving a positive decision to someone who should not get it",
    "both": "both about equally",
}


@dataclass
class Recommendation:
    """`metric`: the audit's per-group rate to compare (a METRICS name); `disparity`: the
    disparity that summarises it; `constraint`: what to mitigate with; `reasons`: why, in
    plain sentences; `path`: the answers that led here."""

    title: str
    metric: str
    disparity: str
    constraint: str
    reasons: list[str]
    path: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)


def recommend(labels_trusted: bool, decision: Decision, costlier: Costlier) -> Recommendation:
    """The metric the fairness tree recommends for these answers, and why."""
    path = [
        f"Labels trusted: {'yes' if labels_trusted else 'no'}",
        f"Decision: {DECISIONS[decision]}",
        f"Costlier error: {COSTLIER[costlier]}",
    ]
    if not labels_trusted:
        return Recommendation(
            "Demographic parity (equal selection rates)",
            "selection_rate",
            "demographic_parity_difference",
            "demographic_parity",
            [
                "The labels may carry the bias of past decisions, and every error rate (TPR, "
                "FPR, accuracy) is measured against them: a model that copies a biased label "
                "looks accurate and even 'fair' by equalized odds.",
                "Selection rates do not use the labels, so comparing them across groups does "
                "not inherit their bias.",
            ],
            path,
            [
                "Read the base rates on the Data tab: a gap there is what the labels say, not "
                "necessarily the truth."
            ],
        )
    if costlier == "both":
        return Recommendation(
            "Equalized odds (equal true and false positive rates)",
            "tpr",
            "equalized_odds_difference",
            "equalized_odds",
            [
                "With trusted labels, both kinds of error can be measured fairly.",
                "When both errors cost people, every group should get both the same chance of "
                "a deserved positive decision and the same risk of an undeserved one.",
            ],
            path,
            ["Equalized odds is the strictest of these: it may cost more accuracy."],
        )
    harmful = costlier == "false_positives"
    if decision == "punitive" and not harmful:
        note = (
            "For a punitive decision the usual worry is the false positive (punishing the "
            "wrong person); you said missed cases cost more, so the tree follows that."
        )
    elif decision == "assistive" and harmful:
        note = (
            "For an assistive decision the usual worry is the false negative (leaving out "
            "someone who needed help); you said wrong positives cost more, so the tree "
            "follows that."
        )
    else:
        note = ""
    if harmful:
        rec = Recommendation(
            "False positive rate parity",
            "fpr",
            "equalized_odds_difference",
            "equalized_odds",
            [
                "With trusted labels, error rates can be compared across groups.",
                "A false positive is the costly error here, so the share of people who should "
                "not get the decision but do (FPR) should be the same in every group.",
            ],
            path,
            [
                "Fairlearn has no FPR-only constraint: mitigate with equalized odds, which "
                "equalises FPR together with TPR."
            ],
        )
    else:
        rec = Recommendation(
            "Equal opportunity (true positive rate parity)",
            "tpr",
            "equal_opportunity_difference",
            "true_positive_rate_parity",
            [
                "With trusted labels, error rates can be compared across groups.",
                "A missed positive is the costly error here, so among the people who should "
                "get the decision, every group should get it equally often (TPR; equivalently "
                "equal false negative rates).",
            ],
            path,
        )
    if note:
        rec.reasons.append(note)
    return rec
