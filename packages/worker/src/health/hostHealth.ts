import { readFile, statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import type { HealthCheckResult } from '@longshore/protocol';

/**
 * Below this much free space a worker cannot be trusted with an operation: workspaces, package
 * downloads and their extraction all land there, and a full disk fails them half-way.
 */
const MIN_FREE_DISK_BYTES = 256 * 1024 * 1024;
/** A container this close to its memory limit is about to be OOM-killed with its operations. */
const MIN_MEMORY_HEADROOM_BYTES = 32 * 1024 * 1024;
/** cgroup v1 writes "no limit" as a number near 2^63. */
const NO_LIMIT = 2 ** 60;

export interface HostHealth {
  checks: HealthCheckResult[];
  facts: Record<string, string>;
}

/** Where cgroup files are read: the real /sys/fs/cgroup, or a test's stand-in. */
export interface CgroupFiles {
  read(path: string): Promise<string | undefined>;
}

export const systemCgroup: CgroupFiles = {
  read: (path) => readFile(`/sys/fs/cgroup/${path}`, 'utf8').catch(() => undefined),
};

/** Free disk where operations' workspaces are, free memory, and the container's memory limit and use when readable. */
export async function hostHealth(workspaceDir: string, cgroup: CgroupFiles = systemCgroup): Promise<HostHealth> {
  const facts: Record<string, string> = { freeMemoryBytes: String(freemem()) };
  const checks: HealthCheckResult[] = [];
  try {
    const fs = await statfs(workspaceDir);
    const free = fs.bavail * fs.bsize;
    facts.freeDiskBytes = String(free);
    checks.push({
      name: 'free disk',
      ok: free >= MIN_FREE_DISK_BYTES,
      detail: `${mebibytes(free)} free in ${workspaceDir}${free < MIN_FREE_DISK_BYTES ? ` (less than ${mebibytes(MIN_FREE_DISK_BYTES)})` : ''}`,
    });
  } catch (error) {
    checks.push({ name: 'free disk', ok: false, detail: `cannot read ${workspaceDir}: ${(error as Error).message}` });
  }
  const memory = await containerMemory(cgroup);
  if (memory) {
    facts.memoryLimitBytes = String(memory.limit);
    facts.memoryUsageBytes = String(memory.usage);
    const headroom = memory.limit - memory.usage;
    checks.push({
      name: 'container memory',
      ok: headroom >= MIN_MEMORY_HEADROOM_BYTES,
      detail: `${mebibytes(memory.usage)} used of the ${mebibytes(memory.limit)} limit`,
    });
  }
  return { checks, facts };
}

/** The cgroup's memory limit and use (v2, else v1); undefined outside a limited container. */
async function containerMemory(cgroup: CgroupFiles): Promise<{ limit: number; usage: number } | undefined> {
  const pairs: [string, string][] = [
    ['memory.max', 'memory.current'],
    ['memory/memory.limit_in_bytes', 'memory/memory.usage_in_bytes'],
  ];
  for (const [limitFile, usageFile] of pairs) {
    const limit = Number((await cgroup.read(limitFile))?.trim());
    const usage = Number((await cgroup.read(usageFile))?.trim());
    // "max" (v2) and the huge v1 value mean no limit: NaN and NO_LIMIT both fall out here.
    if (Number.isFinite(limit) && Number.isFinite(usage) && limit > 0 && limit < NO_LIMIT) return { limit, usage };
  }
  return undefined;
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}
