import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { euDataThemeCodes, type Project } from '../../platform/project';
import { isNotFound, putText, readObjectText } from '../../platform/storage/buckets';
import { connect, qualified, quoteIdent } from '../../platform/warehouse';
import { describeTest } from '../../platform/project/test-declarations';
import { describeField, exportColumns } from './columns';
import { projectOutputs, type Output } from './outputs';

const context = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  spdx: 'http://spdx.org/rdf/terms#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  prov: 'http://www.w3.org/ns/prov#',
  dqv: 'http://www.w3.org/ns/dqv#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
};

/**
 * A node of a controlled vocabulary, typed with the class DCAT-AP 3's range shapes ask for
 * (SHACL checks sh:class on the data graph alone, with no inference: the type must be said).
 */
const typed = (id: string, type: string) => ({ '@id': id, '@type': type });
const authority = 'http://publications.europa.eu/resource/authority';
/** A web address as DCAT-AP's access and download URLs take it: a resource, not a string. */
const resource = (url: string) => typed(url, 'rdfs:Resource');

/**
 * The EU data themes' labels, as the vocabulary gives them: DCAT-AP 3's skos:Concept shape wants
 * a skos:prefLabel on each theme, and harvesters show it.
 */
const themeLabels: Record<(typeof euDataThemeCodes)[number], { en: string; fr: string }> = {
  AGRI: {
    en: 'Agriculture, fisheries, forestry and food',
    fr: 'Agriculture, pêche, sylviculture et alimentation',
  },
  ECON: { en: 'Economy and finance', fr: 'Économie et finances' },
  EDUC: { en: 'Education, culture and sport', fr: 'Éducation, culture et sport' },
  ENER: { en: 'Energy', fr: 'Énergie' },
  ENVI: { en: 'Environment', fr: 'Environnement' },
  GOVE: { en: 'Government and public sector', fr: 'Gouvernement et secteur public' },
  HEAL: { en: 'Health', fr: 'Santé' },
  INTR: { en: 'International issues', fr: 'Questions internationales' },
  JUST: {
    en: 'Justice, legal system and public safety',
    fr: 'Justice, système juridique et sécurité publique',
  },
  REGI: { en: 'Regions and cities', fr: 'Régions et villes' },
  SOCI: { en: 'Population and society', fr: 'Population et société' },
  TECH: { en: 'Science and technology', fr: 'Science et technologie' },
  TRAN: { en: 'Transport', fr: 'Transports' },
};

const themeConcept = (code: (typeof euDataThemeCodes)[number]) => ({
  ...typed(`${authority}/data-theme/${code}`, 'skos:Concept'),
  'skos:prefLabel': [
    { '@value': themeLabels[code].en, '@language': 'en' },
    { '@value': themeLabels[code].fr, '@language': 'fr' },
  ],
});

/** Export formats as the EU file-type vocabulary names them (what data.europa.eu and udata read). */
const fileTypes: Record<string, string> = {
  csv: 'CSV',
  parquet: 'PARQUET',
  geojson: 'GEOJSON',
  xlsx: 'XLSX',
  json: 'JSON',
};

const frequencies: Record<string, string> = {
  continuous: 'CONT',
  hourly: 'HOURLY',
  daily: 'DAILY',
  weekly: 'WEEKLY',
  monthly: 'MONTHLY',
  quarterly: 'QUARTERLY',
  annual: 'ANNUAL',
  irregular: 'IRREG',
  never: 'NEVER',
};

/** What the catalog says of each output, computed from the data and its latest publication. */
export interface Facts {
  rows?: number;
  temporal?: { start: string; end: string };
  /** WKT polygon of the bounding box (EPSG:4326). */
  bbox?: string;
  modified?: string;
  datapackage?: {
    created: string;
    resources: DatapackageResource[];
  };
}

/** A resource of a published datapackage.json: its size and checksum in place, or under datacycle:checksum. */
interface DatapackageResource {
  path: string;
  format: string;
  mediatype: string;
  bytes?: number;
  hash?: string;
  'datacycle:checksum'?: { bytes: number; hash: string };
}

export const sizeOf = (resource: DatapackageResource) => ({
  bytes: resource.bytes ?? resource['datacycle:checksum']?.bytes ?? 0,
  hash: resource.hash ?? resource['datacycle:checksum']?.hash ?? '',
});

async function factsOf(pool: pg.Pool, s3: S3Client, bucket: string, output: Output): Promise<Facts> {
  const client = await connect(pool);
  try {
    const columns = await exportColumns(client, output.relation, output.tableSchema);
    if (columns.length === 0) return {};
    const relation = qualified(output.relation.schema, output.relation.name);
    const dates = columns.filter((column) => column.kind === 'date' || column.kind === 'datetime');
    const geometry = columns.find((column) => column.kind === 'geometry');
    const select = [
      'count(*) AS rows',
      dates.length > 0
        ? `least(${dates.map((d) => `min(${quoteIdent(d.name)})`).join(', ')})::text AS start`
        : 'NULL AS start',
      dates.length > 0
        ? `greatest(${dates.map((d) => `max(${quoteIdent(d.name)})`).join(', ')})::text AS "end"`
        : 'NULL AS "end"',
      geometry
        ? `ST_AsText(ST_Envelope(ST_Extent(${quoteIdent(geometry.name)})::geometry)) AS bbox`
        : 'NULL AS bbox',
      output.kind === 'dataset' ? 'max(_loaded_at) AS modified' : 'NULL::timestamptz AS modified',
    ];
    const { rows } = await client.query<{
      rows: string;
      start: string | null;
      end: string | null;
      bbox: string | null;
      modified: Date | null;
    }>(`SELECT ${select.join(', ')} FROM ${relation}`);
    const row = rows[0]!;
    const datapackage = await readDatapackage(s3, bucket, output.name);
    return {
      rows: Number(row.rows),
      temporal:
        row.start && row.end ? { start: row.start.slice(0, 10), end: row.end.slice(0, 10) } : undefined,
      bbox: row.bbox ?? undefined,
      modified: row.modified?.toISOString() ?? datapackage?.created,
      datapackage,
    };
  } finally {
    client.release();
  }
}

async function readDatapackage(s3: S3Client, bucket: string, name: string): Promise<Facts['datapackage']> {
  try {
    const text = await readObjectText(s3, { bucket, key: `exports/${name}/latest/datapackage.json` });
    return JSON.parse(text) as Facts['datapackage'];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const licence = (id: string) => typed(`https://spdx.org/licenses/${id}`, 'dct:LicenseDocument');

/** ISO 639-1 → the EU language vocabulary's ISO 639-3 codes (the languages a project file takes). */
const languageCodes: Record<string, string> = {
  fr: 'FRA',
  en: 'ENG',
  de: 'DEU',
  es: 'SPA',
  it: 'ITA',
  nl: 'NLD',
  pt: 'POR',
  ca: 'CAT',
  br: 'BRE',
  eu: 'EUS',
  oc: 'OCI',
  co: 'COS',
};
const languageCode = (language: string) => languageCodes[language] ?? language.toUpperCase();

/** The DCAT-AP catalog of the project as JSON-LD: one dcat:Dataset per dataset and model. */
export function catalogDocument(project: Project, publicBaseUrl: string, facts: Map<string, Facts>) {
  const config = project.config;
  const base = publicBaseUrl.replace(/\/$/, '');
  const datasets = projectOutputs(project).map((output) => {
    const fact = facts.get(output.name) ?? {};
    const dataset = project.datasets.find((candidate) => candidate.id === output.name);
    const model = project.models.find((candidate) => candidate.name === output.name);
    const latest = `${base}/exports/${output.name}/latest`;
    return {
      '@id': `${base}/catalog/datasets/${output.name}`,
      '@type': 'dcat:Dataset',
      'dct:identifier': output.name,
      'dct:title': output.title,
      'dct:description': output.description ?? output.title,
      'dcat:contactPoint': {
        '@type': 'vcard:Kind',
        'vcard:fn': config.contact.name,
        'vcard:hasEmail': { '@id': `mailto:${config.contact.email}` },
      },
      'dct:publisher': { '@type': 'foaf:Agent', 'foaf:name': config.publisher.name },
      'dcat:keyword': dataset?.config.keywords ?? [],
      'dcat:theme': (dataset?.config.theme ?? []).map((theme) => themeConcept(theme)),
      ...(dataset
        ? {
            'dct:accrualPeriodicity': typed(
              `${authority}/frequency/${frequencies[dataset.config.accrualPeriodicity]}`,
              'dct:Frequency',
            ),
          }
        : {}),
      ...(dataset?.config.spatial || fact.bbox
        ? {
            'dct:spatial': {
              '@type': 'dct:Location',
              ...(dataset?.config.spatial ? { 'dct:title': dataset.config.spatial.coverage } : {}),
              ...(fact.bbox
                ? {
                    'dcat:bbox': {
                      '@value': fact.bbox,
                      '@type': 'http://www.opengis.net/ont/geosparql#wktLiteral',
                    },
                  }
                : {}),
            },
          }
        : {}),
      ...(fact.temporal
        ? {
            'dct:temporal': {
              '@type': 'dct:PeriodOfTime',
              'dcat:startDate': { '@value': fact.temporal.start, '@type': 'xsd:date' },
              'dcat:endDate': { '@value': fact.temporal.end, '@type': 'xsd:date' },
            },
          }
        : {}),
      ...(fact.modified ? { 'dct:modified': { '@value': fact.modified, '@type': 'xsd:dateTime' } } : {}),
      // The Table Schema its rows follow, inside the data package.
      ...(fact.datapackage ? { 'dct:conformsTo': typed(`${latest}/datapackage.json`, 'dct:Standard') } : {}),
      // Row count as a DQV measurement: DCAT has no property of its own for it.
      ...(fact.rows !== undefined
        ? {
            'dqv:hasQualityMeasurement': {
              '@type': 'dqv:QualityMeasurement',
              'dqv:isMeasurementOf': typed(`${base}/catalog/metrics/row-count`, 'dqv:Metric'),
              'dqv:value': { '@value': String(fact.rows), '@type': 'xsd:integer' },
            },
          }
        : {}),
      // What a model is built from (datasets and other models): DCAT-AP's dct:source, and
      // PROV's own term for it.
      ...(model
        ? {
            'dct:source': [...model.sources, ...model.refs].map((input) => ({
              '@id': `${base}/catalog/datasets/${input}`,
            })),
            'prov:wasDerivedFrom': [...model.sources, ...model.refs].map((input) => ({
              '@id': `${base}/catalog/datasets/${input}`,
            })),
          }
        : {}),
      'dcat:distribution': (fact.datapackage?.resources ?? []).map((file) => ({
        '@id': `${latest}/${file.path}`,
        '@type': 'dcat:Distribution',
        'dct:title': `${output.title} (${file.format.toUpperCase()})`,
        'dcat:accessURL': resource(`${latest}/${file.path}`),
        'dcat:downloadURL': resource(`${latest}/${file.path}`),
        'dcat:mediaType': typed(
          `https://www.iana.org/assignments/media-types/${file.mediatype}`,
          'dct:MediaType',
        ),
        'dct:format': typed(
          `${authority}/file-type/${fileTypes[file.format] ?? file.format.toUpperCase()}`,
          'dct:MediaTypeOrExtent',
        ),
        'dcat:byteSize': { '@value': String(sizeOf(file).bytes), '@type': 'xsd:nonNegativeInteger' },
        'spdx:checksum': {
          '@type': 'spdx:Checksum',
          'spdx:algorithm': typed('spdx:checksumAlgorithm_sha256', 'spdx:ChecksumAlgorithm'),
          'spdx:checksumValue': {
            '@value': sizeOf(file).hash.replace(/^sha256:/, ''),
            '@type': 'xsd:hexBinary',
          },
        },
        'dct:license': licence(output.licence),
        ...(fact.datapackage
          ? { 'dct:modified': { '@value': fact.datapackage.created, '@type': 'xsd:dateTime' } }
          : {}),
        ...(file.format === 'csv'
          ? { 'dct:conformsTo': typed(`${latest}/datapackage.json`, 'dct:Standard') }
          : {}),
      })),
    };
  });
  return {
    '@context': context,
    '@id': `${base}/catalog`,
    '@type': 'dcat:Catalog',
    'dct:title': config.title,
    'dct:description': config.description ?? config.title,
    'dct:publisher': {
      '@type': 'foaf:Agent',
      'foaf:name': config.publisher.name,
      ...(config.publisher.url ? { 'foaf:homepage': { '@id': config.publisher.url } } : {}),
    },
    'dct:language': typed(`${authority}/language/${languageCode(config.language)}`, 'dct:LinguisticSystem'),
    'dct:license': licence(config.licence),
    'dct:modified': { '@value': new Date().toISOString(), '@type': 'xsd:dateTime' },
    'dcat:dataset': datasets,
  };
}

/** The same catalog as Turtle, through the JSON-LD processor (RDF) and N3's writer. */
export async function catalogTurtle(document: object): Promise<string> {
  // Loaded on first use: a function that only ingests does not carry the RDF libraries.
  const { default: jsonld } = await import('jsonld');
  const { Parser, Writer } = await import('n3');
  const nquads = (await jsonld.toRDF(document as Parameters<typeof jsonld.toRDF>[0], {
    format: 'application/n-quads',
  })) as unknown as string;
  const quads = new Parser({ format: 'N-Quads' }).parse(nquads);
  const writer = new Writer({ prefixes: context });
  writer.addQuads(quads);
  return new Promise((resolve, reject) =>
    writer.end((error, result: string) => (error ? reject(error) : resolve(result))),
  );
}

/** A readable page per dataset or model: what it is, where to download it, what its columns mean. */
export function documentationPage(
  project: Project,
  output: Output,
  fact: Facts,
  publicBaseUrl: string,
): string {
  const dataset = project.datasets.find((candidate) => candidate.id === output.name);
  const model = project.models.find((candidate) => candidate.name === output.name);
  const latest = `${publicBaseUrl.replace(/\/$/, '')}/exports/${output.name}/latest`;
  const cell = (text: unknown) =>
    String(text ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const lines = [`# ${output.title}`, '', output.description ?? '', ''];
  const facts: [string, string | undefined][] = [
    [
      'kind',
      output.kind === 'dataset'
        ? 'dataset'
        : `model (${model?.header.materialized}) built from ${model?.sources.join(', ')}`,
    ],
    ['licence', output.licence],
    ['update frequency', dataset?.config.accrualPeriodicity],
    ['spatial coverage', dataset?.config.spatial?.coverage],
    ['rows', fact.rows?.toLocaleString('en')],
    ['period covered', fact.temporal ? `${fact.temporal.start} → ${fact.temporal.end}` : undefined],
    ['bounding box', fact.bbox],
    ['last modified', fact.modified],
  ];
  lines.push(
    '| | |',
    '|---|---|',
    ...facts.filter(([, value]) => value).map(([key, value]) => `| ${key} | ${cell(value)} |`),
    '',
  );
  if (fact.datapackage) {
    lines.push('## Downloads', '');
    for (const resource of fact.datapackage.resources)
      lines.push(
        `- [${resource.path}](${latest}/${resource.path}) — ${resource.format.toUpperCase()}, ${sizeOf(resource).bytes.toLocaleString('en')} bytes, \`${sizeOf(resource).hash}\``,
      );
    lines.push(`- [datapackage.json](${latest}/datapackage.json) — Frictionless data package`, '');
  }
  lines.push('## Columns', '');
  if (dataset) {
    lines.push('| name | type | required | description | constraints |', '|---|---|---|---|---|');
    for (const field of dataset.tableSchema.fields.map(describeField))
      lines.push(
        `| \`${field.name}\` | ${field.type} | ${field.required ? 'yes' : ''} | ${cell(field.description)} | ${cell(field.constraints)} |`,
      );
  } else if (model) {
    lines.push('| name | description |', '|---|---|');
    for (const [name, description] of Object.entries(model.header.columns))
      lines.push(`| \`${name}\` | ${cell(description)} |`);
  }
  const tests = dataset?.config.tests ?? model?.header.tests ?? [];
  if (tests.length > 0) {
    lines.push(
      '',
      '## Data tests',
      '',
      ...tests.map((test) => `- ${describeTest(test).label} (${test.severity})`),
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes catalog/catalog.jsonld, catalog/catalog.ttl and catalog/datasets/<name>.md to the public bucket, computed from
 * the data (rows, temporal coverage, bounding box, last modification) and the latest exports.
 */
export async function publishCatalog(context: {
  pool: pg.Pool;
  s3: S3Client;
  bucket: string;
  publicBaseUrl: string;
  project: Project;
}): Promise<{ jsonld: string; turtle: string; datasets: number; facts: Map<string, Facts> }> {
  const facts = new Map<string, Facts>();
  for (const output of projectOutputs(context.project))
    facts.set(output.name, await factsOf(context.pool, context.s3, context.bucket, output));
  const document = JSON.parse(
    JSON.stringify(catalogDocument(context.project, context.publicBaseUrl, facts)),
  ) as object;
  const turtle = await catalogTurtle(document);
  const put = (key: string, body: string, type: string) =>
    putText(context.s3, { bucket: context.bucket, key }, body, type);
  await put('catalog/catalog.jsonld', JSON.stringify(document, null, 2), 'application/ld+json');
  await put('catalog/catalog.ttl', turtle, 'text/turtle; charset=utf-8');
  for (const output of projectOutputs(context.project)) {
    const page = documentationPage(
      context.project,
      output,
      facts.get(output.name) ?? {},
      context.publicBaseUrl,
    );
    await put(`catalog/datasets/${output.name}.md`, page, 'text/markdown; charset=utf-8');
  }
  return { jsonld: 'catalog/catalog.jsonld', turtle: 'catalog/catalog.ttl', datasets: facts.size, facts };
}
