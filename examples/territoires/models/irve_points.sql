-- materialized: table
-- title: Points de recharge rattachés à leur département
-- description: >
--   Les points de recharge déclarés (jeu irve-statique), chacun rattaché au département
--   où il se trouve, par jointure spatiale de ses coordonnées avec les contours des
--   départements.
-- columns:
--   id_pdc_itinerance: Identifiant du point de recharge
--   id_station_itinerance: Identifiant de la station
--   nom_operateur: Opérateur
--   puissance_nominale: Puissance nominale (kW)
--   code_departement: Code INSEE du département où se trouve le point
--   geometrie: Position du point (WGS 84)
-- tests:
--   # A point outside every département is a wrong position (swapped coordinates, 0,0…):
--   # the indicators would silently lose it, so nothing is published until it is fixed.
--   - not_null: code_departement
--   - unique: id_pdc_itinerance
--   - expression: puissance_nominale > 0
SELECT
  p.id_pdc_itinerance,
  p.id_station_itinerance,
  p.nom_operateur,
  p.puissance_nominale,
  d.code AS code_departement,
  p."coordonneesXY" AS geometrie
FROM {{ source('irve-statique') }} AS p
LEFT JOIN {{ source('departements') }} AS d ON ST_Intersects(d.geometry, p."coordonneesXY")
