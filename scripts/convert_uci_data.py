"""One-off: convert the raw UCI files in ../shared/data into the compact copies the package ships.

Run from the repository root:  python scripts/convert_uci_data.py [RAW_DIR]
Writes playground/data/files/adult.csv.gz and german_credit.csv.gz. Not used at run time.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "data"
OUT = ROOT / "playground" / "data" / "files"

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]


def convert_adult(raw: Path) -> pd.DataFrame:
    """adult.data + adult.test -> one table: `?` -> missing, labels without the test set's dot."""
    read = {"header": None, "names": ADULT_COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(raw / "adult.data", **read)
    test = pd.read_csv(raw / "adult.test", skiprows=1, **read)  # line 1 is a comment
    frame = pd.concat([train, test], ignore_index=True).dropna(subset=["income"])
    frame["income"] = frame["income"].str.rstrip(".")
    # fnlwgt is a census sampling weight, not a property of the person.
    return frame.drop(columns=["fnlwgt"])


def write_gzip(path: Path, text: str) -> None:
    # mtime=0 keeps the bytes identical between runs, so re-running makes no spurious diff.
    with (
        open(path, "wb") as raw_file,
        gzip.GzipFile(fileobj=raw_file, mode="wb", compresslevel=9, mtime=0, filename="") as gz,
    ):
        gz.write(text.encode("utf-8"))


def main(raw: Path = RAW) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    adult = convert_adult(raw)
    assert set(adult["income"]) == {"<=50K", ">50K"}, set(adult["income"])
    write_gzip(OUT / "adult.csv.gz", adult.to_csv(index=False))
    german = (raw / "german_credit.csv").read_text(encoding="utf-8")
    write_gzip(OUT / "german_credit.csv.gz", german)
    for name in ("adult.csv.gz", "german_credit.csv.gz"):
        print(f"{name}: {(OUT / name).stat().st_size / 1024:.0f} KiB")
    print(f"adult rows: {len(adult)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RAW)
