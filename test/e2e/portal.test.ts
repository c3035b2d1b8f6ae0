/**
 * The data portal in a real browser (Debian's Chromium driven by playwright-core), as the
 * deployed stack publishes it after a drop: pages load without console errors, the search
 * filters, maps render their features, charts show, download links give the published files.
 * Screenshots go to .local/artifacts/portal/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from '../../localcloud/chromium';
import {
  ensureDepartements,
  eventually,
  localS3,
  readStackOutputs,
  readText,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { irveExample } from '../helpers/projects';

const outputs = readStackOutputs();
const s3 = localS3();
const pool = testPool();
const artifacts = path.resolve(import.meta.dirname, '../../.local/artifacts/portal');
const portal = `http://127.0.0.1:4566/${outputs.PublicBucket}/portal/`;
const marker = uniqueName('portal');
let browser: Browser;
let runId: string;

async function drop(dataset: string, body: string) {
  const key = `${dataset}/${uniqueName('portal')}.csv`;
  await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
  return recordedFile(pool, key, 90_000);
}

/** Opens a page, failing on any console error or failed request of the portal. */
async function open(
  url: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  await ensureDepartements(pool);
  const file = await drop('irve-statique', irveExample.replace(/Picpus/g, `Picpus ${marker}`));
  expect(file.status).toBe('loaded');
  runId = file.run_id;
  const publish = await eventually(
    async () =>
      (
        await pool.query(
          "SELECT status, error FROM ops.run_steps WHERE run_id = $1 AND step = 'publish' AND status <> 'running'",
          [runId],
        )
      ).rows[0] as { status: string; error: string | null } | undefined,
    120_000,
    'the publish step of the drop',
  );
  expect(publish).toEqual({ status: 'succeeded', error: null });
});
afterAll(async () => {
  await browser?.close();
  await pool.end();
});

describe('the data portal, in headless Chromium', () => {
  it('lists every dataset and model with badges, and filters as one types', async () => {
    // 5 datasets and 5 models (3 SQL, 1 Python, 1 R).
    const { page, problems } = await open(`${portal}index.html`);
    const cards = page.locator('ul.cards > li');
    expect(await cards.count()).toBe(10);
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.locator('h1').count()).toBe(1);
    const statique = cards.filter({ has: page.locator('a[href="datasets/irve-statique.html"]') });
    expect(await statique.locator('.badge').allTextContents()).toEqual(
      expect.arrayContaining(['à jour', 'tests : 2/2 réussis']),
    );
    await page.screenshot({ path: path.join(artifacts, 'home.png'), fullPage: true });

    // Search, accents folded: "departement" finds "Départements" and what is computed per
    // département, not the raw charging points.
    await page.getByLabel('Rechercher un jeu de données').fill('departement');
    const visible = () =>
      page
        .locator('ul.cards > li:visible h3 a')
        .evaluateAll((links) => links.map((link) => link.getAttribute('href')));
    await expect
      .poll(visible)
      .toEqual(expect.arrayContaining(['datasets/departements.html', 'datasets/irve_par_departement.html']));
    expect(await visible()).not.toContain('datasets/irve-dynamique.html');
    expect(await page.locator('#search-count').textContent()).toBe(`${(await visible()).length} affiché(s)`);
    // Keyboard: the search field is reachable with Tab after the skip link and the title.
    await page.getByLabel('Rechercher un jeu de données').fill('');
    expect(await page.locator('ul.cards > li:visible').count()).toBe(10);
    expect(problems).toEqual([]);
  });

  it('shows a dataset with its map, schema, first rows, tests and last runs; links download the files', async () => {
    const { page, problems } = await open(`${portal}datasets/irve-statique.html`);
    expect(await page.locator('h1').textContent()).toMatch(/IRVE/);
    // The map: one circle per charging point of the example, no basemap, no network.
    expect(await page.locator('figure.map svg circle.feature').count()).toBeGreaterThan(0);
    expect(await page.locator('figure.map svg').getAttribute('aria-label')).toBeTruthy();
    const before = await page.locator('figure.map svg').getAttribute('viewBox');
    await page.getByRole('button', { name: 'Zoomer', exact: true }).click();
    expect(await page.locator('figure.map svg').getAttribute('viewBox')).not.toBe(before);
    // Schema, preview and the run that published this very page.
    const schema = JSON.parse(
      readFileSync(
        path.resolve(import.meta.dirname, '../../examples/territoires/schemas/irve-statique.json'),
        'utf8',
      ),
    ) as { fields: { name: string }[] };
    expect(await page.locator('#schema + .table-wrap tbody th code').allTextContents()).toEqual(
      schema.fields.map((field) => field.name),
    );
    expect(await page.locator('#preview + .table-wrap').textContent()).toContain(`Picpus ${marker}`);
    expect(await page.locator('#runs + .table-wrap').textContent()).toContain(runId);
    await page.screenshot({ path: path.join(artifacts, 'irve-statique.png'), fullPage: true });

    // The CSV link downloads the published latest/ file, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('ul.downloads a', { hasText: 'irve-statique.csv' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('irve-statique.csv');
    const downloaded = readFileSync((await download.path())!, 'utf8');
    expect(downloaded).toBe(
      await readText(s3, outputs.PublicBucket, 'exports/irve-statique/latest/irve-statique.csv'),
    );
    expect(downloaded).toContain(`Picpus ${marker}`);
    expect(problems).toEqual([]);
  });

  it('charts an indicator as bars and as a choropleth of the départements', async () => {
    const { page, problems } = await open(`${portal}datasets/irve_par_departement.html`);
    expect(await page.locator('svg.bar-chart g.bar').count()).toBe(96);
    // The choropleth: 96 départements, painted by class, with a legend.
    const areas = page.locator('figure.map svg path.feature');
    expect(await areas.count()).toBe(96);
    expect(await areas.first().getAttribute('style')).toMatch(/^fill:#/);
    expect(await page.locator('ul.legend li').count()).toBeGreaterThan(1);
    // Every chart has its data as a table too.
    expect(await page.locator('figure.chart details table tr').count()).toBeGreaterThanOrEqual(96);
    // Its history (an indicator): one time-series chart per value followed, six series at most,
    // each with a point per published pass.
    const history = page.locator('svg.line-chart');
    expect(await history.count()).toBe(2);
    const lines = await history.first().locator('g.series').count();
    expect(lines).toBeGreaterThanOrEqual(1);
    expect(lines).toBeLessThanOrEqual(6);
    expect(await history.first().locator('g.series circle').count()).toBeGreaterThanOrEqual(lines);
    await history.first().screenshot({ path: path.join(artifacts, 'history.png') });
    await page.screenshot({ path: path.join(artifacts, 'irve_par_departement.png'), fullPage: true });
    await page
      .locator('figure.map')
      .first()
      .screenshot({ path: path.join(artifacts, 'choropleth.png') });
    expect(problems).toEqual([]);
  });

  it('draws the polygons of a spatial dataset, and fits a phone screen', async () => {
    const { page, problems } = await open(`${portal}datasets/departements.html`, { width: 390, height: 844 });
    expect(await page.locator('figure.map svg path.feature').count()).toBe(96);
    // (Evaluated in the page: the test itself has no DOM types.)
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(artifacts, 'departements-phone.png'), fullPage: false });
    expect(problems).toEqual([]);
  });

  it('catalogues the sources (origin, owner, last runs) and draws the lineage from sources to exports', async () => {
    const { page, problems } = await open(`${portal}catalogue.html`);
    const rows = page.locator('table tbody tr');
    // The 5 datasets, each with where it comes from.
    expect(await rows.count()).toBe(5);
    const statique = rows.filter({ has: page.locator('a[href="datasets/irve-statique.html"]') });
    expect(await statique.locator('td').first().textContent()).toContain('drop (landing/irve-statique/)');
    expect(await statique.locator('td').nth(1).textContent()).toContain('data@example.org');
    expect(await statique.locator('td').nth(3).textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    // The project's lineage: every dataset and model a link to its page, sources to exports.
    const graph = page.locator('svg.lineage');
    expect(await graph.locator('a.node.dataset').count()).toBe(5);
    expect(await graph.locator('a.node.model').count()).toBe(5);
    expect(await graph.locator('g.node.exports').count()).toBe(10);
    expect(await graph.locator('path.edge').count()).toBeGreaterThanOrEqual(15);
    await graph.screenshot({ path: path.join(artifacts, 'lineage.png') });
    expect(problems).toEqual([]);

    // A model's page: what it is built from and what is built from it, itself highlighted.
    const model = await open(`${portal}datasets/irve_points.html`);
    const around = model.page.locator('svg.lineage');
    expect(await around.locator('.node.focus').count()).toBe(1);
    const labels = await around.locator('a.node title').allTextContents();
    expect(labels).toEqual(
      expect.arrayContaining([
        'irve-statique',
        'departements',
        'irve_points',
        'irve_par_departement',
        'irve_tendance_recente',
      ]),
    );
    expect(labels).not.toContain('regions');
    expect(model.problems).toEqual([]);
  });

  it('passes axe-core (WCAG 2.1 A and AA) on every page type, wide and on a phone', async () => {
    const pages = {
      'the list': 'index.html',
      'a dataset with points': 'datasets/irve-statique.html',
      'an indicator with charts': 'datasets/irve_par_departement.html',
      'a dataset of polygons': 'datasets/departements.html',
      'a model with points': 'datasets/irve_points.html',
      'a Python model': 'datasets/irve_mises_en_service.html',
      'the catalogue of sources': 'catalogue.html',
    };
    const found: string[] = [];
    for (const [what, page] of Object.entries(pages)) {
      for (const viewport of [
        { width: 1280, height: 900 },
        { width: 390, height: 844 },
      ]) {
        const opened = await open(`${portal}${page}`, viewport);
        found.push(
          ...(await axeViolations(opened.page)).map(
            (violation) => `${what} (${viewport.width} px): ${violation}`,
          ),
        );
        await opened.page.close();
      }
    }
    expect(found).toEqual([]);
  });
});

/** The WCAG 2.1 A and AA violations axe-core (the reference engine, run in the page) finds, one line each. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  const result = await page.evaluate<{
    violations: { id: string; help: string; nodes: { target: string[] }[] }[];
  }>(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`);
  return result.violations.map(
    (violation) =>
      `${violation.id}: ${violation.help} (${violation.nodes.length}×, e.g. ${violation.nodes[0]?.target.join(' ')})`,
  );
}
