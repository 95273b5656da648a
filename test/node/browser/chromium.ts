/**
 * Headless Chromium for the browser tests, driven by playwright-core (never a browser
 * download: the system's Chromium, `/usr/bin/chromium` or CHROMIUM_PATH). Without it the
 * tests skip on a developer machine and FAIL under CI, so a CI image without Chromium
 * cannot pass green.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ci = /^(?!0$|false$).+/i.test(process.env.CI ?? '');

/** Skip only outside CI: under CI a missing Chromium makes {@link launchChromium} fail the suite. */
export const skipWithoutChromium = !existsSync(CHROMIUM) && !ci;

/** Launches Chromium, or throws saying how to get it. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
