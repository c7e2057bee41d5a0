import { LongshoreError } from '@longshore/protocol';

/**
 * The one-line `helm upgrade --install` that installs a Kubernetes worker: pure functions, values
 * in, a command a POSIX shell runs as it reads, out.
 */

export interface HelmInstall {
  release: string;
  chart: string;
  version: string;
  namespace: string;
  /** Chart value paths, in the order the command sets them; a list is set with helm's {a,b}. */
  values: Record<string, string | string[]>;
}

/** What the command sets itself (and existingSecret, which would replace its token); an extra value may not touch them, nor the maps they are in. */
export const COMMAND_VALUES = [
  'server.url',
  'server.certificateThumbprint',
  'registration.token',
  'registration.existingSecret',
  'worker.name',
  'worker.pools',
] as const;

const VALUE_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_-]*(\[\d+\])?)*$/;

/** Refuses an extra value's key that is not a chart value path, or that would undo what the command sets. */
export function checkExtraValueKey(key: string): void {
  if (!VALUE_PATH.test(key)) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `values: '${key}' is not a chart value path: give dotted names such as scriptPods.pendingTimeout (letters, digits, _ and -, with [n] for a list item)`,
      { key },
    );
  }
  const clash = COMMAND_VALUES.find(
    (own) => own === key || own.startsWith(`${key}.`) || key.startsWith(`${own}.`) || key.startsWith(`${own}[`),
  );
  if (clash) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `values: '${key}' clashes with ${clash}: the install command sets the server, the registration (a new token) and the worker's name and pools itself; give name and pools instead`,
      { key },
    );
  }
}

/** A Helm release name (a DNS label of at most 53 characters) for the worker. */
export function releaseName(workerName: string | undefined): string {
  if (workerName === undefined) return 'longshore-worker';
  const label = workerName.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `longshore-worker-${label}`.slice(0, 53).replace(/-+$/, '');
}

/**
 * How long helm waits for the worker to be ready (registered, the server answering): a first
 * install may wait for a node scale-up (2-5 min on the big clouds) and an image pull.
 */
const HELM_TIMEOUT = '10m';

export function helmCommand(install: HelmInstall): string {
  const sets = Object.entries(install.values).flatMap(([path, value]) => [
    '--set',
    `${path}=${Array.isArray(value) ? `{${value.map(helmValue).join(',')}}` : helmValue(value)}`,
  ]);
  // --atomic: a worker that never turns ready (a wrong URL or token, values it refuses) is rolled
  // back, so an upgrade leaves the previous worker running and helm reports the failure.
  const wait = ['--atomic', '--wait', '--timeout', HELM_TIMEOUT];
  const args = [
    'helm',
    'upgrade',
    '--install',
    install.release,
    install.chart,
    '--version',
    install.version,
    '--namespace',
    install.namespace,
    '--create-namespace',
    ...wait,
    ...sets,
  ];
  return args.map(shellQuote).join(' ');
}

/**
 * Helm's --set reads `,` as the next value, `{` first as a list, and `\` as an escape: escaped,
 * each value is taken literally, but typed as --set types it (a number, true or false).
 */
export function helmValue(value: string): string {
  return value.replace(/[\\,{}]/g, '\\$&');
}

/** Single-quoted unless every character is one a shell takes literally. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
