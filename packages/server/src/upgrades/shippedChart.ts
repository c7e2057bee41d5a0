import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LongshoreError } from '@longshore/protocol';
import * as tar from 'tar';
import { parse as parseYaml } from 'yaml';
import { parseSemver } from '../resources/semver.js';

const DottedPath = Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' });

/** One entry of the chart's value-migrations.yaml. */
export const ValueMigration = Type.Object(
  {
    since: Type.String({ minLength: 1 }),
    reason: Type.String({ minLength: 1 }),
    move: Type.Optional(Type.Array(Type.Object({ from: DottedPath, to: DottedPath }, { additionalProperties: false }))),
    remove: Type.Optional(Type.Array(DottedPath)),
  },
  { additionalProperties: false },
);
export type ValueMigration = Static<typeof ValueMigration>;

const MigrationsFile = Type.Object({ migrations: Type.Array(ValueMigration) }, { additionalProperties: true });

/** The worker chart this server ships: what an upgrade installs. */
export interface ShippedChart {
  name: string;
  chartVersion: string;
  /** The chart's appVersion: the worker version its default image runs. */
  workerVersion: string;
  /** The chart packaged as helm packages it: `<name>/...` in a gzipped tar. */
  archive: Buffer;
  sha256: string;
  migrations: ValueMigration[];
}

/** The chart beside the server's package in this repository's layout (charts/longshore-worker). */
const BUNDLED_CHART = fileURLToPath(new URL('../../../../charts/longshore-worker', import.meta.url));

/**
 * Which chart the server upgrades with: `upgradeChart`, else `workerChart` when it is a local
 * path (what install commands name is what upgrades install), else the bundled chart; undefined
 * when there is none, and workers are then not upgraded by the server.
 */
export function upgradeChartSource(config: {
  upgradeChart?: string | undefined;
  workerChart: string;
}): string | undefined {
  if (config.upgradeChart !== undefined) return config.upgradeChart;
  const local = isLocalPath(config.workerChart) ? resolve(config.workerChart) : undefined;
  if (local && existsSync(local)) return local;
  return existsSync(join(BUNDLED_CHART, 'Chart.yaml')) ? BUNDLED_CHART : undefined;
}

function isLocalPath(reference: string): boolean {
  return isAbsolute(reference) || reference.startsWith('./') || reference.startsWith('../');
}

/** Reads and packages the chart once, at start; a chart that cannot be used stops the server with its path named. */
export async function loadShippedChart(source: string): Promise<ShippedChart> {
  const fail = (why: string): never => {
    throw new LongshoreError('CONFIG_INVALID', `upgradeChart ${source}: ${why}`);
  };
  if (!existsSync(source)) fail('no such file or directory');
  const isDirectory = statSync(source).isDirectory();
  const files = isDirectory ? directoryFiles(source) : await archiveFiles(source);
  const chartYaml = files.get('Chart.yaml') ?? fail('has no Chart.yaml');
  const chart = parseYaml(chartYaml) as { name?: unknown; version?: unknown; appVersion?: unknown } | null;
  const name = typeof chart?.name === 'string' ? chart.name : fail('Chart.yaml has no name');
  const chartVersion = String(chart?.version ?? '');
  const workerVersion = String(chart?.appVersion ?? '');
  if (!parseSemver(chartVersion)) fail(`Chart.yaml's version '${chartVersion}' is not SemVer`);
  if (!parseSemver(workerVersion)) fail(`Chart.yaml's appVersion '${workerVersion}' is not SemVer`);
  const migrationsYaml = files.get('value-migrations.yaml');
  const parsed: unknown = migrationsYaml === undefined ? { migrations: [] } : parseYaml(migrationsYaml);
  if (!Value.Check(MigrationsFile, parsed)) {
    const first = [...Value.Errors(MigrationsFile, parsed)][0];
    fail(`value-migrations.yaml: ${first?.path || '/'} ${first?.message ?? 'is not valid'}`);
  }
  const { migrations } = parsed as Static<typeof MigrationsFile>;
  for (const m of migrations)
    if (!parseSemver(m.since)) fail(`value-migrations.yaml: since '${m.since}' is not SemVer`);
  const archive = isDirectory ? await packageDirectory(source, name) : readFileSync(source);
  return {
    name,
    chartVersion,
    workerVersion,
    archive,
    sha256: createHash('sha256').update(archive).digest('hex'),
    migrations,
  };
}

/** The chart's top-level files a server reads, by name. */
function directoryFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of ['Chart.yaml', 'value-migrations.yaml']) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, readFileSync(path, 'utf8'));
  }
  return files;
}

/** The same files from a packaged chart, whose entries are `<chart>/<file>`. */
async function archiveFiles(path: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  await tar.t({
    file: path,
    onReadEntry: (entry) => {
      const parts = entry.path.split('/');
      const name = parts[1];
      if (parts.length !== 2 || (name !== 'Chart.yaml' && name !== 'value-migrations.yaml')) return entry.resume();
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.set(name, Buffer.concat(chunks).toString('utf8')));
    },
  });
  return files;
}

/**
 * A chart directory as `helm package` lays it out, with fixed times and owners so the same chart
 * gives the same archive and checksum on every start.
 */
async function packageDirectory(dir: string, name: string): Promise<Buffer> {
  const stream = tar.c(
    { gzip: true, cwd: dir, prefix: name, portable: true, mtime: new Date(0), noDirRecurse: true },
    listFiles(dir),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => {
      const path = prefix ? `${prefix}/${d.name}` : d.name;
      return d.isDirectory() ? listFiles(dir, path) : d.isFile() ? [path] : [];
    });
}
