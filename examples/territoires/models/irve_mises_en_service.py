"""
title: Mises en service de points de recharge, par mois
description: >
  Pour chaque département, mois par mois depuis sa première mise en service : les points de
  recharge mis en service dans le mois, le nombre cumulé de points en service et la moyenne
  glissante des mises en service sur trois mois (un modèle Python, avec pandas).
inputs:
  # Only the columns the function reads: less to export and to hold in memory.
  points:
    from: ref('irve_points')
    columns: [id_pdc_itinerance, code_departement]
  declarations:
    from: source('irve-statique')
    columns: [id_pdc_itinerance, date_mise_en_service]
columns:
  code_departement: Code INSEE du département
  mois: Premier jour du mois
  mises_en_service: Points de recharge mis en service dans le mois
  cumul: Points de recharge en service à la fin du mois
  moyenne_3_mois: Moyenne des mises en service du mois et des deux précédents
tests:
  - not_null: code_departement
  - not_null: mois
  - expression: cumul >= mises_en_service AND mises_en_service >= 0
"""

import pandas as pd

COLUMNS = ["code_departement", "mois", "mises_en_service", "cumul", "moyenne_3_mois"]


def model(points: pd.DataFrame, declarations: pd.DataFrame) -> pd.DataFrame:
    dates = declarations[["id_pdc_itinerance", "date_mise_en_service"]].dropna()
    located = points.dropna(subset=["code_departement"]).merge(dates, on="id_pdc_itinerance")
    if located.empty:
        return pd.DataFrame({
            "code_departement": pd.Series(dtype="string"),
            "mois": pd.Series(dtype="datetime64[ns]"),
            "mises_en_service": pd.Series(dtype="int64"),
            "cumul": pd.Series(dtype="int64"),
            "moyenne_3_mois": pd.Series(dtype="float64"),
        })
    located["mois"] = located["date_mise_en_service"].dt.to_period("M").dt.to_timestamp()
    monthly = located.groupby(["code_departement", "mois"]).size()

    frames = []
    for code, counts in monthly.groupby(level="code_departement"):
        counts = counts.droplevel("code_departement")
        # Every month from the first to the last: a month without new points counts zero.
        months = pd.date_range(counts.index.min(), counts.index.max(), freq="MS")
        counts = counts.reindex(months, fill_value=0)
        frames.append(pd.DataFrame({
            "code_departement": code,
            "mois": months.date,
            "mises_en_service": counts.to_numpy(),
            "cumul": counts.cumsum().to_numpy(),
            "moyenne_3_mois": counts.rolling(3, min_periods=1).mean().round(2).to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True)[COLUMNS]
