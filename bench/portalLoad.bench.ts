import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { Lab } from '../test/support/lab.js';
import { chromiumMissing, launchChromium, signIn } from '../test/support/portalBrowser.js';
import { percentile, report } from './stats.js';

const DIST = fileURLToPath(new URL('../packages/portal/dist', import.meta.url));
const RUNS = 15;

/** What a first visit downloads: every built file but the source maps, raw and gzipped. */
function bundleSize(): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('.map')) {
        const body = readFileSync(path);
        raw += body.length;
        gzip += gzipSync(body, { level: 9 }).length;
      }
    }
  };
  walk(DIST);
  return { raw, gzip };
}

/**
 * The portal's first load in chromium, cold cache each time: navigation to the sign-in form
 * being usable, against the same for a bare page (one input) from a bare node:http server in the
 * same run, the floor a browser and this machine set. And, signed in, the dashboard with its data.
 */
export async function portalLoadBench(): Promise<Record<string, number | string>> {
  const missing = chromiumMissing();
  if (missing) return { skipped: missing };
  const bare = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><html lang="en"><title>bare</title><label for="k">User name</label><input id="k">');
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
  const lab = new Lab();
  const browser = await launchChromium();
  try {
    await lab.startServer();
    const time = async (visit: (page: Page) => Promise<void>) => {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const start = performance.now();
        await visit(page);
        samples.push(performance.now() - start);
        await context.close();
      }
      return percentile(samples, 50);
    };
    const portal = await time(async (page) => {
      await page.goto(lab.url);
      await page.getByLabel('User name').waitFor();
    });
    const floor = await time(async (page) => {
      await page.goto(bareUrl);
      await page.getByLabel('User name').waitFor();
    });
    const dashboard = await time(async (page) => {
      await signIn(page, lab.url, lab.apiKey);
      await page.getByRole('heading', { name: 'Worker pools' }).waitFor();
    });
    const size = bundleSize();
    return {
      'bundle, raw (KiB)': Math.round(size.raw / 1024),
      'bundle, gzipped as served (KiB)': Math.round(size.gzip / 1024),
      'first load to the sign-in form, p50 (ms)': Math.round(portal),
      'a bare page from node:http, p50 (ms)': Math.round(floor),
      'first load / bare page': Number((portal / floor).toFixed(2)),
      'sign-in to the dashboard with its data, p50 (ms)': Math.round(dashboard),
    };
  } finally {
    await browser.close();
    await lab.close();
    bare.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) report('portal-load', await portalLoadBench());
