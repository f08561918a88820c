"""A small passenger table like the Titanic's: text, missing values and a sensitive column,
as a person would upload it. Seeded, so every test sees the same file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def titanic_frame(n: int = 160, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], n)
    klass = rng.choice(["1st", "2nd", "3rd"], n, p=[0.25, 0.25, 0.5])
    age = rng.integers(1, 75, n).astype(float)
    age[rng.choice(n, n // 10, replace=False)] = np.nan
    embarked = rng.choice(["S", "C", "Q"], n, p=[0.7, 0.2, 0.1]).astype(object)
    embarked[[4, 9]] = None
    fare = np.round(rng.gamma(2.0, 15.0, n) + (klass == "1st") * 60, 2)
    chance = 0.2 + 0.5 * (gender == "female") + 0.2 * (klass == "1st")
    survived = np.where(rng.random(n) < chance, "yes", "no")
    return pd.DataFrame(
        {
            "gender": gender,
            "age": age,
            "class": klass,
            "embarked": embarked,
            "fare": fare,
            "survived": survived,
        }
    )


def write_titanic(folder: Path, name: str = "titanic.csv") -> Path:
    path = folder / name
    titanic_frame().to_csv(path, index=False)
    return path
