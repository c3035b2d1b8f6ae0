import type { Dataset } from './types';

/** Hours a dataset may go without a load, from its declared update frequency (with a margin). */
const maxAgeHours: Record<string, number | undefined> = {
  continuous: 2,
  hourly: 3,
  daily: 36,
  weekly: 8 * 24,
  monthly: 32 * 24,
  quarterly: 93 * 24,
  annual: 370 * 24,
};

export function freshnessLimitHours(dataset: Dataset, declared?: number): number | undefined {
  return declared ?? maxAgeHours[dataset.config.accrualPeriodicity];
}
