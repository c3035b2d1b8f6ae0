import type { Output } from '../outputs';
import { html, type Html } from './html';
import type { RunSummary } from './queries';

const english = {
  datasets: 'Datasets and indicators',
  search: 'Search the datasets',
  found: '{n} shown',
  dataset: 'dataset',
  model: 'indicator (model)',
  fresh: 'up to date',
  stale: 'stale',
  never: 'never loaded',
  built: 'rebuilt at each load of its sources',
  testsPass: 'tests: {p}/{n} pass',
  testsFail: 'tests: {f} failing',
  noTests: 'no data tests',
  rows: 'rows',
  updated: 'updated',
  skip: 'Skip to content',
  home: 'All datasets',
  downloads: 'Downloads',
  schema: 'Schema',
  preview: 'Preview: first rows',
  map: 'Map',
  charts: 'Charts',
  runs: 'Last runs',
  tests: 'Data tests',
  field: 'field',
  type: 'type',
  required: 'required',
  description: 'description',
  constraints: 'constraints',
  noRuns: 'No run yet.',
  noData: 'Not published yet.',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  reset: 'Whole extent',
  sample: 'A random sample of {n} of {t} features.',
  mapHelp: 'Drag or use the arrow keys to pan, the wheel or + and − to zoom.',
  dataTable: 'The data of this chart',
  history: 'over time: {measure}',
  historyTop: 'the {n} series with the largest last value, of {t}.',
  licence: 'licence',
  frequency: 'update frequency',
  coverage: 'spatial coverage',
  period: 'period covered',
  modified: 'last modified',
  sources: 'built from',
  origin: 'origin',
  owner: 'owner',
  lastSuccess: 'last success',
  lastFailure: 'last failure',
  lineage: 'Lineage',
  lineageGraph: 'Where {name} comes from and what is made of it',
  catalogue: 'Catalogue of sources',
  catalogueIntro:
    'Every source the team collects or receives: where it comes from, when, who answers for it, and how it last went. The graph shows what each model is built from and what is published.',
  projectLineage: 'Lineage of the project: sources, models, exports',
  noRunYet: '—',
  catalog: 'DCAT catalog',
  published: 'Published',
  started: 'started',
  trigger: 'trigger',
  status: 'status',
  steps: 'steps',
  run: 'run (datacycle run <id>)',
  yes: 'yes',
};

export type Labels = Record<keyof typeof english, string>;

const labels: Record<'en' | 'fr', Labels> = {
  en: english,
  fr: {
    datasets: 'Jeux de données et indicateurs',
    search: 'Rechercher un jeu de données',
    found: '{n} affiché(s)',
    dataset: 'jeu de données',
    model: 'indicateur (modèle)',
    fresh: 'à jour',
    stale: 'en retard',
    never: 'jamais chargé',
    built: 'recalculé à chaque chargement de ses sources',
    testsPass: 'tests : {p}/{n} réussis',
    testsFail: 'tests : {f} en échec',
    noTests: 'aucun test',
    rows: 'lignes',
    updated: 'mis à jour',
    skip: 'Aller au contenu',
    home: 'Tous les jeux de données',
    downloads: 'Téléchargements',
    schema: 'Schéma',
    preview: 'Aperçu : premières lignes',
    map: 'Carte',
    charts: 'Graphiques',
    runs: 'Dernières exécutions',
    tests: 'Tests de données',
    field: 'champ',
    type: 'type',
    required: 'obligatoire',
    description: 'description',
    constraints: 'contraintes',
    noRuns: 'Aucune exécution.',
    noData: 'Pas encore publié.',
    zoomIn: 'Zoomer',
    zoomOut: 'Dézoomer',
    reset: 'Vue d’ensemble',
    sample: 'Un échantillon aléatoire de {n} objets sur {t}.',
    mapHelp: 'Glisser ou flèches du clavier pour se déplacer, molette ou + et − pour zoomer.',
    dataTable: 'Les données de ce graphique',
    history: 'au fil du temps : {measure}',
    historyTop: 'les {n} séries à la plus forte dernière valeur, sur {t}.',
    licence: 'licence',
    frequency: 'fréquence de mise à jour',
    coverage: 'couverture spatiale',
    period: 'période couverte',
    modified: 'dernière modification',
    sources: 'construit à partir de',
    origin: 'origine',
    owner: 'responsable',
    lastSuccess: 'dernier succès',
    lastFailure: 'dernier échec',
    lineage: 'Lignage',
    lineageGraph: 'D’où vient {name} et ce qui en est fait',
    catalogue: 'Catalogue des sources',
    catalogueIntro:
      'Toutes les sources que l’équipe collecte ou reçoit : d’où elles viennent, quand, qui en répond, et comment s’est passée la dernière fois. Le graphe montre de quoi chaque modèle est construit et ce qui est publié.',
    projectLineage: 'Lignage du projet : sources, modèles, exports',
    noRunYet: '—',
    catalog: 'Catalogue DCAT',
    published: 'Publié le',
    started: 'début',
    trigger: 'déclencheur',
    status: 'statut',
    steps: 'étapes',
    run: 'exécution (datacycle run <id>)',
    yes: 'oui',
  },
};

export function labelsFor(language: string): { text: Labels; locale: string } {
  return language === 'fr' ? { text: labels.fr, locale: 'fr-FR' } : { text: labels.en, locale: 'en-GB' };
}

/** What a page says of a dataset or model, gathered at publication. */
export interface PortalEntry {
  output: Output;
  keywords: string[];
  rows?: number;
  modified?: string;
  temporal?: { start: string; end: string };
  frequency?: string;
  coverage?: string;
  sources: string[];
  freshness: { state: 'fresh' | 'stale' | 'never' | 'model'; lastLoad?: string; limitHours?: number };
  tests: { test: string; status: string; severity: string; message: string }[];
  downloads: { path: string; format: string; bytes: number; hash: string }[];
  schema: { name: string; type: string; required: boolean; description: string; constraints: string }[];
  preview?: { columns: string[]; rows: (string | null)[][] };
  map?: Html;
  charts: Html[];
  runs: RunSummary[];
  /** A dataset's provenance: where it comes from, who answers for it, how its runs went. */
  provenance?: { origin: string[]; owner?: string; lastSuccess?: Date; lastFailure?: Date };
  /** The lineage graph around it (SVG). */
  lineage?: Html;
}

export interface Site {
  title: string;
  description: string;
  publisher: string;
  language: string;
  generatedAt: Date;
}

function layout(site: Site, title: string, root: string, body: Html): Html {
  const { text } = labelsFor(site.language);
  return html`<!doctype html>
    <html lang="${site.language}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <meta name="description" content="${site.description}" />
        <link rel="stylesheet" href="${root}assets/portal.css" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <a class="skip" href="#content">${text.skip}</a>
        <header class="site">
          <a href="${root}index.html"><strong>${site.title}</strong></a>
          <p>${site.publisher}</p>
        </header>
        <main id="content">${body}</main>
        <footer class="site">
          <p>
            ${text.published} ${site.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC ·
            <a href="${root}../catalog/catalog.jsonld">${text.catalog} (JSON-LD)</a> ·
            <a href="${root}../catalog/catalog.ttl">Turtle</a>
          </p>
        </footer>
        <script src="${root}assets/portal.js" defer></script>
      </body>
    </html> `;
}

function freshnessBadge(entry: PortalEntry, text: Labels): Html {
  const { state, lastLoad, limitHours } = entry.freshness;
  if (state === 'model') return html`<span class="badge info">${text.built}</span>`;
  if (state === 'never') return html`<span class="badge warn">${text.never}</span>`;
  // Recomputed by the script when the page is read: the badge below is the state at publication.
  return html`<span
    class="badge ${state === 'stale' ? 'warn' : 'ok'}"
    data-last-load="${lastLoad}"
    data-limit-hours="${limitHours ?? ''}"
    data-fresh="${text.fresh}"
    data-stale="${text.stale}"
    >${state === 'stale' ? text.stale : text.fresh}</span
  >`;
}

function qualityBadge(entry: PortalEntry, text: Labels): Html {
  if (entry.tests.length === 0) return html`<span class="badge info">${text.noTests}</span>`;
  const failing = entry.tests.filter((test) => test.status !== 'pass');
  const errors = failing.filter((test) => test.severity === 'error');
  if (failing.length > 0)
    return html`<span class="badge ${errors.length > 0 ? 'bad' : 'warn'}"
      >${text.testsFail.replace('{f}', String(failing.length))}</span
    >`;
  return html`<span class="badge ok"
    >${text.testsPass.replace('{p}', String(entry.tests.length)).replace('{n}', String(entry.tests.length))}</span
  >`;
}

const fold = (value: string) =>
  value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();

export function homePage(site: Site, entries: PortalEntry[]): Html {
  const { text, locale } = labelsFor(site.language);
  const cards = entries.map((entry) => {
    const searchable = fold(
      [entry.output.name, entry.output.title, entry.output.description ?? '', ...entry.keywords].join(' '),
    );
    return html`<li data-search="${searchable}">
      <h3><a href="datasets/${entry.output.name}.html">${entry.output.title}</a></h3>
      <p>
        ${entry.output.kind === 'dataset' ? text.dataset : text.model} · <code>${entry.output.name}</code>
      </p>
      <ul class="badges">
        <li>${freshnessBadge(entry, text)}</li>
        <li>${qualityBadge(entry, text)}</li>
        ${
          entry.rows !== undefined
            ? html`<li><span class="badge info">${entry.rows.toLocaleString(locale)} ${text.rows}</span></li>`
            : ''
        }
      </ul>
      <p>${summary(entry.output.description ?? '')}</p>
      ${entry.modified ? html`<p>${text.updated} <time datetime="${entry.modified}">${entry.modified.slice(0, 10)}</time></p>` : ''}
    </li>`;
  });
  return layout(
    site,
    site.title,
    '',
    html`<h1>${site.title}</h1>
      <p>${site.description}</p>
      <p><a href="catalogue.html">${text.catalogue}</a></p>
      <h2>${text.datasets}</h2>
      <div class="search" role="search">
        <label for="search">${text.search}</label><br /><input id="search" type="search" autocomplete="off" />
        <p id="search-count" aria-live="polite" data-template="${text.found}"></p>
      </div>
      <ul class="cards">
        ${cards}
      </ul>`,
  );
}

function summary(description: string): string {
  const flat = description.replace(/\s+/g, ' ').trim();
  return flat.length > 220 ? `${flat.slice(0, 219)}…` : flat;
}

const kilobytes = (bytes: number, locale: string) =>
  bytes < 1024 * 1024
    ? `${(bytes / 1024).toLocaleString(locale, { maximumFractionDigits: 1 })} KB`
    : `${(bytes / 1024 / 1024).toLocaleString(locale, { maximumFractionDigits: 1 })} MB`;

export function datasetPage(site: Site, entry: PortalEntry): Html {
  const { text, locale } = labelsFor(site.language);
  const latest = `../../exports/${entry.output.name}/latest/`;
  const facts: [string, Html | string | undefined][] = [
    [text.licence, entry.output.licence],
    [text.frequency, entry.frequency],
    [text.coverage, entry.coverage],
    [text.rows, entry.rows?.toLocaleString(locale)],
    [text.period, entry.temporal ? `${entry.temporal.start} → ${entry.temporal.end}` : undefined],
    [text.modified, entry.modified],
    [text.origin, entry.provenance ? entry.provenance.origin.join(' · ') : undefined],
    [text.owner, entry.provenance?.owner],
    [text.lastSuccess, entry.provenance?.lastSuccess?.toISOString().slice(0, 16).replace('T', ' ')],
    [text.lastFailure, entry.provenance?.lastFailure?.toISOString().slice(0, 16).replace('T', ' ')],
    [
      text.sources,
      entry.sources.length > 0
        ? html`${entry.sources.map((source, index) => html`${index > 0 ? ', ' : ''}<a href="${source}.html">${source}</a>`)}`
        : undefined,
    ],
  ];
  const body = html`<p><a href="../index.html">← ${text.home}</a></p>
    <h1>${entry.output.title}</h1>
    <ul class="badges">
      <li>${freshnessBadge(entry, text)}</li>
      <li>${qualityBadge(entry, text)}</li>
    </ul>
    ${(entry.output.description ?? '').split(/\n\s*\n/).map((paragraph) => html`<p>${paragraph}</p>`)}
    <dl class="facts">
      ${facts
        .filter(([, value]) => value)
        .map(
          ([key, value]) =>
            html`<dt>${key}</dt>
              <dd>${value}</dd>`,
        )}
    </dl>

    <h2 id="downloads">${text.downloads}</h2>
    ${
      entry.downloads.length > 0
        ? html`<ul class="downloads">
            ${entry.downloads.map(
              (file) =>
                html`<li>
                  <a href="${latest}${file.path}" download>${file.path}</a> — ${file.format.toUpperCase()},
                  ${kilobytes(file.bytes, locale)} <small><code>${file.hash}</code></small>
                </li>`,
            )}
            <li><a href="${latest}datapackage.json">datapackage.json</a> — Frictionless Data Package</li>
          </ul>`
        : html`<p>${text.noData}</p>`
    }
    ${
      entry.map
        ? html`<h2 id="map">${text.map}</h2>
            ${entry.map}`
        : ''
    }
    ${
      entry.charts.length > 0
        ? html`<h2 id="charts">${text.charts}</h2>
            ${entry.charts}`
        : ''
    }
    ${
      entry.lineage
        ? html`<h2 id="lineage">${text.lineage}</h2>
            <figure class="lineage">${entry.lineage}</figure>`
        : ''
    }

    <h2 id="schema">${text.schema}</h2>
    <div class="table-wrap" tabindex="0" role="region" aria-label="${text.schema}">
      <table>
        <thead>
          <tr>
            <th scope="col">${text.field}</th>
            <th scope="col">${text.type}</th>
            <th scope="col">${text.required}</th>
            <th scope="col">${text.description}</th>
            <th scope="col">${text.constraints}</th>
          </tr>
        </thead>
        <tbody>
          ${entry.schema.map(
            (field) =>
              html`<tr>
                <th scope="row"><code>${field.name}</code></th>
                <td>${field.type}</td>
                <td>${field.required ? text.yes : ''}</td>
                <td>${field.description}</td>
                <td>${field.constraints}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      entry.preview
        ? html`<h2 id="preview">${text.preview}</h2>
            <div class="table-wrap" tabindex="0" role="region" aria-label="${text.preview}">
              <table>
                <thead>
                  <tr>
                    ${entry.preview.columns.map((column) => html`<th scope="col">${column}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${entry.preview.rows.map(
                    (row) =>
                      html`<tr>
                        ${row.map((cell) => html`<td>${cell ?? ''}</td>`)}
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        : ''
    }
    ${
      entry.tests.length > 0
        ? html`<h2 id="tests">${text.tests}</h2>
            <ul>
              ${entry.tests.map(
                (test) =>
                  html`<li>
                    <span class="status-${test.status === 'pass' ? 'succeeded' : 'failed'}"
                      >${test.status}</span
                    >
                    ${test.test} (${test.severity})${test.status !== 'pass' ? html` — ${test.message}` : ''}
                  </li>`,
              )}
            </ul>`
        : ''
    }
    <h2 id="runs">${text.runs}</h2>
    ${
      entry.runs.length > 0
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="${text.runs}">
            <table>
              <thead>
                <tr>
                  <th scope="col">${text.started}</th>
                  <th scope="col">${text.trigger}</th>
                  <th scope="col">${text.status}</th>
                  <th scope="col">${text.steps}</th>
                  <th scope="col">${text.run}</th>
                </tr>
              </thead>
              <tbody>
                ${entry.runs.map(
                  (run) =>
                    html`<tr>
                      <td>
                        <time datetime="${run.startedAt.toISOString()}"
                          >${run.startedAt.toISOString().slice(0, 19).replace('T', ' ')}</time
                        >
                      </td>
                      <td>${run.trigger}</td>
                      <td class="status-${run.status}">${run.status}</td>
                      <td>
                        ${run.steps.map((step, index) => html`${index > 0 ? ' → ' : ''}<span class="status-${step.status}">${step.step}</span>`)}
                      </td>
                      <td><code>${run.id}</code></td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p>${text.noRuns}</p>`
    }`;
  return layout(site, `${entry.output.title} — ${site.title}`, '../', body);
}

/** A figure holding a map, its tools (shown by the script) and its caption. */
export function mapFigure(svg: Html, caption: string, language: string, extra?: Html): Html {
  const { text } = labelsFor(language);
  return html`<figure class="map">
    <div class="map-tools" hidden>
      <button type="button" data-action="in" aria-label="${text.zoomIn}">+</button
      ><button type="button" data-action="out" aria-label="${text.zoomOut}">−</button
      ><button type="button" data-action="reset" aria-label="${text.reset}">⟲</button>
    </div>
    ${svg}
    <figcaption>${caption} ${text.mapHelp}${extra ?? ''}</figcaption>
  </figure>`;
}

/** A chart with its data as a table, for screen readers and for those who want the numbers. */
export function chartFigure(
  svg: Html,
  caption: string,
  rows: { label: string; value: number }[],
  language: string,
  extra?: Html,
): Html {
  const { text, locale } = labelsFor(language);
  return html`<figure class="chart">
    ${svg}
    <figcaption>${caption}${extra ?? ''}</figcaption>
    <details>
      <summary>${text.dataTable}</summary>
      <div class="table-wrap" tabindex="0" role="region" aria-label="${text.dataTable}">
        <table>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr>
                  <th scope="row">${row.label}</th>
                  <td class="num">${row.value.toLocaleString(locale)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}

/** The catalogue of sources: each dataset's origin, schedule, owner, licence and last runs; the project's lineage. */
export function cataloguePage(site: Site, entries: PortalEntry[], lineage: Html): Html {
  const { text } = labelsFor(site.language);
  const day = (date?: Date) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : text.noRunYet);
  const rows = entries
    .filter((entry) => entry.provenance)
    .map(
      (entry) =>
        html`<tr>
          <th scope="row"><a href="datasets/${entry.output.name}.html">${entry.output.title}</a></th>
          <td>${entry.provenance!.origin.map((origin, index) => html`${index > 0 ? html`<br />` : ''}${origin}`)}</td>
          <td>${entry.provenance!.owner ?? ''}</td>
          <td>${entry.output.licence}</td>
          <td>${day(entry.provenance!.lastSuccess)}</td>
          <td>${day(entry.provenance!.lastFailure)}</td>
        </tr>`,
    );
  return layout(
    site,
    `${text.catalogue} — ${site.title}`,
    '',
    html`<p><a href="index.html">← ${text.home}</a></p>
      <h1>${text.catalogue}</h1>
      <p>${text.catalogueIntro}</p>
      <div class="table-wrap" tabindex="0" role="region" aria-label="${text.catalogue}">
        <table>
          <thead>
            <tr>
              <th scope="col">${text.dataset}</th>
              <th scope="col">${text.origin}</th>
              <th scope="col">${text.owner}</th>
              <th scope="col">${text.licence}</th>
              <th scope="col">${text.lastSuccess}</th>
              <th scope="col">${text.lastFailure}</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
      </div>
      <h2 id="lineage">${text.projectLineage}</h2>
      <figure class="lineage">${lineage}</figure>`,
  );
}
