import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { datasetHealth, type DatasetHealth } from '../../../platform/runs';
import type { Project } from '../../../platform/project';
import { putText } from '../../../platform/storage/buckets';
import { connect, qualified } from '../../../platform/warehouse';
import { sizeOf, type Facts } from '../catalog';
import { describeField, exportColumns, tableSchemaType } from '../columns';
import { projectOutputs, type Output } from '../outputs';
import { portalCss, portalJs } from './assets';
import { html, type Html } from './html';
import { lineageSvg, neighbourhood, projectLineage } from './lineage';
import {
  cataloguePage,
  chartFigure,
  datasetPage,
  homePage,
  labelsFor,
  mapFigure,
  type PortalEntry,
  type Site,
} from './pages';
import {
  barChartRows,
  choroplethOf,
  indicatorHistory,
  lastRuns,
  latestTestResults,
  mapFeatureLimit,
  mapOf,
  previewOf,
  sourceRuns,
} from './queries';
import { barChartSvg, legend, lineChartSvg, mapSvg, quantileClasses } from './svg';

/** Series drawn on an indicator's history chart (the largest last values). */
const HISTORY_SERIES = 6;

/**
 * Generates the data portal into `portal/` of the public bucket: a home page listing every
 * dataset and model with search and freshness/quality badges, and a page per output with its
 * description, downloads, map, charts, schema, first rows, tests and last runs. Static files:
 * S3 serves them, and they keep working when the database is down.
 */
export async function publishPortal(
  context: { pool: pg.Pool; s3: S3Client; bucket: string; project: Project },
  facts: Map<string, Facts>,
): Promise<{ pages: string[] }> {
  const { project } = context;
  const site: Site = {
    title: project.config.title,
    description: project.config.description ?? project.config.title,
    publisher: project.config.publisher.name,
    language: project.config.language,
    generatedAt: new Date(),
  };
  const health = new Map((await datasetHealth(context.pool, project)).map((item) => [item.dataset, item]));
  const tests = await latestTestResults(context.pool);
  const entries: PortalEntry[] = [];
  const graph = projectLineage(project);
  const runsBySource = await sourceRuns(context.pool);
  const { text } = labelsFor(site.language);
  for (const output of projectOutputs(project)) {
    const entry = await entryOf(context, site, output, facts, health, tests);
    entry.lineage = lineageSvg(neighbourhood(graph, output.name), {
      title: text.lineageGraph.replace('{name}', output.title),
      focus: output.name,
    });
    const dataset = project.datasets.find((candidate) => candidate.id === output.name);
    if (dataset) {
      const runs = runsBySource.get(dataset.id);
      const owner = dataset.config.owner ?? project.config.contact;
      entry.provenance = {
        origin: dataset.config.sources.map(describeSource),
        owner: owner.email ? `${owner.name} <${owner.email}>` : owner.name,
        lastSuccess: runs?.lastSuccess ?? undefined,
        lastFailure: runs?.lastFailure ?? undefined,
      };
    }
    entries.push(entry);
  }
  const put = (key: string, body: string | Html, type: string) =>
    putText(context.s3, { bucket: context.bucket, key }, String(body), type);
  const pages: string[] = [];
  await put('portal/assets/portal.css', portalCss, 'text/css; charset=utf-8');
  await put('portal/assets/portal.js', portalJs, 'text/javascript; charset=utf-8');
  for (const entry of entries) {
    const key = `portal/datasets/${entry.output.name}.html`;
    await put(key, datasetPage(site, entry), 'text/html; charset=utf-8');
    pages.push(key);
  }
  // The catalogue of sources, with the whole project's lineage (dataset pages are relative to datasets/).
  const projectGraph = {
    ...graph,
    nodes: graph.nodes.map((node) => ({ ...node, href: node.href && `datasets/${node.href}` })),
  };
  await put(
    'portal/catalogue.html',
    cataloguePage(site, entries, lineageSvg(projectGraph, { title: text.projectLineage })),
    'text/html; charset=utf-8',
  );
  pages.push('portal/catalogue.html');
  // The home page last: it links to pages that exist.
  await put('portal/index.html', homePage(site, entries), 'text/html; charset=utf-8');
  pages.push('portal/index.html');
  return { pages };
}

async function entryOf(
  context: { pool: pg.Pool; project: Project },
  site: Site,
  output: Output,
  facts: Map<string, Facts>,
  health: Map<string, DatasetHealth>,
  tests: Awaited<ReturnType<typeof latestTestResults>>,
): Promise<PortalEntry> {
  const { project } = context;
  const fact = facts.get(output.name) ?? {};
  const dataset = project.datasets.find((candidate) => candidate.id === output.name);
  const model = project.models.find((candidate) => candidate.name === output.name);
  const sources = model ? [...model.sources, ...model.refs] : [];
  const { locale } = labelsFor(site.language);
  const client = await connect(context.pool);
  try {
    const columns = await exportColumns(client, output.relation, output.tableSchema, output.columnDocs);
    const relation = qualified(output.relation.schema, output.relation.name);
    const exists = columns.length > 0;
    const geometry = columns.find((column) => column.kind === 'geometry');
    let map: Html | undefined;
    if (exists && geometry) {
      const label =
        dataset?.tableSchema.primaryKey?.[0] ??
        columns.find((column) => column.kind === 'string')?.name ??
        columns[0]!.name;
      const drawn = await mapOf(client, relation, geometry.name, label, fact.rows ?? 0, fact.bbox);
      if (drawn) {
        const caption = `${output.title}: ${drawn.features.length.toLocaleString(locale)} / ${(fact.rows ?? 0).toLocaleString(locale)}.`;
        const sample = drawn.sampled
          ? html` ${labelsFor(site.language)
              .text.sample.replace('{n}', mapFeatureLimit.toLocaleString(locale))
              .replace('{t}', (fact.rows ?? 0).toLocaleString(locale))}`
          : undefined;
        map = mapFigure(
          mapSvg(drawn.features, drawn.extent, { title: output.title, description: caption }),
          caption,
          site.language,
          sample,
        );
      }
    }
    const charts: Html[] = [];
    for (const chart of exists ? (model?.header.charts ?? []) : []) {
      if (chart.type === 'bar') {
        const rows = await barChartRows(client, relation, chart);
        charts.push(
          chartFigure(barChartSvg(rows, { title: chart.title, locale }), chart.title, rows, site.language),
        );
      } else {
        const drawn = await choroplethOf(client, output, chart, (name) => facts.get(name)?.bbox);
        if (!drawn) continue;
        const classes = quantileClasses(drawn.features.map((feature) => feature.value ?? NaN));
        const svg = mapSvg(drawn.features, drawn.extent, {
          title: chart.title,
          description: chart.value,
          classes,
        });
        const rows = drawn.features.map((feature) => ({ label: feature.label, value: feature.value ?? 0 }));
        charts.push(
          html`${mapFigure(svg, chart.title, site.language, legend(classes, locale))}${chartFigure(html``, `${chart.title} (${chart.value})`, rows, site.language)}`,
        );
      }
    }
    // An indicator's history: one line chart per value followed.
    for (const measure of model?.header.indicator?.values ?? []) {
      const { series, total } = await indicatorHistory(client, output.name, measure, HISTORY_SERIES);
      if (series.length === 0) continue;
      const { text } = labelsFor(site.language);
      const title = `${output.title} — ${text.history.replace('{measure}', columnTitle(model!, measure))}`;
      const caption =
        total > series.length
          ? `${title} (${text.historyTop.replace('{n}', String(series.length)).replace('{t}', String(total))})`
          : title;
      const rows = series.flatMap((line) =>
        line.points.map((point) => ({
          label: `${line.label} — ${point.at.toLocaleDateString(locale, { dateStyle: 'medium' })}`,
          value: point.value,
        })),
      );
      charts.push(chartFigure(lineChartSvg(series, { title, locale }), caption, rows, site.language));
    }
    return {
      output,
      keywords: dataset?.config.keywords ?? [],
      rows: fact.rows,
      modified: fact.modified,
      temporal: fact.temporal,
      frequency: dataset?.config.accrualPeriodicity,
      coverage: dataset?.config.spatial?.coverage,
      sources,
      freshness: freshnessOf(output, health),
      tests: (tests.get(output.name) ?? []).map((test) => ({ ...test })),
      downloads: (fact.datapackage?.resources ?? []).map((resource) => ({
        path: resource.path,
        format: resource.format,
        ...sizeOf(resource),
      })),
      schema: dataset
        ? dataset.tableSchema.fields.map(describeField)
        : columns.map((column) => ({
            name: column.name,
            type: tableSchemaType(column),
            required: false,
            description: column.description ?? '',
            constraints: '',
          })),
      preview: exists ? await previewOf(client, relation, columns) : undefined,
      map,
      charts,
      runs: await lastRuns(context.pool, output, model?.sources ?? []),
    };
  } finally {
    client.release();
  }
}

function freshnessOf(output: Output, health: Map<string, DatasetHealth>): PortalEntry['freshness'] {
  const item = health.get(output.name);
  if (output.kind === 'model' || !item) return { state: 'model' };
  if (!item.lastLoad) return { state: 'never' };
  return {
    state: item.stale ? 'stale' : 'fresh',
    lastLoad: item.lastLoad.toISOString(),
    limitHours: item.limitHours,
  };
}

/** A column as its documentation names it (the first clause), else its name. */
function columnTitle(model: { header: { columns: Record<string, string> } }, column: string): string {
  return model.header.columns[column]?.split(/[.(]/)[0]?.trim() || column;
}

/** Where a source's data comes from, in a line: its kind, its address, its schedule. */
function describeSource(source: Project['datasets'][number]['config']['sources'][number]): string {
  switch (source.type) {
    case 's3':
      return `drop (landing/${source.prefix})`;
    case 'push':
      return `push (${source.auth})`;
    case 'udata':
      return `udata ${source.dataset} (${source.api}), ${source.schedule}`;
    default:
      return `${source.type} ${source.url}, ${source.schedule}`;
  }
}
