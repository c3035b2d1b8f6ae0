import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes an IRVE static CSV (schema v2.3.0) with realistic values: stations around 24 towns of
 * metropolitan France, unique point identifiers, AFIREV identifiers, the schema's vocabularies, and a share of invalid rows of the
 * kinds producers send (bad dates, words in numbers, wrong enum values, broken identifiers).
 * Deterministic: the same seed gives the same file.
 */
export async function generateIrveCsv(
  file: string,
  rows: number,
  invalidShare = 0.03,
  seed = 42,
): Promise<{ invalid: number }> {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
  const letters = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(65 + Math.floor(random() * 26))).join('');

  const towns: readonly (readonly [number, number])[] = [
    [2.35, 48.86],
    [4.84, 45.76],
    [5.45, 43.53],
    [1.44, 43.6],
    [-1.55, 47.22],
    [7.75, 48.58],
    [-0.58, 44.84],
    [3.06, 50.63],
    [-1.68, 48.11],
    [1.91, 47.9],
    [5.04, 47.32],
    [3.09, 45.78],
    [1.26, 45.83],
    [0.69, 47.39],
    [5.72, 45.19],
    [4.03, 49.26],
    [6.18, 49.12],
    [0.34, 46.58],
    [2.3, 49.89],
    [1.1, 49.44],
    [0.2, 48.0],
    [6.02, 47.24],
    [-0.37, 49.18],
    [3.88, 43.63],
  ];
  const operators = [
    'Izivia',
    'Freshmile',
    'TotalEnergies',
    'Ionity',
    'Electra',
    'Tesla',
    'SDE 45',
    'Allego',
  ];
  const implantations = [
    'Voirie',
    'Parking public',
    'Parking privé à usage public',
    'Parking privé réservé à la clientèle',
    'Station dédiée à la recharge rapide',
  ];
  const access = ['Accès libre', 'Accès réservé'];
  const pmr = ['Réservé PMR', 'Accessible mais non réservé PMR', 'Non accessible', 'Accessibilité inconnue'];
  const powers = ['3.7', '7.4', '11', '22', '50', '150', '350'];
  const hours = ['24/7', 'Mo-Fr 08:00-19:00', 'Mo-Su 06:00-22:00'];
  const bool = () => (random() < 0.5 ? 'true' : 'false');
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

  const header =
    'nom_amenageur,siren_amenageur,contact_amenageur,nom_operateur,contact_operateur,telephone_operateur,nom_enseigne,id_station_itinerance,id_station_local,nom_station,implantation_station,adresse_station,code_insee_commune,coordonneesXY,nbre_pdc,id_pdc_itinerance,id_pdc_local,puissance_nominale,prise_type_ef,prise_type_2,prise_type_combo_ccs,prise_type_chademo,prise_type_autre,gratuit,paiement_acte,paiement_cb,paiement_autre,tarification,condition_acces,reservation,horaires,accessibilite_pmr,restriction_gabarit,station_deux_roues,raccordement,num_pdl,date_mise_en_service,observations,date_maj,cable_t2_attache';
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  let invalid = 0;
  for (let i = 0; i < rows; i++) {
    const operator = pick(operators);
    const number = String(1 + Math.floor(random() * 95)).padStart(2, '0');
    const dep = number === '20' ? pick(['2A', '2B']) : number; // Corsica has no département 20
    const station = `FR${letters(3)}P${digits(8)}`;
    // Around a town, inland: each point lies in a département (the example's tests check it).
    const [townLon, townLat] = pick(towns);
    const lon = (townLon + (random() - 0.5) * 0.1).toFixed(6);
    const lat = (townLat + (random() - 0.5) * 0.1).toFixed(6);
    const cells = [
      `${operator} Aménagement`,
      digits(9),
      `contact@${operator.toLowerCase().replace(/\W/g, '')}.fr`,
      operator,
      `support@${operator.toLowerCase().replace(/\W/g, '')}.fr`,
      `0${digits(9)}`,
      `Réseau ${operator}`,
      station,
      '',
      `Station ${i} — ${dep}`,
      pick(implantations),
      `${1 + Math.floor(random() * 200)} rue de la République ${dep}000 Ville`,
      `${dep}${digits(3)}`,
      `"[${lon},${lat}]"`,
      String(1 + Math.floor(random() * 12)),
      `${station.slice(0, 5)}E${String(i).padStart(9, '0')}`, // unique, like real identifiers
      '',
      pick(powers),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
      '0,40 € / kWh',
      pick(access),
      bool(),
      pick(hours),
      pick(pmr),
      'Hauteur maximale 2,10 m',
      bool(),
      pick(['Direct', 'Indirect']),
      digits(14),
      `20${10 + Math.floor(random() * 14)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`,
      '',
      `2024-0${1 + Math.floor(random() * 9)}-2${Math.floor(random() * 8)}`,
      bool(),
    ];
    if (random() < invalidShare) {
      invalid++;
      const kind = Math.floor(random() * 4);
      if (kind === 0) cells[38] = '31/02/2024';
      else if (kind === 1) cells[14] = 'douze';
      else if (kind === 2) cells[10] = 'Trottoir';
      else cells[7] = 'pas-un-identifiant';
    }
    const line = cells.map((cell, index) => (index === 13 ? cell : quote(cell))).join(',');
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { invalid };
}
