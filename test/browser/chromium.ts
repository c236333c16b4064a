// Debian's Chromium driven by playwright-core (which never downloads a browser): where it is, the
// flags this machine needs (no background networking: the network is closed), a fresh profile
// per launch, and whether a missing browser skips (locally) or fails (CI=true).

import { existsSync } from "node:fs";
import { type BrowserContext, type BrowserContextOptions, chromium } from "playwright-core";
import { createTempDir } from "../helpers/temp-dir.js";

/**
 * Debian's chromium package installs here; .ci/run installs it when missing. SYNCLINE_CHROMIUM
 * names another binary (or a missing one, to check that CI=true fails without a browser).
 */
export const chromiumPath = process.env.SYNCLINE_CHROMIUM ?? "/usr/bin/chromium";

/** Launch flags for a headless root run on a machine without outside network. */
export const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** True when the browser is installed. */
export const hasChromium = existsSync(chromiumPath);

/** Why browser tests cannot run here, or undefined when they can. */
export const chromiumMissing = hasChromium
  ? undefined
  : `${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`;

if (chromiumMissing && !process.env.CI) {
  console.warn(`browser tests skipped: ${chromiumMissing}`);
}

/** A running browser on a fresh profile; `close()` also removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches Chromium on a fresh user-data dir (launchPersistentContext); `options` adds context
 * options (a time zone, a locale, a colour scheme).
 */
export async function launchChromium(
  options: Pick<BrowserContextOptions, "timezoneId" | "locale" | "colorScheme"> = {},
): Promise<TestBrowser> {
  const profile = await createTempDir("syncline-chromium-");
  try {
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1000, height: 900 },
      ...options,
    });
    return {
      context,
      async close() {
        await context.close();
        await profile.remove();
      },
    };
  } catch (error) {
    await profile.remove();
    throw error;
  }
}
