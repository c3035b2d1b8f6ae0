# title: Puissance des points de recharge, résumé statistique par département
# description: >
#   Pour chaque département qui a des points de recharge : leur nombre, la moyenne, l'écart-type,
#   les quartiles et le maximum de leur puissance nominale (un modèle R).
# inputs:
#   points:
#     from: ref('irve_points')
#     columns: [code_departement, puissance_nominale]
# columns:
#   code_departement: Code INSEE du département
#   points: Nombre de points de recharge
#   moyenne_kw: Puissance nominale moyenne (kW)
#   ecart_type_kw: Écart-type de la puissance nominale (kW), vide pour un seul point
#   q1_kw: Premier quartile (kW)
#   mediane_kw: Médiane (kW)
#   q3_kw: Troisième quartile (kW)
#   max_kw: Puissance nominale la plus forte (kW)
# tests:
#   - not_null: code_departement
#   - unique: code_departement
#   - expression: q1_kw <= mediane_kw AND mediane_kw <= q3_kw AND q3_kw <= max_kw

model <- function(points) {
  located <- points[!is.na(points$code_departement) & !is.na(points$puissance_nominale), ]
  groups <- split(located$puissance_nominale, located$code_departement)
  quartile <- function(p) vapply(groups, function(x) unname(quantile(x, p)), numeric(1))
  data.frame(
    code_departement = as.character(names(groups)),
    points = vapply(groups, length, integer(1)),
    moyenne_kw = round(vapply(groups, mean, numeric(1)), 2),
    ecart_type_kw = round(vapply(groups, stats::sd, numeric(1)), 2),
    q1_kw = quartile(0.25),
    mediane_kw = quartile(0.5),
    q3_kw = quartile(0.75),
    max_kw = vapply(groups, max, numeric(1)),
    row.names = NULL
  )
}
