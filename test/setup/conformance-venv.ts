/**
 * Vitest global setup: installs the reference validators' venv once, before any test file
 * runs. Installed lazily instead, the first test to need it paid pip's minutes inside its
 * own timeout on a fresh clone (CI saw the webhook signing test time out at 60 s), and
 * files running in parallel raced to install into the same directory.
 */
import { ensureConformanceVenv } from '../helpers/conformance';

export async function setup(): Promise<void> {
  await ensureConformanceVenv();
}
