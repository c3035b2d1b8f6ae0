import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { QueueLongPolling } from '../../cdk/constructs/queue-long-polling';

/** A stack with two queue consumers: one with no batching window, one gathering for 5 s. */
function stackWith(aspect?: QueueLongPolling): Template {
  const stack = new Stack(new App(), 'polling');
  const consumer = (id: string, maxBatchingWindow?: Duration) => {
    const fn = new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    fn.addEventSource(
      new SqsEventSource(new sqs.Queue(stack, `${id}Queue`), { batchSize: 10, maxBatchingWindow }),
    );
  };
  consumer('Immediate');
  consumer('Gathering', Duration.seconds(5));
  if (aspect) Aspects.of(stack).add(aspect);
  return Template.fromStack(stack);
}

const windows = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))
    .map(
      (mapping) =>
        (mapping.Properties as { MaximumBatchingWindowInSeconds?: number }).MaximumBatchingWindowInSeconds,
    )
    .sort((a, b) => (a ?? 0) - (b ?? 0));

describe('QueueLongPolling', () => {
  it('gives the queues with no batching window a long poll, and leaves a chosen window alone', () => {
    expect(windows(stackWith(new QueueLongPolling(20)))).toEqual([5, 20]);
  });

  it('is what changes the template: without it, no window is added', () => {
    expect(windows(stackWith())).toEqual([5, undefined]);
  });

  it('refuses what is no SQS long poll', () => {
    expect(() => new QueueLongPolling(0)).toThrow(/from 1 to 20 s/);
    expect(() => new QueueLongPolling(21)).toThrow(/from 1 to 20 s/);
  });
});
