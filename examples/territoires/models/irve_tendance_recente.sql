-- materialized: view
-- title: Mises en service des douze derniers mois
-- description: >
--   Les mises en service par département des douze derniers mois connus (un modèle SQL qui lit
--   le modèle Python irve_mises_en_service).
-- columns:
--   code_departement: Code INSEE du département
--   mois: Premier jour du mois
--   mises_en_service: Points de recharge mis en service dans le mois
--   moyenne_3_mois: Moyenne glissante sur trois mois
-- tests:
--   - not_null: mois
SELECT code_departement, mois, mises_en_service, moyenne_3_mois
FROM {{ ref('irve_mises_en_service') }}
WHERE mois > (SELECT max(mois) FROM {{ ref('irve_mises_en_service') }}) - interval '12 months'
