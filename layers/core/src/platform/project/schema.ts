import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { webhookEventTypes } from '../events/webhook-catalog';
import { dataTestSchema } from './test-declarations';

/** Identifiers of datasets become table names and S3 prefixes: keep them boring. */
export const datasetIdPattern = /^[a-z][a-z0-9-]{0,62}$/;

/** The EU data-theme vocabulary (publications.europa.eu/resource/authority/data-theme). */
export const euDataThemeCodes = [
  'AGRI',
  'ECON',
  'EDUC',
  'ENER',
  'ENVI',
  'GOVE',
  'HEAL',
  'INTR',
  'JUST',
  'REGI',
  'SOCI',
  'TECH',
  'TRAN',
] as const;
const scheduleExpression = z
  .string()
  .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/, {
    message: 'expected an EventBridge expression: rate(1 day), rate(6 hours) or cron(0 5 * * ? *)',
  });

/** How often the data changes (DCAT dct:accrualPeriodicity, EU frequency vocabulary). */
export const updateFrequency = z.enum([
  'continuous',
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'annual',
  'irregular',
  'never',
]);

const s3Source = z.strictObject({
  type: z.literal('s3'),
  /** Prefix in the landing bucket where producers drop files, e.g. `irve-statique/`. */
  prefix: z.string().regex(/^[a-z0-9][a-z0-9-/]*\/$/, { message: 'a prefix ending with "/"' }),
});

/**
 * Credentials of a remote source: a header whose value comes from a Secrets Manager secret
 * (its name), read at collection time. Keys and tokens never sit in the project files.
 */
const sourceAuth = z.strictObject({
  header: z.string().min(1).default('Authorization'),
  /** Put before the secret's value, e.g. "Bearer " or "Apikey ". */
  prefix: z.string().default(''),
  secret: z.string().regex(/^[\w/+=.@-]{1,512}$/, { message: 'a Secrets Manager secret name' }),
});

const httpSource = z.strictObject({
  type: z.literal('http'),
  url: z.url(),
  schedule: scheduleExpression,
  auth: sourceAuth.optional(),
  /** File name given to the collected copy; the extension tells the format. */
  filename: z
    .string()
    .regex(/^[\w.-]+$/)
    .optional(),
});

const pagination = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('offset'),
    offsetParam: z.string().default('offset'),
    limitParam: z.string().default('limit'),
    pageSize: z.number().int().positive().default(100),
  }),
  z.strictObject({
    type: z.literal('page'),
    pageParam: z.string().default('page'),
    sizeParam: z.string().optional(),
    pageSize: z.number().int().positive().default(100),
    firstPage: z.number().int().nonnegative().default(1),
  }),
  /** The next page's URL is in the body, at `nextPath` (e.g. `links.next`, `next_page`). */
  z.strictObject({ type: z.literal('next-url'), nextPath: z.string().min(1) }),
  /** RFC 8288 `Link: <…>; rel="next"` header. */
  z.strictObject({ type: z.literal('link-header') }),
  z.strictObject({ type: z.literal('none') }),
]);

/**
 * Paginated JSON records, written as NDJSON to the landing zone; or, with the opendatasoft
 * preset and an exports URL (…/exports/csv), the whole dataset as one file.
 */
const apiSource = z
  .strictObject({
    type: z.literal('api'),
    url: z.url(),
    schedule: scheduleExpression,
    auth: sourceAuth.optional(),
    /** Presets fill in records path and pagination for well-known platforms. */
    preset: z.enum(['opendatasoft']).optional(),
    /** Where the records are in each page (dot path; empty for a top-level array). */
    recordsPath: z.string().optional(),
    pagination: pagination.optional(),
    /** No infinite pagination: a hard stop. */
    maxPages: z.number().int().positive().default(1000),
    /**
     * Incremental extraction: only records past the cursor (the highest `field` seen so far,
     * kept in ops.source_state). The cursor goes in query parameter `param`, through
     * `template` when the API wants an expression (e.g. OpenDataSoft's where: "maj > '{cursor}'").
     */
    incremental: z
      .strictObject({
        field: z.string().min(1),
        param: z.string().min(1),
        template: z.string().includes('{cursor}').optional(),
      })
      .optional(),
  })
  .superRefine((source, context) => {
    if (source.incremental && source.preset === 'opendatasoft' && /\/exports\/[^/]+\/?$/.test(source.url)) {
      context.addIssue({
        code: 'custom',
        path: ['incremental'],
        message:
          'an OpenDataSoft exports URL is collected whole (a full refresh): use the …/records endpoint for incremental collection',
      });
    }
  });

/** OGC WFS 2.0 GetFeature as GeoJSON, paged with startIndex/count. */
const wfsSource = z.strictObject({
  type: z.literal('wfs'),
  url: z.url(),
  typeName: z.string().min(1),
  schedule: scheduleExpression,
  auth: sourceAuth.optional(),
  pageSize: z.number().int().positive().default(1000),
  maxPages: z.number().int().positive().default(1000),
});

/** A dataset of a udata portal (data.gouv.fr): one of its resources, picked by format and title. */
const udataSource = z.strictObject({
  type: z.literal('udata'),
  dataset: z.string().min(1),
  api: z.url().default('https://www.data.gouv.fr/api/1'),
  format: z.string().optional(),
  title: z.string().optional(),
  schedule: scheduleExpression,
});

/**
 * Partners POST files to the stack's push endpoint. The stack creates one signing secret per
 * push source in Secrets Manager; `hmac` requests are signed with it, `api-key` ones carry it.
 */
const pushSource = z.strictObject({
  type: z.literal('push'),
  auth: z.enum(['hmac', 'api-key']).default('hmac'),
});

export const sourceSchema = z.discriminatedUnion('type', [
  s3Source,
  httpSource,
  apiSource,
  udataSource,
  wfsSource,
  pushSource,
]);

export const datasetSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().min(1),
  /** Who answers for the dataset (the portal's catalogue of sources); default: the project's contact. */
  owner: z.strictObject({ name: z.string().min(1), email: z.email().optional() }).optional(),
  keywords: z.array(z.string().min(1)).default([]),
  /** EU data themes (e.g. TRAN, ENER, ENVI, REGI): the codes of the EU data-theme vocabulary. */
  theme: z.array(z.enum(euDataThemeCodes)).default([]),
  licence: z.string().min(1).optional(),
  spatial: z.strictObject({ coverage: z.string().min(1) }).optional(),
  temporal: z.strictObject({ start: z.coerce.date().optional(), end: z.coerce.date().optional() }).optional(),
  accrualPeriodicity: updateFrequency,
  /** Path of the Frictionless Table Schema, relative to this file. */
  schema: z.string().min(1),
  sources: z.array(sourceSchema).min(1),
  load: z
    .strictObject({
      mode: z.enum(['replace', 'append', 'upsert']).default('replace'),
    })
    .default({ mode: 'replace' }),
  onInvalid: z
    .strictObject({
      policy: z.enum(['reject', 'load-valid']).default('reject'),
      /** With load-valid: the highest share of invalid rows still accepted (0..1). */
      maxErrorRate: z.number().min(0).max(1).default(0.05),
    })
    .default({ policy: 'reject', maxErrorRate: 0.05 }),
  format: z
    .strictObject({
      delimiter: z.enum([',', ';', '\t', '|']).optional(),
      encoding: z.enum(['utf-8', 'windows-1252', 'latin1']).optional(),
      /** XLSX: the sheet to read, by 1-based number or name (default: the first). */
      sheet: z.union([z.number().int().positive(), z.string().min(1)]).optional(),
    })
    .optional(),
  /** Formats published after each load whose tests pass (geojson only for spatial data). */
  exports: z.array(z.enum(['csv', 'xlsx', 'geojson', 'parquet'])).default(['csv']),
  /** The CSV export's dialect: `;` and a byte order mark suit spreadsheet users in France. */
  csvExport: z
    .strictObject({ delimiter: z.enum([',', ';']).default(','), bom: z.boolean().default(false) })
    .default({ delimiter: ',', bom: false }),
  /** Data tests on the loaded table, run before the models that read it are published. */
  tests: z.array(dataTestSchema).default([]),
});

const addressRange = z
  .string()
  .refine((value) => (value.includes('/') ? ipaddr.isValidCIDR(value) : ipaddr.isValid(value)), {
    message: 'an IP address or a CIDR range, e.g. 127.0.0.1/32 or 10.0.0.0/8',
  });

/** Standard schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about a day). */
export const defaultRetrySchedule = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/** Seconds before each attempt (the first is usually 0); 12 h at most between two attempts. */
export const retryScheduleSchema = z.array(z.number().int().min(0).max(43_200)).min(1).max(12);

export const webhooksSchema = z.strictObject({
  retrySchedule: retryScheduleSchema.default(defaultRetrySchedule),
  /** A subscription whose deliveries have failed for this long is disabled, its owner alerted. */
  disableAfterHours: z
    .number()
    .positive()
    .max(24 * 30)
    .default(72),
  subscriptions: z
    .array(
      z.strictObject({
        /** Stable name: the subscription is kept in step with this entry at each deploy. */
        name: z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,62}$/, { message: 'lower-case letters, digits and dashes' }),
        url: z.url({ protocol: /^https?$/ }),
        events: z.array(z.enum(webhookEventTypes)).min(1),
        /** Only events of these datasets or models (all when absent). */
        datasets: z.array(z.string().min(1)).min(1).optional(),
        owner: z.email().optional(),
        description: z.string().optional(),
        enabled: z.boolean().default(true),
      }),
    )
    .default([]),
});

/**
 * A threshold on an indicator's measure: crossing it (the value goes from its side to beyond,
 * or a first value is beyond) raises an alert and an indicator.threshold_crossed webhook event.
 */
export const thresholdSchema = z
  .strictObject({
    model: z.string().min(1),
    measure: z.string().min(1),
    above: z.number().optional(),
    below: z.number().optional(),
    /** Only these series (key column → value); all series otherwise. */
    series: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    severity: z.enum(['warning', 'error']).default('warning'),
    /** What the threshold means, in the alert's title. */
    title: z.string().min(1).optional(),
  })
  .refine((threshold) => (threshold.above === undefined) !== (threshold.below === undefined), {
    message: 'a threshold has either above or below',
  });

export type Threshold = z.infer<typeof thresholdSchema>;

export const projectSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, { message: 'lower-case letters, digits and dashes' }),
  title: z.string().min(1),
  /** The datacycle versions this project works with, as an npm range (e.g. "^0.1.0"); checked by the CLI. */
  datacycle: z.string().min(1).optional(),
  description: z.string().min(1).optional(),
  publisher: z.strictObject({ name: z.string().min(1), url: z.url().optional() }),
  contact: z.strictObject({ name: z.string().min(1), email: z.email() }),
  licence: z.string().min(1),
  language: z.string().min(2).default('fr'),
  transform: z
    .strictObject({
      /**
       * Loads within this many seconds are taken in by one transform pass (a burst of drops
       * rebuilds the models once). Longer: fewer passes; shorter: fresher models.
       */
      coalesceSeconds: z.number().int().min(0).max(300).default(60),
    })
    .default({ coalesceSeconds: 60 }),
  ingest: z
    .strictObject({
      /**
       * Memory of the ingest function. Lambda gives CPU in proportion (one vCPU at 1769 MB),
       * and validation is CPU-bound: below that, large files take longer for the same cost.
       */
      memoryMb: z.number().int().min(512).max(10240).default(1769),
      /** Longest an ingest invocation may run (it takes up to 5 files). */
      timeoutMinutes: z.number().int().min(1).max(15).default(5),
    })
    .default({ memoryMb: 1769, timeoutMinutes: 5 }),
  backups: z
    .strictObject({
      /** When the raw, enriched and ops schemas are backed up (kept 35 days). */
      schedule: scheduleExpression.default('cron(0 3 * * ? *)'),
    })
    .default({ schedule: 'cron(0 3 * * ? *)' }),
  indicators: z
    .strictObject({ thresholds: z.array(thresholdSchema).default([]) })
    .default({ thresholds: [] }),
  /**
   * OpenLineage: every run's events are kept as JSON in the internal bucket (lineage/); with a
   * url (Marquez: …/api/v1/lineage, DataHub's OpenLineage endpoint), they are posted there too.
   */
  lineage: z
    .strictObject({
      url: z.url().optional(),
      /** The namespace of datacycle's jobs and datasets (default: datacycle/<project name>). */
      namespace: z.string().min(1).optional(),
    })
    .default({}),
  alerts: z
    .strictObject({
      channels: z
        .array(
          z.discriminatedUnion('type', [
            /** A Slack- or Mattermost-compatible incoming webhook. */
            z.strictObject({ type: z.literal('webhook'), url: z.url() }),
            /** Email through Amazon SES; the stack declares `from` as an SES identity (verify it once). */
            z.strictObject({
              type: z.literal('email'),
              to: z.union([z.email(), z.array(z.email()).min(1)]),
              from: z.email(),
            }),
          ]),
        )
        .default([]),
    })
    .default({ channels: [] }),
  /**
   * Outgoing requests (collection, webhook deliveries) never reach private, loopback or
   * link-local addresses (cloud metadata included) unless a range here allows them.
   */
  network: z.strictObject({ allow: z.array(addressRange).default([]) }).default({ allow: [] }),
  webhooks: webhooksSchema.default({
    retrySchedule: defaultRetrySchedule,
    disableAfterHours: 72,
    subscriptions: [],
  }),
});

export type DatasetConfig = z.infer<typeof datasetSchema>;
export type WebhooksConfig = z.infer<typeof webhooksSchema>;
export type ProjectConfig = z.infer<typeof projectSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
