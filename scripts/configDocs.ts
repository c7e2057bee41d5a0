import { readFileSync, writeFileSync } from 'node:fs';
import type { TObject, TSchema } from '@sinclair/typebox';
import { SERVER_ENV_SETTINGS, ServerConfig } from '@longshore/server';
import { WORKER_ENV_SETTINGS, WorkerConfig } from '@longshore/worker';
import { prettyMarkdown } from './prettyMarkdown.js';
import { readChartSchema, readDefaultValues, valuesTable, writeChartReadmes } from './chartDocs.js';

/**
 * The configuration tables of the README, generated from the schemas each process validates
 * its configuration with, so the documentation cannot drift from the code.
 * `npm run docs` rewrites them (and the charts' README values tables); a test fails when they are stale.
 */
function table(schema: TObject, env: Record<string, string> = {}): string {
  const envOf = Object.fromEntries(Object.entries(env).map(([k, v]) => [v, k]));
  const rows = Object.entries(schema.properties as Record<string, TSchema>).map(([name, s]) => {
    const type = s.anyOf
      ? (s.anyOf as TSchema[]).map((x) => JSON.stringify(x.const)).join(' \\| ')
      : String(s.type ?? 'string');
    const dflt = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    const required = (schema.required ?? []).includes(name) && s.default === undefined ? ' (required)' : '';
    const envName = envOf[name] ? `\`${envOf[name]}\`` : '';
    return `| \`${name}\`${required} | ${type} | ${dflt} | ${envName} | ${(s.description ?? '').replaceAll('|', '\\|').replaceAll('<', '&lt;')} |`;
  });
  return ['| setting | type | default | environment | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

export const generatedSections: Record<string, string> = {
  'server-config': table(ServerConfig, SERVER_ENV_SETTINGS),
  'worker-config': table(WorkerConfig, WORKER_ENV_SETTINGS),
  'chart-values': valuesTable(readChartSchema(), readDefaultValues()),
};

const README = new URL('../README.md', import.meta.url);

export async function renderReadme(readme: string): Promise<string> {
  let out = readme;
  for (const [name, body] of Object.entries(generatedSections)) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- generated:${name} --> section`);
    out = out.replace(re, `$1\n${body}\n$2`);
  }
  return prettyMarkdown(out, README);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(README, await renderReadme(readFileSync(README, 'utf8')));
  await writeChartReadmes();
}
