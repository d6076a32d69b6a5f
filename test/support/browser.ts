// Browser suites (headless Chromium through playwright-core) run where a browser exists. Elsewhere
// they are skipped, loudly, so that `npm test` passes on a fresh machine; CI sets REQUIRE_BROWSER=1,
// which turns a missing browser into a failure instead.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';

const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const required = ['1', 'true'].includes(process.env['REQUIRE_BROWSER'] ?? '');
const present = existsSync(CHROMIUM_PATH);

/** `describe` for a suite that needs Chromium: skipped (and said so) without one, failed in CI. */
export function describeInBrowser(name: string, suite: () => void): void {
  if (present) {
    describe(name, suite);
    return;
  }
  if (required) {
    describe(name, () => {
      it('has a browser to run in', () => {
        throw new Error(`REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH).`);
      });
    });
    return;
  }
  process.stderr.write(
    `\n!!! skipped: no browser. "${name}" needs Chromium at ${CHROMIUM_PATH} ` +
      '(apt-get install -y chromium, or set CHROMIUM_PATH); CI runs it with REQUIRE_BROWSER=1.\n\n',
  );
  describe.skipIf(true)(`${name} (skipped: no browser)`, suite);
}

/** Headless Chromium with the flags this machine's closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
