import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type pg from 'pg';
import { z } from 'zod';
import { assertAllowedUrl, plainHttpAllowed, type NetworkPolicy } from '../../platform/net/guard';
import { webhookEventTypes } from '../../platform/events';
import { retryScheduleSchema, type Project } from '../../platform/project';
import { inTransaction } from '../../platform/warehouse';
import { createSigningSecret, deleteSigningSecret, signingSecretExists, type SecretStore } from './secrets';

/**
 * The rules of a subscription's fields, shared by the validation below and the OpenAPI
 * document (so that what the document declares valid is what the API takes).
 */
export const subscriptionRules = {
  /**
   * An absolute https URL at a host name, its path in printable ASCII (RFC 3986: other
   * characters percent-encoded), with no credentials. A host given as an IP address is taken
   * only where the network allow-list has it, over plain http only if it names it (see
   * checkInput).
   */
  urlPattern:
    '^https://([A-Za-z0-9-]+\\.)*[A-Za-z][A-Za-z0-9-]*\\.?(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?#][!-~]*)?$',
  /** An RFC 5322 dot-atom address at a domain name. */
  emailPattern:
    "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$",
  emailMaxLength: 254,
  /** Free text without NUL (PostgreSQL text cannot hold it). */
  textPattern: '^[^\\u0000]*$',
  /** Counted in characters (code points), as JSON Schema counts them. */
  descriptionMaxLength: 500,
} as const;

const codePoints = (text: string) => [...text].length;

/** An http(s) URL whose host is an IP address (the network policy then decides). */
function isIpLiteralUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return /^https?:$/.test(parsed.protocol) && isIP(parsed.hostname.replace(/^\[|\]$/g, '')) !== 0;
}

/** A subscription as the API takes it. */
export const subscriptionInputSchema = z.strictObject({
  url: z
    .string()
    .refine(
      (url) => new RegExp(subscriptionRules.urlPattern).test(url) || isIpLiteralUrl(url),
      'an absolute https URL at a host name (percent-encode other characters), or an http(s) URL at an IP address the network allow-list names',
    ),
  events: z.array(z.enum(webhookEventTypes)).min(1),
  datasets: z.array(z.string().min(1)).min(1).optional(),
  owner: z
    .string()
    .max(subscriptionRules.emailMaxLength)
    .regex(new RegExp(subscriptionRules.emailPattern), 'an e-mail address')
    .optional(),
  description: z
    .string()
    .regex(new RegExp(subscriptionRules.textPattern), 'no NUL character')
    .refine(
      (text) => codePoints(text) <= subscriptionRules.descriptionMaxLength,
      `at most ${subscriptionRules.descriptionMaxLength} characters`,
    )
    .optional(),
  enabled: z.boolean().default(true),
  /** Seconds before each attempt (the platform's schedule when absent). */
  retrySchedule: retryScheduleSchema.optional(),
});

export const subscriptionPatchSchema = subscriptionInputSchema.partial();

export type SubscriptionInput = z.input<typeof subscriptionInputSchema>;

/** A subscription as the API shows it (never its secret). */
export interface Subscription {
  id: string;
  origin: 'project' | 'api';
  name: string | null;
  url: string;
  events: string[];
  datasets: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  owner: string | null;
  description: string | null;
  retrySchedule: number[] | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SubscriptionContext {
  pool: pg.Pool;
  secrets: SecretStore;
  project: Project;
}

/** A subscription input the platform refuses, with what to change. */
export class SubscriptionError extends Error {
  override name = 'SubscriptionError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

interface SubscriptionRow {
  id: string;
  origin: 'project' | 'api';
  name: string | null;
  url: string;
  event_types: string[];
  datasets: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  owner_email: string | null;
  description: string | null;
  retry_schedule: number[] | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toSubscription = (row: SubscriptionRow): Subscription => ({
  id: row.id,
  origin: row.origin,
  name: row.name,
  url: row.url,
  events: row.event_types,
  datasets: row.datasets,
  enabled: row.enabled,
  disabledReason: row.disabled_reason,
  owner: row.owner_email,
  description: row.description,
  retrySchedule: row.retry_schedule,
  failingSince: row.failing_since?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export const newSubscriptionId = () => `sub_${randomBytes(12).toString('base64url')}`;

/** Checks what the schema cannot: a reachable URL, known datasets. */
function checkInput(
  project: Project,
  input: { url?: string; datasets?: string[] },
  network: NetworkPolicy,
): void {
  if (input.url) {
    let url: URL;
    try {
      url = assertAllowedUrl(input.url, network);
    } catch (error) {
      throw new SubscriptionError((error as Error).message, 'url');
    }
    if (url.protocol === 'http:' && !plainHttpAllowed(url, network))
      throw new SubscriptionError(
        `${input.url}: webhooks are delivered over https (their payloads and signatures must not ` +
          "travel in clear); plain http only to an IP address the project's network.allow names",
        'url',
      );
  }
  const known = new Set([...project.datasets.map((d) => d.id), ...project.models.map((m) => m.name)]);
  for (const dataset of input.datasets ?? [])
    if (!known.has(dataset))
      throw new SubscriptionError(`${dataset} is not a dataset or model of the project`, 'datasets');
}

/** Creates a subscription and its signing secret; the secret is returned once, here. */
export async function createSubscription(
  context: Omit<SubscriptionContext, 'pool'> & { pool: pg.Pool | pg.PoolClient },
  input: z.output<typeof subscriptionInputSchema>,
  declared?: { name: string },
): Promise<{ subscription: Subscription; secret: string }> {
  checkInput(context.project, input, context.project.config.network);
  const id = newSubscriptionId();
  const secret = await createSigningSecret(context.secrets, id);
  const { rows } = await context.pool.query<SubscriptionRow>(
    `INSERT INTO ops.subscriptions (id, origin, name, url, event_types, datasets, enabled, owner_email, description, retry_schedule, secret_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [
      id,
      declared ? 'project' : 'api',
      declared?.name ?? null,
      input.url,
      input.events,
      input.datasets ?? null,
      input.enabled,
      input.owner ?? null,
      input.description ?? null,
      input.retrySchedule ?? null,
      `${context.secrets.prefix}${id}`,
    ],
  );
  return { subscription: toSubscription(rows[0]!), secret };
}

export async function listSubscriptions(pool: pg.Pool): Promise<Subscription[]> {
  const { rows } = await pool.query<SubscriptionRow>(
    'SELECT * FROM ops.subscriptions ORDER BY created_at, id',
  );
  return rows.map(toSubscription);
}

export async function getSubscription(pool: pg.Pool, id: string): Promise<Subscription | undefined> {
  const { rows } = await pool.query<SubscriptionRow>('SELECT * FROM ops.subscriptions WHERE id = $1', [id]);
  return rows[0] ? toSubscription(rows[0]) : undefined;
}

/** Changes a subscription; enabling it again clears its failure record. */
export async function updateSubscription(
  context: SubscriptionContext,
  id: string,
  patch: z.output<typeof subscriptionPatchSchema>,
): Promise<Subscription | undefined> {
  checkInput(context.project, patch, context.project.config.network);
  const { rows } = await context.pool.query<SubscriptionRow>(
    `UPDATE ops.subscriptions SET
       url = coalesce($2, url),
       event_types = coalesce($3, event_types),
       datasets = CASE WHEN $4::boolean THEN $5 ELSE datasets END,
       enabled = coalesce($6, enabled),
       disabled_reason = CASE WHEN $6 THEN NULL WHEN $6 = false THEN 'disabled by its owner' ELSE disabled_reason END,
       failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
       owner_email = coalesce($7, owner_email),
       description = coalesce($8, description),
       retry_schedule = coalesce($9, retry_schedule),
       updated_at = now()
     WHERE id = $1 RETURNING *`,
    [
      id,
      patch.url ?? null,
      patch.events ?? null,
      'datasets' in patch,
      patch.datasets ?? null,
      patch.enabled ?? null,
      patch.owner ?? null,
      patch.description ?? null,
      patch.retrySchedule ?? null,
    ],
  );
  return rows[0] ? toSubscription(rows[0]) : undefined;
}

export async function deleteSubscription(context: SubscriptionContext, id: string): Promise<boolean> {
  const { rowCount } = await context.pool.query('DELETE FROM ops.subscriptions WHERE id = $1', [id]);
  if (rowCount) await deleteSigningSecret(context.secrets, id);
  return Boolean(rowCount);
}

/**
 * Keeps the subscriptions of datacycle.yaml in step with it: new ones are created (with a
 * secret), changed ones updated (and enabled as declared), removed ones disabled. One that the
 * platform disabled (failures, 410) stays disabled until its declaration changes or someone
 * enables it again.
 */
export async function syncProjectSubscriptions(context: SubscriptionContext): Promise<{ created: string[] }> {
  const declared = context.project.config.webhooks.subscriptions;
  const created: string[] = [];
  await inTransaction(context.pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('datacycle:subscriptions'))`);
    // Declared names are kept as <project>/<name>: a database shared by projects keeps them apart.
    const scoped = (name: string) => `${context.project.config.name}/${name}`;
    const { rows } = await client.query<SubscriptionRow>(
      `SELECT * FROM ops.subscriptions WHERE origin = 'project' AND starts_with(name, $1)`,
      [scoped('')],
    );
    const existing = new Map(rows.map((row) => [row.name!, row]));
    for (const entry of declared) {
      const row = existing.get(scoped(entry.name));
      const wanted = {
        url: entry.url,
        events: entry.events,
        datasets: entry.datasets,
        owner: entry.owner,
        description: entry.description,
        enabled: entry.enabled,
      };
      if (!row) {
        const { subscription } = await createSubscription({ ...context, pool: client }, wanted, {
          name: scoped(entry.name),
        });
        created.push(subscription.id);
        continue;
      }
      // Its secret may be gone (a local cloud starts empty): a new one is made.
      if (!(await signingSecretExists(context.secrets, row.id)))
        await createSigningSecret(context.secrets, row.id);
      const same =
        row.url === entry.url &&
        JSON.stringify(row.event_types) === JSON.stringify(entry.events) &&
        JSON.stringify(row.datasets) === JSON.stringify(entry.datasets ?? null) &&
        row.owner_email === (entry.owner ?? null) &&
        row.description === (entry.description ?? null);
      if (!same)
        await client.query(
          `UPDATE ops.subscriptions SET url = $2, event_types = $3, datasets = $4, owner_email = $5, description = $6,
             enabled = $7, disabled_reason = CASE WHEN $7 THEN NULL ELSE 'disabled in datacycle.yaml' END,
             failing_since = NULL, updated_at = now() WHERE id = $1`,
          [
            row.id,
            entry.url,
            entry.events,
            entry.datasets ?? null,
            entry.owner ?? null,
            entry.description ?? null,
            entry.enabled,
          ],
        );
    }
    const names = new Set(declared.map((entry) => scoped(entry.name)));
    for (const row of rows)
      if (!names.has(row.name!) && row.enabled)
        await client.query(
          `UPDATE ops.subscriptions SET enabled = false, disabled_reason = 'removed from datacycle.yaml', updated_at = now() WHERE id = $1`,
          [row.id],
        );
  });
  return { created };
}
