import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { z } from 'zod';
import { raisedAlertSchema } from './alert';

/** The project's EventBridge bus (EVENT_BUS_NAME), as functions hold it. */
export interface EventBus {
  client: EventBridgeClient;
  name: string;
}

/** The source of every datacycle event; rules match on it and on the detail-type. */
export const EVENT_SOURCE = 'datacycle';

/** A file's rows are in the warehouse (ingest → transform). */
export const datasetLoadedSchema = z.object({
  dataset: z.string().min(1),
  runId: z.string().min(1),
  rows: z.number().int().nonnegative().optional(),
});

/**
 * A transform pass took loads in and its error-level tests passed (models rebuilt and
 * swapped in, or none to rebuild). Publication starts from it (transform → publish).
 */
export const datasetTransformedSchema = z.object({
  transformId: z.string().min(1),
  datasets: z.array(z.string()),
  models: z.array(z.string()),
  runIds: z.array(z.string()),
});

/** Exports of datasets and models are out (publish → webhooks). */
export const outputsPublishedSchema = z.object({
  outputs: z.array(z.string()),
  version: z.string().min(1),
  runIds: z.array(z.string()).default([]),
});

/**
 * Every event on the project's bus: its detail-type and the schema of its detail. The one
 * contract between the stages: publishEvent checks a detail against it before it leaves, and
 * consumers parse what their queue delivers with busEnvelopeSchema.
 */
export const busEvents = {
  'datacycle.dataset.loaded': datasetLoadedSchema,
  'datacycle.dataset.transformed': datasetTransformedSchema,
  'datacycle.outputs.published': outputsPublishedSchema,
  /** Something went wrong that the data team must hear of (→ alert channels, webhooks). */
  'datacycle.alert': raisedAlertSchema,
} as const;

export type BusEventType = keyof typeof busEvents;
export type BusEventDetail<T extends BusEventType> = z.infer<(typeof busEvents)[T]>;

/** Detail-types by the name the code uses for them (CDK rules, tests). */
export const pipelineEvents = {
  datasetLoaded: 'datacycle.dataset.loaded',
  datasetTransformed: 'datacycle.dataset.transformed',
  outputsPublished: 'datacycle.outputs.published',
  alert: 'datacycle.alert',
} as const satisfies Record<string, BusEventType>;

/** Puts one event on the bus; throws when its detail breaks the contract or the bus refuses it. */
export async function publishEvent<T extends BusEventType>(
  bus: EventBus,
  detailType: T,
  detail: BusEventDetail<T>,
): Promise<void> {
  const checked: unknown = busEvents[detailType].parse(detail);
  const result = await bus.client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus.name,
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(checked),
        },
      ],
    }),
  );
  if (result.FailedEntryCount)
    throw new Error(result.Entries?.[0]?.ErrorMessage ?? 'event refused by the bus');
}

/** An event as an EventBridge rule delivers it to a queue: the envelope around the detail. */
export function busEnvelopeSchema<T extends BusEventType>(detailType: T) {
  return z.object({
    id: z.string(),
    time: z.string(),
    source: z.literal(EVENT_SOURCE).optional(),
    'detail-type': z.literal(detailType),
    detail: busEvents[detailType] as (typeof busEvents)[T],
  });
}

export type BusEnvelope<T extends BusEventType> = z.infer<ReturnType<typeof busEnvelopeSchema<T>>>;
