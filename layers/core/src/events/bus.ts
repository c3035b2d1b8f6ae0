import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** The project's EventBridge bus (EVENT_BUS_NAME), as functions hold it. */
export interface EventBus {
  client: EventBridgeClient;
  name: string;
}

/** The source of every datacycle event; rules match on it and on the detail-type. */
export const EVENT_SOURCE = 'datacycle';

/** Detail-types of the pipeline's events, in the order a run emits them. */
export const pipelineEvents = {
  /** A file's rows are in the warehouse: { dataset, runId, rows }. */
  datasetLoaded: 'datacycle.dataset.loaded',
  /**
   * A transform pass took loads in and its error-level tests passed (models rebuilt, or none
   * to rebuild): { datasets, models, runIds, transformId }. Publication starts from it.
   */
  datasetTransformed: 'datacycle.dataset.transformed',
  /** Exports of datasets and models are out: { outputs, runIds }. */
  outputsPublished: 'datacycle.outputs.published',
} as const;

/** Puts one event on the bus; throws when the bus refuses it. */
export async function publishEvent(bus: EventBus, detailType: string, detail: object): Promise<void> {
  const result = await bus.client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus.name,
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  if (result.FailedEntryCount)
    throw new Error(result.Entries?.[0]?.ErrorMessage ?? 'event refused by the bus');
}
