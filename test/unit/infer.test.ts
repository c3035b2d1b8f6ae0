import { describe, expect, it } from 'vitest';
import { SchemaInference } from '@datacycle/core';

function infer(header: string[], rows: string[][]) {
  const inference = new SchemaInference(header);
  rows.forEach((row) => inference.add(row));
  return Object.fromEntries(inference.fields().map((field) => [field.name, field]));
}

describe('SchemaInference', () => {
  it('keeps codes written with digits as strings: leading zeros, code-like names, SIREN width', () => {
    const fields = infer(
      ['code_insee', 'cp', 'dep', 'siren', 'population'],
      [
        ['01001', '01400', '01', '130025265', '800'],
        ['45234', '45000', '45', '552100554', '117000'],
      ],
    );

    expect(fields.code_insee).toMatchObject({ type: 'string', constraints: { pattern: '\\d{5}' } });
    expect(fields.cp).toMatchObject({ type: 'string' });
    expect(fields.dep).toMatchObject({ type: 'string', constraints: { pattern: '\\d{2}' } });
    expect(fields.siren).toMatchObject({ type: 'string', constraints: { pattern: '\\d{9}' } });
    expect(fields.population).toMatchObject({ type: 'integer', constraints: { required: true } });
  });

  it('recognises numbers, booleans, dates in ISO and French formats, geopoints and emails', () => {
    const fields = infer(
      ['puissance', 'gratuit', 'maj', 'mise_en_service', 'xy', 'contact', 'note'],
      [
        ['22.5', 'true', '2024-01-31', '14/01/2020', '[7.48,48.34]', 'a@b.fr', ''],
        ['7', 'false', '2024-02-01', '15/01/2020', '[2.35,48.85]', 'c@d.fr', 'ok'],
      ],
    );

    expect(fields.puissance?.type).toBe('number');
    expect(fields.gratuit?.type).toBe('boolean');
    expect(fields.maj?.type).toBe('date');
    expect(fields.mise_en_service).toMatchObject({ type: 'date', format: '%d/%m/%Y' });
    expect(fields.xy).toMatchObject({ type: 'geopoint', format: 'array' });
    expect(fields.contact).toMatchObject({ type: 'string', format: 'email' });
    expect(fields.note?.constraints?.required).toBeUndefined();
  });

  it('proposes an enum for a small vocabulary', () => {
    const rows = Array.from({ length: 30 }, (_, i) => [
      ['Voirie', 'Parking public', 'Station dédiée'][i % 3]!,
    ]);
    expect(infer(['implantation'], rows).implantation?.constraints?.enum).toEqual([
      'Parking public',
      'Station dédiée',
      'Voirie',
    ]);
  });
});
