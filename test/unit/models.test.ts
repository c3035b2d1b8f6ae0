import { describe, expect, it } from 'vitest';
import { downstreamModels, orderModels, parseModel, renderModelSql, type Model } from '@datacycle/core';

const model = (name: string, sql: string, header = '-- materialized: table\n'): Model => {
  const parsed = parseModel(name, `models/${name}.sql`, header + sql);
  if (!parsed.model) throw new Error(JSON.stringify(parsed.issues));
  return parsed.model;
};

describe('SQL models', () => {
  it('reads the YAML header, the SQL, and what the SQL depends on', () => {
    const parsed = parseModel(
      'par_dep',
      'models/par_dep.sql',
      [
        '-- materialized: incremental',
        '-- unique_key: code',
        '-- description: Par département',
        '-- tests:',
        '--   - unique: code',
        '--   - expression: n >= 0',
        '--     severity: warn',
        "SELECT code, count(*) AS n FROM {{ source('irve-statique') }}",
        "JOIN {{ ref('points') }} USING (code) GROUP BY code",
      ].join('\n'),
    );

    expect(parsed.issues).toEqual([]);
    expect(parsed.model).toMatchObject({
      name: 'par_dep',
      codeLine: 8,
      refs: ['points'],
      sources: ['irve-statique'],
      header: {
        materialized: 'incremental',
        unique_key: 'code',
        tests: [
          { unique: 'code', severity: 'error' },
          { expression: 'n >= 0', severity: 'warn' },
        ],
      },
    });
    expect(renderModelSql(parsed.model!.code, (kind, name) => `${kind}_${name}`)).toBe(
      'SELECT code, count(*) AS n FROM source_irve-statique\nJOIN ref_points USING (code) GROUP BY code',
    );
  });

  it('refuses what it cannot build, saying where', () => {
    const parsed = parseModel(
      'Bad-Name',
      'models/Bad-Name.sql',
      "-- materialized: incremental\n-- colour: blue\nSELECT {{ config('x') }}",
    );

    expect(parsed.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      expect.stringMatching(/^: model name "Bad-Name"/),
      expect.stringMatching(/^header: Unrecognized key.*colour/),
      'header.unique_key: an incremental model needs unique_key',
      "sql: unknown template {{ config('x') }}: use {{ ref('model') }} or {{ source('dataset') }}",
    ]);
  });

  it('orders models after what they ref, and names a cycle', () => {
    const a = model('a', "SELECT * FROM {{ source('d') }}");
    const b = model('b', "SELECT * FROM {{ ref('a') }}");
    const c = model('c', "SELECT * FROM {{ ref('b') }} JOIN {{ ref('a') }} USING (x)");
    const ordered = orderModels([c, b, a]);
    expect('order' in ordered && ordered.order.map((m) => m.name)).toEqual(['a', 'b', 'c']);

    const x = model('x', "SELECT * FROM {{ ref('z') }}");
    const y = model('y', "SELECT * FROM {{ ref('x') }}");
    const z = model('z', "SELECT * FROM {{ ref('y') }}");
    expect(orderModels([x, y, z])).toEqual({ cycle: ['x', 'z', 'y', 'x'] });
  });

  it('rebuilds only the models downstream of the changed datasets', () => {
    const points = model('points', "SELECT * FROM {{ source('irve') }}");
    const perDep = model(
      'per_dep',
      "SELECT * FROM {{ ref('points') }} JOIN {{ source('deps') }} USING (code)",
    );
    const regions = model('regions_only', "SELECT * FROM {{ source('regions') }}");
    const ordered = [points, perDep, regions];

    expect(downstreamModels(ordered, ['irve']).map((m) => m.name)).toEqual(['points', 'per_dep']);
    expect(downstreamModels(ordered, ['deps']).map((m) => m.name)).toEqual(['per_dep']);
    expect(downstreamModels(ordered, ['other'])).toEqual([]);
  });
});

describe('Python and R models', () => {
  it('reads a Python model: its docstring is the header, its inputs are what it depends on', () => {
    const parsed = parseModel(
      'tendance',
      'models/tendance.py',
      [
        '"""',
        'title: Tendance',
        'inputs:',
        "  points: ref('irve_points')",
        "  departements: source('departements')",
        'tests:',
        '  - not_null: code',
        '"""',
        'import pandas as pd',
        '',
        'def model(points, departements):',
        '    return points',
      ].join('\n'),
      'python',
    );
    expect(parsed.issues).toEqual([]);
    expect(parsed.model).toMatchObject({
      language: 'python',
      codeLine: 1,
      refs: ['irve_points'],
      sources: ['departements'],
      inputs: [
        { parameter: 'points', kind: 'ref', name: 'irve_points' },
        { parameter: 'departements', kind: 'source', name: 'departements' },
      ],
      header: { materialized: 'table', title: 'Tendance', tests: [{ not_null: 'code' }] },
    });
    expect(parsed.model!.code).toContain('def model(points, departements):');
  });

  it('takes only the columns an input names', () => {
    const parsed = parseModel(
      'a',
      'models/a.R',
      [
        '# inputs:',
        '#   x:',
        "#     from: source('d')",
        '#     columns: [id, day]',
        'model <- function(x) x',
      ].join('\n'),
      'r',
    );
    expect(parsed.model?.inputs).toEqual([
      { parameter: 'x', kind: 'source', name: 'd', columns: ['id', 'day'] },
    ]);
  });

  it('reads an R model: its opening # lines are the header', () => {
    const parsed = parseModel(
      'resume',
      'models/resume.R',
      ["#' inputs:", "#'   x: ref('a')", '# description: Résumé', 'model <- function(x) x'].join('\n'),
      'r',
    );
    expect(parsed.issues).toEqual([]);
    expect(parsed.model).toMatchObject({ language: 'r', refs: ['a'], header: { description: 'Résumé' } });
  });

  it('refuses what it cannot run, saying where', () => {
    expect(parseModel('a', 'models/a.py', 'def model(): pass', 'python').issues).toEqual([
      { path: 'header', message: expect.stringContaining('module docstring') },
    ]);
    expect(
      parseModel(
        'a',
        'models/a.py',
        '"""\nmaterialized: view\ninputs: { x: "table(\'b\')" }\n"""\n',
        'python',
      ).issues,
    ).toEqual([
      { path: 'header.materialized', message: expect.stringContaining('materialized as a table') },
      { path: 'header.inputs.x', message: `"table('b')": write ref('model') or source('dataset')` },
    ]);
    expect(parseModel('a', 'models/a.sql', '-- inputs: { x: "ref(\'b\')" }\nSELECT 1').issues).toEqual([
      { path: 'header.inputs', message: expect.stringContaining('names its inputs in its SQL') },
    ]);
  });
});
