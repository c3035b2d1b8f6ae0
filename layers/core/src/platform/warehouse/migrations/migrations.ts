import { assignRolesSql, ROLES_MIGRATION } from '../roles';

/**
 * Versioned migrations of the platform's own schemas. Append only: never edit a migration
 * that has shipped, add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'schemas and ops tables',
    sql: `
      CREATE EXTENSION IF NOT EXISTS postgis;
      CREATE SCHEMA IF NOT EXISTS raw;
      CREATE SCHEMA IF NOT EXISTS enriched;
      CREATE SCHEMA IF NOT EXISTS ops;

      CREATE TABLE ops.runs (
        id uuid PRIMARY KEY,
        trigger text NOT NULL,
        dataset text,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX runs_dataset_started ON ops.runs (dataset, started_at DESC);

      CREATE TABLE ops.files (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL REFERENCES ops.runs (id),
        dataset text NOT NULL,
        source_bucket text NOT NULL,
        source_key text NOT NULL,
        sha256 text NOT NULL,
        size_bytes bigint NOT NULL,
        raw_key text,
        status text NOT NULL CHECK (status IN ('loaded', 'rejected', 'duplicate')),
        rows_loaded bigint NOT NULL DEFAULT 0,
        report_key text,
        error text,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      -- A file's content loads once per dataset: the idempotence key of ingestion.
      CREATE UNIQUE INDEX files_loaded_once ON ops.files (dataset, sha256) WHERE status = 'loaded';
      CREATE INDEX files_source ON ops.files (source_bucket, source_key);
      CREATE INDEX files_dataset_received ON ops.files (dataset, received_at DESC);
    `,
  },
  {
    version: 2,
    name: 'source state for conditional collection',
    sql: `
      CREATE TABLE ops.source_state (
        dataset text NOT NULL,
        source_index integer NOT NULL,
        url text NOT NULL,
        etag text,
        last_modified text,
        last_checked_at timestamptz NOT NULL DEFAULT now(),
        last_changed_at timestamptz,
        PRIMARY KEY (dataset, source_index)
      );
    `,
  },
  {
    version: 3,
    name: 'a snapshot may load again when it is not the current one',
    sql: `
      -- Replace and upsert datasets skip only the content loaded last (a producer may roll
      -- back to an earlier file); append datasets skip any content loaded before. Loads of a
      -- dataset are serialised by an advisory lock, so the check cannot race.
      DROP INDEX ops.files_loaded_once;
      CREATE INDEX files_loaded_content ON ops.files (dataset, sha256) WHERE status = 'loaded';
    `,
  },
  {
    version: 4,
    name: 'cursor of incremental sources',
    sql: `ALTER TABLE ops.source_state ADD COLUMN cursor text;`,
  },
  {
    version: 5,
    name: 'alerts',
    sql: `
      CREATE TABLE ops.alerts (
        id bigserial PRIMARY KEY,
        raised_at timestamptz NOT NULL DEFAULT now(),
        kind text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('error', 'warning')),
        subject text,
        run_id uuid,
        title text NOT NULL,
        message text NOT NULL,
        hint text,
        details jsonb NOT NULL DEFAULT '{}',
        -- Set by the notify function once every channel has it.
        delivered_at timestamptz
      );
      CREATE INDEX alerts_recent ON ops.alerts (raised_at DESC);
    `,
  },
  {
    version: 6,
    name: 'run steps',
    sql: `
      -- A run is one pass of the pipeline, from its trigger (schedule, push, drop) to its last
      -- effect; each part that works on it (collect, ingest, transform…) records a step.
      CREATE TABLE ops.run_steps (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL REFERENCES ops.runs (id),
        step text NOT NULL,
        subject text,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX run_steps_of_run ON ops.run_steps (run_id, id);
    `,
  },
  {
    version: 7,
    name: 'data test results',
    sql: `
      -- One row per test per transform pass; the pass is a step of each run it served.
      CREATE TABLE ops.test_results (
        id bigserial PRIMARY KEY,
        transform_id uuid NOT NULL,
        checked_at timestamptz NOT NULL DEFAULT now(),
        subject_kind text NOT NULL CHECK (subject_kind IN ('dataset', 'model')),
        subject text NOT NULL,
        test text NOT NULL,
        kind text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('error', 'warn')),
        status text NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
        failures bigint NOT NULL,
        message text NOT NULL,
        sample jsonb NOT NULL DEFAULT '[]'
      );
      CREATE INDEX test_results_of_transform ON ops.test_results (transform_id);
      CREATE INDEX test_results_recent ON ops.test_results (subject, checked_at DESC);
    `,
  },
  {
    version: 8,
    name: 'monitor state',
    sql: `
      -- What the monitor saw last (e.g. each dead-letter queue's depth), to alert on change.
      CREATE TABLE ops.monitor_state (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        observed_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 9,
    name: 'webhook subscriptions and deliveries',
    sql: `
      -- Who wants to hear of what. The signing secrets live in Secrets Manager (secret_id),
      -- never here.
      CREATE TABLE ops.subscriptions (
        id text PRIMARY KEY,
        -- Declared in datacycle.yaml (kept in step with it) or created through the API.
        origin text NOT NULL CHECK (origin IN ('project', 'api')),
        name text,
        url text NOT NULL,
        event_types text[] NOT NULL,
        datasets text[],
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        owner_email text,
        description text,
        retry_schedule integer[],
        secret_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        -- Start of the current run of failures (NULL once a delivery succeeds).
        failing_since timestamptz
      );
      CREATE UNIQUE INDEX subscriptions_project_name ON ops.subscriptions (name) WHERE origin = 'project';

      -- One message per (event, subscription): its webhook-id, its state, its last attempt.
      CREATE TABLE ops.deliveries (
        id text PRIMARY KEY,
        subscription_id text NOT NULL REFERENCES ops.subscriptions (id) ON DELETE CASCADE,
        event_id text NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_status_code integer,
        last_latency_ms integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      -- A duplicate event reaches each subscription once.
      CREATE UNIQUE INDEX deliveries_once ON ops.deliveries (event_id, subscription_id);
      CREATE INDEX deliveries_of_subscription ON ops.deliveries (subscription_id, created_at DESC);

      -- Every attempt: status code, latency, error.
      CREATE TABLE ops.delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id text NOT NULL REFERENCES ops.deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        latency_ms integer NOT NULL,
        error text,
        outcome text NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'failed', 'gone'))
      );
      CREATE INDEX delivery_attempts_of_delivery ON ops.delivery_attempts (delivery_id, id);
    `,
  },
  {
    version: 10,
    name: 'deliveries are claimed, not locked, while the request is out',
    sql: `
      -- An attempt claims its delivery for a while (status sending) instead of holding a row
      -- lock, so no connection waits on a subscriber; a claim whose function died expires.
      ALTER TABLE ops.deliveries DROP CONSTRAINT deliveries_status_check;
      ALTER TABLE ops.deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'retrying', 'sending', 'succeeded', 'failed', 'cancelled'));
      ALTER TABLE ops.deliveries ADD COLUMN claimed_until timestamptz;
    `,
  },
  {
    version: ROLES_MIGRATION,
    name: 'loader, reader and api roles',
    sql: assignRolesSql,
  },
  {
    version: 12,
    name: 'indicator history',
    sql: `
      -- One value of one measure of one series of an indicator model, per pass that published
      -- it: the history behind /datasets/{name}/history, the portal's time series, thresholds.
      CREATE TABLE ops.indicator_values (
        id bigserial PRIMARY KEY,
        model text NOT NULL,
        taken_at timestamptz NOT NULL,
        transform_id uuid NOT NULL,
        run_ids text[] NOT NULL,
        -- The key columns' values ({} for a one-series indicator), and its label when declared.
        series jsonb NOT NULL,
        label text,
        measure text NOT NULL,
        value double precision
      );
      CREATE INDEX indicator_values_by_time ON ops.indicator_values (model, measure, taken_at, id);
      CREATE INDEX indicator_values_by_series ON ops.indicator_values USING gin (series);
    `,
  },
];
