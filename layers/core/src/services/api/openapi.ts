import type { ExportColumn } from '../../stages/publish/columns';
import type { Output } from '../../stages/publish/outputs';
import type { Project } from '../../platform/project';
import { webhookEventTypes } from '../../platform/events';
import { projectOutputs } from '../../stages/publish/outputs';
import { subscriptionRules } from '../webhooks';
import { DELIVERY_ID_PATTERN, SUBSCRIPTION_ID_PATTERN } from './subscription-routes';
import {
  HISTORY_MAX_PAGE_SIZE,
  HISTORY_PAGE_SIZE,
  HISTORY_PARAMETERS,
  indicatorModels,
  INSTANT_PATTERN,
} from './history-routes';
import {
  CURSOR_PATTERN,
  DEFAULT_PAGE_SIZE,
  integerRanges,
  LIST_ITEM_PATTERN,
  MAX_PAGE_SIZE,
  operatorsFor,
  TEXT_PATTERN,
  type FilterOperator,
} from './rows';

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema, notNull: boolean): Schema =>
  notNull ? schema : { ...schema, type: [schema.type as string, 'null'] };

/** The JSON Schema of a column's values, as the JSON formats give them. */
export function columnSchema(column: ExportColumn): Schema {
  const description = column.description ? { description: column.description } : {};
  switch (column.kind) {
    case 'integer':
      return { ...nullable({ type: 'integer' }, column.notNull), ...description };
    case 'number':
      return { ...nullable({ type: 'number' }, column.notNull), ...description };
    case 'boolean':
      return { ...nullable({ type: 'boolean' }, column.notNull), ...description };
    case 'date':
      return { ...nullable({ type: 'string', format: 'date' }, column.notNull), ...description };
    case 'datetime':
      return { ...nullable({ type: 'string', format: 'date-time' }, column.notNull), ...description };
    case 'geometry':
      return {
        ...nullable({ type: 'object', description: 'GeoJSON geometry (WGS 84)' }, column.notNull),
        ...description,
      };
    case 'json':
      return { ...description };
    default:
      return { ...nullable({ type: 'string' }, column.notNull), ...description };
  }
}

const problem = {
  description: 'An RFC 9457 problem',
  content: { 'application/problem+json': { schema: ref('Problem') } },
};

const queryParameter = (name: string, description: string, schema: Schema = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** A comma-separated list (OpenAPI's `form` style, not exploded: `?fields=a,b`). */
const listParameter = (name: string, description: string, items: Schema, limits: Schema = {}) => ({
  ...queryParameter(name, description, { type: 'array', items, ...limits }),
  style: 'form',
  explode: false,
});

/** The JSON Schema of one filter value of a column: what the API takes for it, exactly. */
export function filterValueSchema(column: ExportColumn, inList = false): Schema {
  switch (column.kind) {
    case 'integer': {
      const range = integerRanges[column.pgType];
      return range ? { type: 'integer', minimum: range[0], maximum: range[1] } : { type: 'integer' };
    }
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time', description: 'RFC 3339; without an offset, UTC' };
    default:
      return inList
        ? { type: 'string', pattern: LIST_ITEM_PATTERN }
        : { type: 'string', pattern: TEXT_PATTERN };
  }
}

const operatorWords: Record<FilterOperator, string> = {
  eq: '=',
  ne: '≠',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  in: 'in (comma-separated, at most 100)',
  contains: 'contains (case-insensitive)',
};

/** The parameters of a rows endpoint: paging, format, and every filter of every field. */
function rowsParameters(columns: ExportColumn[]) {
  const spatial = columns.some((column) => column.kind === 'geometry');
  const sortable = columns.filter((column) => operatorsFor(column).length > 0).map((column) => column.name);
  const filters = columns.flatMap((column) =>
    operatorsFor(column).map((operator) => {
      const name = operator === 'eq' ? column.name : `${column.name}__${operator}`;
      const description = `${column.name} ${operatorWords[operator]}`;
      if (operator === 'in')
        return listParameter(name, description, filterValueSchema(column, true), {
          minItems: 1,
          maxItems: 100,
        });
      if (operator === 'contains')
        return queryParameter(name, description, { type: 'string', pattern: TEXT_PATTERN });
      return queryParameter(name, description, filterValueSchema(column));
    }),
  );
  const longitude = { type: 'number', minimum: -180, maximum: 180 };
  const latitude = { type: 'number', minimum: -90, maximum: 90 };
  return [
    {
      ...queryParameter('limit', `rows per page (default ${DEFAULT_PAGE_SIZE})`, {
        type: 'integer',
        minimum: 1,
        maximum: MAX_PAGE_SIZE,
      }),
      example: 10,
    },
    queryParameter(
      'cursor',
      'opaque: the `next` link carries it; a cursor no page of this listing gave answers 404',
      { type: 'string', pattern: CURSOR_PATTERN },
    ),
    listParameter('order', 'fields to sort on, `-` for descending, e.g. `-date_maj,id`', {
      enum: sortable.flatMap((name) => [name, `-${name}`]),
    }),
    queryParameter('format', 'json (default), csv' + (spatial ? ', geojson' : ''), {
      type: 'string',
      enum: spatial ? ['json', 'csv', 'geojson'] : ['json', 'csv'],
    }),
    listParameter(
      'fields',
      'the fields to return',
      { enum: columns.map((column) => column.name) },
      { minItems: 1 },
    ),
    ...(spatial
      ? [
          listParameter(
            'bbox',
            'west,south,east,north (WGS 84 degrees); west > east crosses the antimeridian',
            {},
            { prefixItems: [longitude, latitude, longitude, latitude], items: false, minItems: 4 },
          ),
        ]
      : []),
    ...filters,
  ];
}

/**
 * The OpenAPI 3.1 document of the API, generated from the deployed project and its relations:
 * each dataset's rows endpoint lists its own fields, filters and row schema.
 */
export function openApiDocument(
  project: Project,
  outputs: { output: Output; columns: ExportColumn[] }[],
  serverUrl: string,
) {
  const rowsPaths = Object.fromEntries(
    outputs.map(({ output, columns }) => {
      const spatial = columns.some((column) => column.kind === 'geometry');
      const page = {
        type: 'object',
        required: ['data', 'links', 'meta'],
        properties: {
          data: { type: 'array', items: ref(`Row_${output.name}`) },
          links: ref('PageLinks'),
          meta: {
            type: 'object',
            properties: { limit: { type: 'integer' }, returned: { type: 'integer' } },
          },
        },
      };
      return [
        `/datasets/${output.name}/rows`,
        {
          get: {
            operationId: `rows_${output.name.replace(/-/g, '_')}`,
            summary: `Rows of ${output.title}`,
            tags: ['data'],
            parameters: rowsParameters(columns),
            responses: {
              '200': {
                description: 'One page; `links.next` (and the Link header) leads to the next one',
                headers: { link: { description: 'rel="next"', schema: { type: 'string' } } },
                content: {
                  'application/json': { schema: page },
                  'text/csv': { schema: { type: 'string' } },
                  ...(spatial
                    ? {
                        'application/geo+json': {
                          schema: {
                            type: 'object',
                            required: ['type', 'features'],
                            properties: {
                              type: { const: 'FeatureCollection' },
                              features: { type: 'array', items: { type: 'object' } },
                              links: ref('PageLinks'),
                            },
                          },
                        },
                      }
                    : {}),
                },
              },
              '400': problem,
              '404': problem,
              '503': problem,
            },
          },
        },
      ];
    }),
  );
  // The history of each indicator model: its values at each pass, filtered by time, measure
  // and the series' key columns.
  const historyPaths = Object.fromEntries(
    indicatorModels(project.models).map((model) => {
      const indicator = model.header.indicator;
      const keys = [indicator.key ?? []]
        .flat()
        .filter((key) => !(HISTORY_PARAMETERS as readonly string[]).includes(key));
      return [
        `/datasets/${model.name}/history`,
        {
          get: {
            operationId: `history_${model.name}`,
            summary: `History of the indicator ${model.header.title ?? model.name}`,
            description:
              'Its values at each transform pass that published it, oldest first; `links.next` leads to the next page.',
            tags: ['data'],
            parameters: [
              queryParameter('measure', 'only this value', { type: 'string', enum: indicator.values }),
              queryParameter('from', 'from this instant (included)', {
                type: 'string',
                pattern: INSTANT_PATTERN,
              }),
              queryParameter('to', 'until this instant (excluded)', {
                type: 'string',
                pattern: INSTANT_PATTERN,
              }),
              queryParameter('limit', `values per page (default ${HISTORY_PAGE_SIZE})`, {
                type: 'integer',
                minimum: 1,
                maximum: HISTORY_MAX_PAGE_SIZE,
              }),
              queryParameter(
                'cursor',
                'opaque: the `next` link carries it; a cursor no page of this listing gave answers 404',
                { type: 'string', pattern: CURSOR_PATTERN },
              ),
              ...keys.map((key) =>
                queryParameter(key, `only the series whose ${key} is this (as text)`, {
                  type: 'string',
                  maxLength: 1000,
                }),
              ),
            ],
            responses: {
              '200': {
                description: 'One page of values',
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      required: ['data', 'links', 'meta'],
                      properties: {
                        data: { type: 'array', items: ref('IndicatorValue') },
                        links: ref('PageLinks'),
                        meta: { type: 'object' },
                      },
                    },
                  },
                },
              },
              '400': problem,
              '404': problem,
              '503': problem,
            },
          },
        },
      ];
    }),
  );
  const rowSchemas = Object.fromEntries(
    outputs.map(({ output, columns }) => [
      `Row_${output.name}`,
      {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(columns.map((column) => [column.name, columnSchema(column)])),
      },
    ]),
  );
  const names = projectOutputs(project).map((output) => output.name);
  const pathId = (schema: Schema, description: string) => ({
    name: 'id',
    in: 'path',
    required: true,
    description,
    schema: { type: 'string', ...schema },
  });
  const datasetId = { ...pathId({ enum: names }, 'a dataset or model of the project'), example: names[0] };
  const runId = pathId({ format: 'uuid' }, 'a run id (UUID)');
  const id = pathId({ pattern: `^${SUBSCRIPTION_ID_PATTERN}$` }, 'a subscription id');
  const deliveryId = pathId({ pattern: `^${DELIVERY_ID_PATTERN}$` }, 'a delivery id (its webhook-id)');
  const keyed = { security: [{ apiKey: [] }] };
  // Anyone may read runs; with the key, errors and details come unredacted.
  const keyOptional = { security: [{}, { apiKey: [] }] };
  const redactedWithoutKey =
    'Without the API key, credentials an error or a detail may carry (URL user info, key and ' +
    'token parameters, bearer tokens) are replaced by ***. A wrong key is refused (401).';
  const subscriptionInput = {
    type: 'object',
    additionalProperties: false,
    properties: {
      url: {
        type: 'string',
        pattern: subscriptionRules.urlPattern,
        description:
          'an absolute https URL at a host name (other characters percent-encoded); a host given as an IP address only where the network allow-list has it, and over plain http only if the list names it',
      },
      events: { type: 'array', items: { enum: [...webhookEventTypes] }, minItems: 1 },
      datasets: { type: 'array', items: { enum: names }, minItems: 1 },
      owner: {
        type: 'string',
        description: 'an e-mail address (RFC 5322 dot-atom at a domain name)',
        pattern: subscriptionRules.emailPattern,
        maxLength: subscriptionRules.emailMaxLength,
      },
      description: {
        type: 'string',
        maxLength: subscriptionRules.descriptionMaxLength,
        pattern: subscriptionRules.textPattern,
      },
      enabled: { type: 'boolean' },
      retrySchedule: {
        type: 'array',
        description: 'seconds before each attempt',
        items: { type: 'integer', minimum: 0, maximum: 43200 },
        minItems: 1,
        maxItems: 12,
      },
    },
  };
  const jsonBody = (schema: Schema) => ({ required: true, content: { 'application/json': { schema } } });
  const ok = (description: string, schema: Schema) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const replay = (operationId: string, summary: string) => ({
    post: {
      operationId,
      summary,
      tags: ['webhooks'],
      ...keyed,
      parameters: [operationId === 'replayDelivery' ? deliveryId : id],
      responses: {
        '202': ok('Replayed', ref('Replayed')),
        '401': problem,
        '404': problem,
        '409': problem,
        '503': problem,
      },
    },
  });
  const bodyProblems = {
    '400': problem,
    '401': problem,
    '413': problem,
    '415': problem,
  };
  // What the stateful tests (and readers) follow: a created subscription's id, to its operations.
  const subscriptionLinks = Object.fromEntries(
    [
      'subscription',
      'updateSubscription',
      'deleteSubscription',
      'rotateSecret',
      'deliveries',
      'replayFailed',
    ].map((operationId) => [operationId, { operationId, parameters: { id: '$response.body#/id' } }]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: `${project.config.title} — API`,
      version: '1',
      description:
        'Read the published datasets and models, the runs of the pipeline, and manage webhook subscriptions (API key).',
      contact: { name: project.config.contact.name, email: project.config.contact.email },
    },
    servers: [{ url: serverUrl }],
    paths: {
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': ok('OpenAPI 3.1', { type: 'object' }) },
        },
      },
      '/catalog': {
        get: {
          operationId: 'catalog',
          summary: 'The DCAT-AP catalog (JSON-LD)',
          tags: ['catalog'],
          responses: {
            '200': {
              description: 'JSON-LD',
              content: { 'application/ld+json': { schema: { type: 'object' } } },
            },
            '404': problem,
          },
        },
      },
      '/datasets': {
        get: {
          operationId: 'datasets',
          summary: 'Datasets and models',
          tags: ['catalog'],
          responses: {
            '200': ok('Every published dataset and model', {
              type: 'object',
              required: ['data'],
              properties: { data: { type: 'array', items: ref('DatasetSummary') } },
            }),
          },
        },
      },
      '/datasets/{id}': {
        get: {
          operationId: 'dataset',
          summary: 'One dataset or model',
          tags: ['catalog'],
          parameters: [datasetId],
          responses: { '200': ok('The dataset', ref('Dataset')), '404': problem },
        },
      },
      '/datasets/{id}/schema': {
        get: {
          operationId: 'datasetSchema',
          summary: 'Its Frictionless Table Schema',
          tags: ['catalog'],
          parameters: [datasetId],
          responses: { '200': ok('Table Schema', { type: 'object', required: ['fields'] }), '404': problem },
        },
      },
      ...rowsPaths,
      ...historyPaths,
      '/runs': {
        get: {
          operationId: 'runs',
          summary: 'Runs of the pipeline, latest first',
          description: redactedWithoutKey,
          tags: ['runs'],
          ...keyOptional,
          parameters: [
            queryParameter('dataset', 'only the runs of this dataset or model', {
              type: 'string',
              enum: names,
            }),
            queryParameter('status', 'running, succeeded, failed or skipped', {
              type: 'string',
              enum: ['running', 'succeeded', 'failed', 'skipped'],
            }),
            queryParameter('limit', 'runs per page (default 20)', {
              type: 'integer',
              minimum: 1,
              maximum: 100,
            }),
            queryParameter(
              'cursor',
              'opaque: the `next` link carries it; a cursor no page of this listing gave answers 404',
              { type: 'string', pattern: CURSOR_PATTERN },
            ),
          ],
          responses: {
            '200': {
              ...ok('One page of runs', {
                type: 'object',
                required: ['data', 'links'],
                properties: { data: { type: 'array', items: ref('Run') }, links: ref('PageLinks') },
              }),
              links: { run: { operationId: 'run', parameters: { id: '$response.body#/data/0/id' } } },
            },
            '400': problem,
            '401': problem,
            '404': problem,
          },
        },
      },
      '/runs/{id}': {
        get: {
          operationId: 'run',
          summary: 'One run, with its steps and files',
          description: redactedWithoutKey,
          tags: ['runs'],
          ...keyOptional,
          parameters: [runId],
          responses: {
            '200': ok('The run', ref('RunDetail')),
            '400': problem,
            '401': problem,
            '404': problem,
          },
        },
      },
      '/subscriptions': {
        get: {
          operationId: 'subscriptions',
          summary: 'Webhook subscriptions',
          tags: ['webhooks'],
          ...keyed,
          responses: {
            '200': ok('Every subscription', {
              type: 'object',
              required: ['data'],
              properties: { data: { type: 'array', items: ref('Subscription') } },
            }),
            '401': problem,
          },
        },
        post: {
          operationId: 'subscribe',
          summary: 'Subscribe an endpoint; the signing secret is in the answer, once',
          tags: ['webhooks'],
          ...keyed,
          requestBody: jsonBody(ref('SubscriptionInput')),
          responses: {
            '201': {
              ...ok('Created', {
                allOf: [
                  ref('Subscription'),
                  { type: 'object', required: ['secret'], properties: { secret: { type: 'string' } } },
                ],
              }),
              headers: { location: { description: 'The new subscription', schema: { type: 'string' } } },
              links: subscriptionLinks,
            },
            ...bodyProblems,
          },
        },
      },
      '/subscriptions/{id}': {
        get: {
          operationId: 'subscription',
          tags: ['webhooks'],
          ...keyed,
          parameters: [id],
          responses: { '200': ok('The subscription', ref('Subscription')), '401': problem, '404': problem },
        },
        patch: {
          operationId: 'updateSubscription',
          tags: ['webhooks'],
          ...keyed,
          parameters: [id],
          requestBody: jsonBody(ref('SubscriptionPatch')),
          responses: {
            '200': ok('Updated', ref('Subscription')),
            ...bodyProblems,
            '404': problem,
          },
        },
        delete: {
          operationId: 'deleteSubscription',
          tags: ['webhooks'],
          ...keyed,
          parameters: [id],
          responses: { '204': { description: 'Deleted' }, '401': problem, '404': problem },
        },
      },
      '/subscriptions/{id}/rotate-secret': {
        post: {
          operationId: 'rotateSecret',
          summary: 'A new signing secret; the old one signs too for 24 h',
          tags: ['webhooks'],
          ...keyed,
          parameters: [id],
          responses: {
            '200': ok('The new secret', {
              type: 'object',
              required: ['secret', 'previousValidUntil'],
              properties: {
                secret: { type: 'string' },
                previousValidUntil: { type: 'string', format: 'date-time' },
              },
            }),
            '401': problem,
            '404': problem,
          },
        },
      },
      '/subscriptions/{id}/deliveries': {
        get: {
          operationId: 'deliveries',
          summary: 'The latest deliveries of a subscription, with their attempts',
          tags: ['webhooks'],
          ...keyed,
          parameters: [
            id,
            queryParameter('status', 'only deliveries in this state', {
              type: 'string',
              enum: ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'],
            }),
          ],
          responses: {
            '200': {
              ...ok('Deliveries', {
                type: 'object',
                required: ['data'],
                properties: { data: { type: 'array', items: ref('Delivery') } },
              }),
              links: {
                replayDelivery: {
                  operationId: 'replayDelivery',
                  parameters: { id: '$response.body#/data/0/id' },
                },
              },
            },
            '400': problem,
            '401': problem,
            '404': problem,
          },
        },
      },
      '/subscriptions/{id}/replay': replay(
        'replayFailed',
        'Deliver every failed delivery of the subscription again',
      ),
      '/deliveries/{id}/replay': replay('replayDelivery', 'Deliver one delivery again (same webhook-id)'),
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'The API key (Secrets Manager)' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['message'],
                properties: { parameter: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
        IndicatorValue: {
          type: 'object',
          required: ['takenAt', 'transformId', 'runIds', 'series', 'label', 'measure', 'value'],
          properties: {
            takenAt: { type: 'string', format: 'date-time', description: 'when the pass published it' },
            transformId: { type: 'string', format: 'uuid' },
            runIds: { type: 'array', items: { type: 'string' } },
            series: { type: 'object', description: "the series' key columns and values ({}: one series)" },
            label: { type: ['string', 'null'] },
            measure: { type: 'string' },
            value: { type: ['number', 'null'] },
          },
        },
        PageLinks: {
          type: 'object',
          required: ['self', 'next'],
          properties: { self: { type: 'string' }, next: { type: ['string', 'null'] } },
        },
        DatasetSummary: {
          type: 'object',
          required: ['id', 'kind', 'title', 'links'],
          properties: {
            id: { type: 'string' },
            kind: { enum: ['dataset', 'model'] },
            title: { type: 'string' },
            description: { type: ['string', 'null'] },
            links: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        Dataset: {
          allOf: [
            ref('DatasetSummary'),
            {
              type: 'object',
              required: ['rows', 'fields'],
              properties: {
                rows: { type: 'integer' },
                licence: { type: 'string' },
                spatial: { type: 'boolean' },
                lastLoadedAt: { type: ['string', 'null'], format: 'date-time' },
                fields: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['name', 'type', 'filters'],
                    properties: {
                      name: { type: 'string' },
                      type: { type: 'string' },
                      description: { type: ['string', 'null'] },
                      filters: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
          ],
        },
        Run: {
          type: 'object',
          required: ['id', 'trigger', 'status', 'startedAt'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            trigger: { type: 'string' },
            dataset: { type: ['string', 'null'] },
            status: { enum: ['running', 'succeeded', 'failed', 'skipped'] },
            startedAt: { type: 'string', format: 'date-time' },
            finishedAt: { type: ['string', 'null'], format: 'date-time' },
            error: { type: ['string', 'null'] },
          },
        },
        RunDetail: {
          allOf: [
            ref('Run'),
            {
              type: 'object',
              required: ['steps', 'files'],
              properties: {
                steps: { type: 'array', items: { type: 'object' } },
                files: { type: 'array', items: { type: 'object' } },
              },
            },
          ],
        },
        SubscriptionInput: {
          ...subscriptionInput,
          required: ['url', 'events'],
          examples: [
            {
              url: 'https://hooks.example.org/datacycle',
              events: ['dataset.published'],
              owner: 'data@example.org',
              description: 'Rebuild the dashboard when a dataset is published',
            },
          ],
        },
        SubscriptionPatch: subscriptionInput,
        Subscription: {
          type: 'object',
          required: ['id', 'url', 'events', 'enabled'],
          properties: {
            id: { type: 'string' },
            origin: { enum: ['project', 'api'] },
            name: { type: ['string', 'null'] },
            url: { type: 'string' },
            events: { type: 'array', items: { type: 'string' } },
            datasets: { type: ['array', 'null'], items: { type: 'string' } },
            enabled: { type: 'boolean' },
            disabledReason: { type: ['string', 'null'] },
            owner: { type: ['string', 'null'] },
            description: { type: ['string', 'null'] },
            retrySchedule: { type: ['array', 'null'], items: { type: 'integer' } },
            failingSince: { type: ['string', 'null'] },
            createdAt: { type: 'string' },
            updatedAt: { type: 'string' },
          },
        },
        Delivery: {
          type: 'object',
          required: ['id', 'eventType', 'status', 'attempts'],
          properties: {
            id: { type: 'string' },
            eventId: { type: 'string' },
            eventType: { type: 'string' },
            status: { type: 'string' },
            attempts: { type: 'integer' },
            nextAttemptAt: { type: ['string', 'null'] },
            lastStatusCode: { type: ['integer', 'null'] },
            lastError: { type: ['string', 'null'] },
            createdAt: { type: 'string' },
            log: { type: 'array', items: { type: 'object' } },
          },
        },
        Replayed: {
          type: 'object',
          required: ['replayed'],
          properties: { replayed: { type: 'array', items: { type: 'string' } } },
        },
        ...rowSchemas,
      },
    },
  };
}
