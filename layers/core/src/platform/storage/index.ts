export * from './buckets';
export { MeasuredStream } from './measure';
