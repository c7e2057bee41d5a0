import { compareSemver, parseSemver } from '../resources/semver.js';

export interface WorkerUpgrade {
  available: boolean;
  /** For a local worker, what its operator runs; a Kubernetes worker is upgraded by the server (later). */
  command: string | null;
}

/** Whether a worker runs an older Longshore than the server, and for a local one how to upgrade it. */
export function workerUpgrade(
  worker: { name: string; executor: string; version: string },
  serverVersion: string,
  serverUrl: string,
): WorkerUpgrade {
  const theirs = parseSemver(worker.version);
  const ours = parseSemver(serverVersion);
  // A version that is not SemVer cannot be ordered: say nothing rather than guess.
  const available = theirs !== undefined && ours !== undefined && compareSemver(theirs, ours) < 0;
  if (!available || worker.executor !== 'local') return { available, command: null };
  return {
    available,
    command: `install Longshore ${serverVersion} on the worker's machine, then restart it: longshore worker --server ${serverUrl} --name ${worker.name} --executor local --data <its data directory>`,
  };
}
