-- materialized: table
-- title: Recharge par département
-- description: >
--   L'indicateur de la recharge par département : nombre de points de recharge, de
--   stations et puissance installée, pour chacun des 96 départements métropolitains (zéro
--   là où il n'y en a pas).
-- columns:
--   code_departement: Code INSEE du département
--   nom_departement: Nom du département
--   points_de_recharge: Nombre de points de recharge (PDC)
--   stations: Nombre de stations
--   puissance_totale_kw: Puissance nominale cumulée (kW)
-- tests:
--   - not_null: code_departement
--   - unique: code_departement
--   - row_count: { min: 96, max: 96 }
--   - expression: points_de_recharge >= stations AND puissance_totale_kw >= 0
--   - relationships: { column: code_departement, to: "source('departements')", field: code }
-- # Followed over time: each published pass keeps these values per département
-- # (/datasets/irve_par_departement/history, and charts on its portal page).
-- indicator:
--   key: code_departement
--   label: nom_departement
--   values: [points_de_recharge, puissance_totale_kw]
-- charts:
--   - type: bar
--     title: Points de recharge par département
--     label: nom_departement
--     value: points_de_recharge
--     limit: 96
--   - type: choropleth
--     title: Carte des points de recharge par département
--     value: points_de_recharge
--     label: nom_departement
--     key: code_departement
--     areas: { from: "source('departements')", key: code }
SELECT
  d.code AS code_departement,
  d.nom AS nom_departement,
  count(p.id_pdc_itinerance) AS points_de_recharge,
  count(DISTINCT p.id_station_itinerance) AS stations,
  coalesce(sum(p.puissance_nominale), 0) AS puissance_totale_kw
FROM {{ source('departements') }} AS d
LEFT JOIN {{ ref('irve_points') }} AS p ON p.code_departement = d.code
GROUP BY d.code, d.nom
ORDER BY d.code
