"""A synthetic hiring dataset with a known, injected bias, for testing fairness audits.

Each applicant has a skill test score, years of experience, an education level, an age, a
gender and how they came to apply (`referral`). Whether they were hired depends on merit
(skill, experience, education) plus noise, minus a fixed penalty `bias` applied to women
only: that penalty is the injected bias. With `bias=0` the label is independent of gender.

`referral` has no effect on the label. It is a proxy: most employee referrals go to men (an
existing workforce that refers its friends), so a model trained without `gender` can still
find gender through it. Gender and age are the sensitive attributes; age has no effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.data.registry import register_dataset
from playground.data.splitting import check_n_samples
from playground.data.tabular import dataset_from_frame
from playground.errors import DatasetError

NUMERIC = ("skill", "experience", "age")
CATEGORICAL = ("education", "gender", "referral")
SENSITIVE = ("gender", "age")
PENALISED = "female"  # the group the injected bias works against

EDUCATION = ("high_school", "bachelor", "master", "phd")
EDUCATION_P = (0.3, 0.45, 0.2, 0.05)
EDUCATION_BONUS = {"high_school": -0.4, "bachelor": 0.0, "master": 0.3, "phd": 0.5}
REFERRAL = ("employee_referral", "job_board", "agency", "career_fair")
# P(referral | gender): the proxy. Men mostly come through employee referrals.
REFERRAL_P = {"male": (0.6, 0.2, 0.1, 0.1), "female": (0.1, 0.4, 0.2, 0.3)}
FEMALE_SHARE = 0.45
HIRE_RATE = 0.4  # about this share of applicants is hired when bias=0
# The generator draws from its own stream, apart from the split's.
_DRAW_STREAM = 3


def hiring_frame(n_samples: int, bias: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Raw applicant table (N rows, NUMERIC + CATEGORICAL columns) and hired labels (N,)."""
    rng = np.random.default_rng([seed, _DRAW_STREAM])
    n = n_samples
    gender = np.where(rng.random(n) < FEMALE_SHARE, "female", "male")
    age = rng.integers(21, 65, n)
    education = rng.choice(EDUCATION, size=n, p=EDUCATION_P)
    # Experience grows with age (capped by the years since 21); skill is independent of all.
    experience = np.minimum(rng.gamma(2.0, 0.12 * (age - 18)), age - 21).round(1)
    skill = rng.normal(60.0, 12.0, n).clip(0, 100).round(0)
    referral = np.empty(n, dtype=object)
    for g, p in REFERRAL_P.items():
        rows = gender == g
        referral[rows] = rng.choice(REFERRAL, size=int(rows.sum()), p=p)

    merit = (
        1.2 * (skill - 60.0) / 12.0
        + 0.6 * (experience - experience.mean()) / (experience.std() or 1.0)
        + np.vectorize(EDUCATION_BONUS.get)(education)
    )
    noisy = merit + rng.normal(0.0, 0.6, n)
    # The cut is fixed from the unbiased scores, so the bias lowers women's hire rate
    # rather than shifting everyone's.
    cut = np.quantile(noisy, 1 - HIRE_RATE)
    hired = (noisy - bias * (gender == PENALISED) > cut).astype(np.int64)
    frame = pd.DataFrame(
        {
            "skill": skill,
            "experience": experience,
            "age": age,
            "education": education,
            "gender": gender,
            "referral": referral.astype(str),
        }
    )
    return frame, hired


HIRING_TEXT = (
    "Synthetic hiring data with a known injected bias: women's hiring score is lowered by "
    "`bias` (in merit standard units; 0 = no bias). `referral` has no effect on hiring but "
    "goes with gender (a proxy). Sensitive attributes: gender, age."
)


@register_dataset(
    "hiring",
    title="Hiring (synthetic, injected bias)",
    kind="tabular",
    task="binary",
    description=HIRING_TEXT,
)
def hiring(
    seed: int = 0,
    n_samples: int = 4000,
    bias: float = 1.0,
    drop_columns: tuple[str, ...] = (),
) -> Dataset:
    return _build(seed, n_samples, bias, tuple(drop_columns))


def _build(seed: int, n_samples: int, bias: float, drop_columns: Sequence[str]) -> Dataset:
    drop_columns = tuple(drop_columns)  # a list from JSON rebuilds the same dataset
    check_n_samples(n_samples)
    if not 0.0 <= bias <= 5.0:
        raise DatasetError(f"bias={bias} is outside 0..5.", "Use 0 for no bias, 1 for a clear one.")
    columns = [*NUMERIC, *CATEGORICAL]
    unknown = [c for c in drop_columns if c not in columns]
    if unknown:
        raise DatasetError(
            f"hiring has no column {', '.join(map(repr, unknown))} to drop.",
            f"Valid columns: {', '.join(columns)}.",
        )
    if set(columns) <= set(drop_columns):
        raise DatasetError("drop_columns removes every column of hiring.", "Keep at least one.")
    frame, hired = hiring_frame(n_samples, bias, seed)
    notes = [f"Injected bias: women's hiring score lowered by {bias:g}."]
    if drop_columns:
        notes.append(f"Trained without: {', '.join(drop_columns)}.")
    return dataset_from_frame(
        name="hiring",
        params={"seed": seed, "n_samples": n_samples, "bias": bias, "drop_columns": drop_columns},
        features=frame.drop(columns=list(drop_columns)),
        y=hired,
        task="binary",
        numeric=[c for c in NUMERIC if c not in drop_columns],
        categorical=[c for c in CATEGORICAL if c not in drop_columns],
        seed=seed,
        class_names=("not hired", "hired"),
        sensitive=frame[list(SENSITIVE)],
        description=HIRING_TEXT,
        notes=notes,
        target_name="hired",
    )
