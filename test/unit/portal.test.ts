import { describe, expect, it } from 'vitest';
import { parseModel, type Model } from '@datacycle/core';
import { checkModels } from '../../layers/core/src/platform/project/models';
import type { ProjectIssue } from '../../layers/core/src/platform/project/types';
import { html } from '../../layers/core/src/stages/publish/portal/html';
import {
  barChartSvg,
  classOf,
  legend,
  mapSvg,
  palette,
  quantileClasses,
} from '../../layers/core/src/stages/publish/portal/svg';

describe('portal markup', () => {
  it('escapes every value from the data, and only those', () => {
    const cell = '<img src=x onerror="alert(1)"> & \'quoted\'';
    const page = html`<td title="${cell}">${cell}</td>${html`<b>${'ok'}</b>`}`;
    expect(page.text).toBe(
      '<td title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;">' +
        '&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;</td><b>ok</b>',
    );
    expect(html`${[1, undefined, null, false, 'a']}`.text).toBe('1a');
  });
});

describe('choropleth classes', () => {
  it('cuts many values into five classes of about equal counts, ties kept together', () => {
    const values = Array.from({ length: 100 }, (_, index) => index);
    const classes = quantileClasses(values);
    expect(classes.map((entry) => [entry.min, entry.max])).toEqual([
      [0, 19],
      [20, 39],
      [40, 59],
      [60, 79],
      [80, 99],
    ]);
    expect(classes.map((entry) => entry.color)).toEqual(palette);
    // 94 zeros and a few counts: the zeros are one class, the others never share it.
    const skewed = quantileClasses([...Array<number>(94).fill(0), 1, 2, 5, 9, 14, 30]);
    expect(classOf(skewed, 0).max).toBe(0);
    expect(classOf(skewed, 1)).not.toBe(classOf(skewed, 0));
    expect(classOf(skewed, 30)).toBe(skewed[skewed.length - 1]);
    for (const value of [0, 1, 2, 5, 9, 14, 30]) {
      const entry = classOf(skewed, value);
      expect(value).toBeGreaterThanOrEqual(entry.min);
      expect(value).toBeLessThanOrEqual(entry.max);
    }
  });

  it('gives a handful of distinct values a class each, and the darkest colour to the largest', () => {
    const classes = quantileClasses([0, 0, 2, 2, 2, 7]);
    expect(classes.map((entry) => [entry.min, entry.max])).toEqual([
      [0, 0],
      [2, 2],
      [7, 7],
    ]);
    expect(classes[2]!.color).toBe(palette[4]);
    expect(legend(classes, 'fr-FR').text).toMatch(/0<\/li>.*2<\/li>.*7<\/li>/s);
    expect(quantileClasses([])).toEqual([]);
  });
});

describe('charts and maps as SVG', () => {
  it('draws one labelled bar per row, scaled to the largest', () => {
    const svg = barChartSvg(
      [
        { label: 'Bas-Rhin', value: 120 },
        { label: 'Loiret <45>', value: 60 },
      ],
      { title: 'Points', locale: 'fr-FR' },
    ).text;
    expect(svg.match(/<g class="bar">/g)).toHaveLength(2);
    expect(svg).toContain('<title>Loiret &lt;45&gt;: 60</title>');
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((match) => Number(match[1]));
    expect(widths[0]).toBeCloseTo(widths[1]! * 2, 0);
  });

  it('frames the features with a readable minimum extent, and paints areas by class', () => {
    const point = mapSvg(
      [{ kind: 'point', x: 1000, y: -6_000_000, label: 'A' }],
      { minX: 1000, minY: -6_000_000, maxX: 1000, maxY: -6_000_000 },
      {
        title: 'Carte',
        description: 'un point',
      },
    ).text;
    const [, , width, height] = /viewBox="([-\d]+) ([-\d]+) (\d+) (\d+)"/.exec(point)!.slice(1).map(Number);
    expect(width).toBeGreaterThanOrEqual(2000);
    expect(height).toBeGreaterThanOrEqual(2000);
    expect(point).toMatch(/<circle\s+class="feature point"\s+cx="1000"\s+cy="-6000000"/);
    const classes = quantileClasses([1, 10]);
    const areas = mapSvg(
      [
        { kind: 'shape', path: 'M 0 0 L 10 0 L 10 10 Z', label: 'a', value: 1 },
        { kind: 'shape', path: 'M 10 0 L 20 0 L 20 10 Z', label: 'b', value: 10 },
      ],
      { minX: 0, minY: 0, maxX: 20, maxY: 10 },
      { title: 'Choroplèthe', description: 'valeurs', classes },
    ).text;
    expect(areas).toContain(`style="fill:${classes[0]!.color}"`);
    expect(areas).toContain(`style="fill:${classes[1]!.color}"`);
    expect(areas).toMatch(/role="img"\s+aria-label="Choroplèthe"/);
  });
});

describe('model charts', () => {
  const modelWith = (charts: string): Model => {
    const parsed = parseModel(
      'par_dep',
      'models/par_dep.sql',
      `-- columns:\n--   code: Code\n--   n: Nombre\n-- charts:\n${charts}\nSELECT 1`,
    );
    if (!parsed.model) throw new Error(JSON.stringify(parsed.issues));
    return parsed.model;
  };

  it('are checked against the documented columns and the project relations', () => {
    const model = modelWith(
      [
        '--   - { type: bar, title: Par code, label: code, value: total }',
        '--   - { type: choropleth, title: Carte, value: n, key: code, areas: { from: "source(\'communes\')", key: code } }',
      ].join('\n'),
    );
    const issues: ProjectIssue[] = [];
    checkModels([model], [], 'datasets', issues, (file) => file);
    expect(issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'header.charts[0]: column "total" is not among the model\'s documented columns',
      "header.charts[1]: areas: source('communes') is not a relation of the project",
    ]);
  });

  it('refuse a choropleth joined on one side only', () => {
    const parsed = parseModel(
      'par_dep',
      'models/par_dep.sql',
      '-- charts:\n--   - { type: choropleth, title: Carte, value: n, areas: { from: "source(\'d\')", key: code } }\nSELECT 1',
    );
    expect(parsed.issues).toEqual([
      {
        path: 'header.charts.0',
        message: 'a choropleth on the areas of another relation names both key (this model) and areas.key',
      },
    ]);
  });
});

describe('the lineage graph', () => {
  const lineageOf = async () => {
    const { projectLineage, neighbourhood, lineageSvg } =
      await import('../../layers/core/src/stages/publish/portal/lineage');
    const { testProject } = await import('../helpers/projects');
    const model = (name: string, sql: string): Model => parseModel(name, `models/${name}.sql`, sql).model!;
    const project = testProject(
      [
        { id: 'stations', schema: { fields: [{ name: 'id' }] } },
        { id: 'communes', schema: { fields: [{ name: 'code' }] } },
        { id: 'weather', schema: { fields: [{ name: 'day' }] } },
      ],
      [
        model('points', "SELECT * FROM {{ source('stations') }} JOIN {{ source('communes') }} USING (code)"),
        model('per_city', "-- materialized: view\nSELECT count(*) FROM {{ ref('points') }}"),
      ],
    );
    return { graph: projectLineage(project), neighbourhood, lineageSvg };
  };

  it('goes from sources to models to exports', async () => {
    const { graph } = await lineageOf();
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        ['stations', 'points'],
        ['communes', 'points'],
        ['points', 'per_city'],
        ['per_city', 'per_city#exports'],
      ]),
    );
  });

  it('keeps around a node what it is made from and what is made of it, and draws links to their pages', async () => {
    const { graph, neighbourhood, lineageSvg } = await lineageOf();
    const around = neighbourhood(graph, 'points');
    expect(around.nodes.map((node) => node.id).sort()).toEqual(
      ['communes', 'per_city', 'per_city#exports', 'points', 'points#exports', 'stations'].sort(),
    );
    const svg = String(lineageSvg(around, { title: 'Lineage of points', focus: 'points' }));
    expect(svg).toContain('<a href="points.html" class="node model focus">');
    expect(svg).not.toContain('weather');
    expect(svg.match(/<path class="edge"/g)).toHaveLength(around.edges.length);
  });
});
