import { compareSemver, parseSemver } from '../resources/semver.js';

/** The versions this server ships: its worker chart's version and appVersion, or its own version when it has no chart. */
export interface ShippedVersions {
  workerVersion: string;
  chartVersion?: string;
}

export interface WorkerUpgrade {
  available: boolean;
  /** What upgrades it: for a local worker what its operator runs, for a Kubernetes worker the server's own upgrade. */
  command: string | null;
}

export interface UpgradableWorker {
  name: string;
  executor: string;
  version: string;
  /** The worker's metadata as stored (JSON); a Kubernetes worker says its chartVersion there. */
  metadata: string;
}

/** Whether `a` is an older SemVer than `b`; a version that is not SemVer cannot be ordered and is not older. */
function isOlder(a: string | undefined, b: string | undefined): boolean {
  const ours = a === undefined ? undefined : parseSemver(a);
  const theirs = b === undefined ? undefined : parseSemver(b);
  return ours !== undefined && theirs !== undefined && compareSemver(ours, theirs) < 0;
}

/** The chart's worker.drainDeadline, for a worker that does not say its own. */
const DEFAULT_DRAIN_SECONDS = 60;

/** What a Kubernetes worker says of its installation (its metadata, as stored); a drain deadline it does not say is the chart's default. */
export interface Installation {
  chartVersion?: string;
  helmRelease?: string;
  namespace?: string;
  drainSeconds: number;
}

export function installationOf(metadata: string): Installation {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(metadata) as Record<string, unknown>;
  } catch {
    return { drainSeconds: DEFAULT_DRAIN_SECONDS };
  }
  const installation: Installation = { drainSeconds: DEFAULT_DRAIN_SECONDS };
  for (const key of ['chartVersion', 'helmRelease', 'namespace'] as const) {
    const value = parsed[key];
    if (typeof value === 'string' && value) installation[key] = value;
  }
  const drain = Number(parsed.drainDeadlineSeconds);
  if (Number.isFinite(drain) && drain >= 0) installation.drainSeconds = drain;
  return installation;
}

export function chartVersionOf(worker: Pick<UpgradableWorker, 'metadata'>): string | undefined {
  return installationOf(worker.metadata).chartVersion;
}

/** Whether a worker runs an older worker (or chart) than the server ships, and what upgrades it. */
export function workerUpgrade(worker: UpgradableWorker, shipped: ShippedVersions, serverUrl: string): WorkerUpgrade {
  const behind =
    isOlder(worker.version, shipped.workerVersion) ||
    (worker.executor === 'kubernetes' && isOlder(chartVersionOf(worker), shipped.chartVersion));
  if (!behind) return { available: false, command: null };
  if (worker.executor === 'kubernetes') return { available: true, command: `longshore workers upgrade ${worker.name}` };
  return {
    available: true,
    command: `install Longshore ${shipped.workerVersion} on the worker's machine, then restart it: longshore worker --server ${serverUrl} --name ${worker.name} --executor local --data <its data directory>`,
  };
}
