/**
 * The browser of the portal tests: Debian's Chromium, driven by playwright-core (no browser
 * download). Installed with apt-get when missing and we are root; otherwise says how.
 * Usage: tsx localcloud/chromium.ts
 */
import { existsSync } from 'node:fs';
import { SetupError, run, step } from './process';

/** Where the browser is: CHROMIUM_PATH, or Debian's package. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export async function ensureChromium(): Promise<string> {
  const browser = chromiumPath();
  if (existsSync(browser)) return browser;
  const fix = "install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH";
  if (process.env.CHROMIUM_PATH || process.getuid?.() !== 0)
    throw new SetupError(`no Chromium at ${browser} for the portal's browser tests`, fix);
  try {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 5 * 60_000 });
    await run('apt-get', ['install', '-y', '-qq', 'chromium'], {
      timeoutMs: 15 * 60_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    throw new SetupError(`installing chromium failed: ${(error as Error).message}`, fix);
  }
  if (!existsSync(browser)) throw new SetupError(`chromium installed, but not at ${browser}`, fix);
  return browser;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  step('Chromium for the browser tests', ensureChromium).catch((error: unknown) => {
    console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof SetupError && error.fix) console.error(`  fix: ${error.fix}`);
    process.exit(1);
  });
}
