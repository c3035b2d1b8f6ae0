/**
 * The fault scenarios' figures, one JSON file each in .local/faults/, read into
 * docs/reliability.md: what was measured, on which run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { localDir } from '../../localcloud/settings';

export const faultsDir = path.join(localDir, 'faults');

export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  mkdirSync(faultsDir, { recursive: true });
  writeFileSync(
    path.join(faultsDir, `${scenario}.json`),
    `${JSON.stringify({ scenario, measuredAt: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
}
