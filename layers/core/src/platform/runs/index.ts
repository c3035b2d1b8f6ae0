export * from './runs';
export { datasetHealth, type DatasetHealth } from './health';
