-- materialized: table
-- title: Moyennes par station et par polluant
-- description: La concentration moyenne et maximale de chaque polluant, station par station.
-- columns:
--   station: Code de la station
--   polluant: Polluant
--   jours: Jours mesurés
--   moyenne: Concentration moyenne (µg/m³)
--   maximum: Concentration maximale (µg/m³)
-- tests:
--   - not_null: moyenne
--   - expression: maximum >= moyenne
SELECT
  station,
  polluant,
  count(*) AS jours,
  round(avg(valeur)::numeric, 1) AS moyenne,
  max(valeur) AS maximum
FROM {{ source('mesures-air') }}
WHERE valeur IS NOT NULL
GROUP BY station, polluant
