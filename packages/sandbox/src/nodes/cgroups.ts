// Per-container cgroups, so that limits are real: a memory limit OOM-kills (exit 137,
// OOMKilled) and a CPU limit throttles through CFS quota. cgroup v1 (memory, cpu, cpuacct
// mounted under /sys/fs/cgroup/<controller>) and v2 (unified) are supported; where neither is
// writable the node runs without limits and says so once at start.
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

export interface CgroupLimits {
  memoryBytes?: number;
  cpuMilli?: number;
}
export interface CgroupUsage {
  cpuNanos: number;
  memoryBytes: number;
}

export interface Cgroup {
  /** Files a process writes its pid to, to join the cgroup (before exec). */
  procsFiles: string[];
  usage(): CgroupUsage | undefined;
  oomKilled(): boolean;
  remove(): void;
}

/** `argv` started in the cgroup: a tiny sh joins it before exec, so the limit applies from the
 *  first byte the command allocates. */
export function inCgroup(cgroup: Cgroup, argv: readonly string[]): string[] {
  return [
    '/bin/sh',
    '-c',
    'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"',
    'sh',
    ...cgroup.procsFiles,
    '--',
    ...argv,
  ];
}

export interface CgroupDriver {
  readonly kind: 'v1' | 'v2' | 'none';
  /** Why limits are not enforced (kind 'none'). */
  readonly reason?: string;
  create(name: string, limits: CgroupLimits): Cgroup | undefined;
  close(): void;
}

const read = (f: string): string => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};
const tryWrite = (f: string, v: string): boolean => {
  try {
    writeFileSync(f, v);
    return true;
  } catch {
    return false;
  }
};
const rm = (d: string): void => {
  try {
    rmdirSync(d);
  } catch {
    /* busy or gone */
  }
};
const statValue = (text: string, key: string): number => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

function v1Driver(base: string): CgroupDriver {
  // cpu and cpuacct may be one hierarchy (cpu,cpuacct) with two names: dedupe by realpath.
  const ctl = (c: string): string => realpathSync(join(ROOT, c));
  const mem = join(ctl('memory'), base),
    cpu = join(ctl('cpu'), base),
    acct = join(ctl('cpuacct'), base);
  const parents = [...new Set([mem, cpu, acct])];
  for (const p of parents) mkdirSync(p, { recursive: true });
  return {
    kind: 'v1',
    create(name, limits) {
      const dirs = [...new Set([join(mem, name), join(cpu, name), join(acct, name)])];
      for (const d of dirs) mkdirSync(d, { recursive: true });
      const m = join(mem, name),
        c = join(cpu, name),
        a = join(acct, name);
      if (limits.memoryBytes) {
        tryWrite(join(m, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        // With swap the limit would page instead of OOM-killing; pin memory+swap to the same value.
        if (existsSync(join(m, 'memory.memsw.limit_in_bytes')))
          tryWrite(join(m, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
        tryWrite(join(m, 'memory.swappiness'), '0');
      }
      if (limits.cpuMilli) {
        tryWrite(join(c, 'cpu.cfs_period_us'), '100000');
        tryWrite(join(c, 'cpu.cfs_quota_us'), String(limits.cpuMilli * 100));
      }
      return {
        procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
        usage() {
          const cpuNanos = Number(read(join(a, 'cpuacct.usage')) || 0);
          const usage = Number(read(join(m, 'memory.usage_in_bytes')) || 0);
          const inactive = statValue(read(join(m, 'memory.stat')), 'total_inactive_file');
          return { cpuNanos, memoryBytes: Math.max(0, usage - inactive) };
        },
        oomKilled() {
          const oc = read(join(m, 'memory.oom_control'));
          if (/^oom_kill \d+/m.test(oc)) return statValue(oc, 'oom_kill') > 0;
          return Number(read(join(m, 'memory.failcnt')) || 0) > 0;
        },
        remove() {
          for (const d of dirs) rm(d);
        },
      };
    },
    close() {
      for (const p of parents) rm(p);
    },
  };
}

function v2Driver(base: string): CgroupDriver {
  const parent = join(ROOT, base);
  mkdirSync(parent, { recursive: true });
  tryWrite(join(ROOT, 'cgroup.subtree_control'), '+memory +cpu');
  tryWrite(join(parent, 'cgroup.subtree_control'), '+memory +cpu');
  return {
    kind: 'v2',
    create(name, limits) {
      const d = join(parent, name);
      mkdirSync(d, { recursive: true });
      if (limits.memoryBytes) {
        tryWrite(join(d, 'memory.max'), String(limits.memoryBytes));
        tryWrite(join(d, 'memory.swap.max'), '0');
      }
      if (limits.cpuMilli) tryWrite(join(d, 'cpu.max'), `${limits.cpuMilli * 100} 100000`);
      return {
        procsFiles: [join(d, 'cgroup.procs')],
        usage() {
          const cpuNanos = statValue(read(join(d, 'cpu.stat')), 'usage_usec') * 1000;
          const cur = Number(read(join(d, 'memory.current')) || 0);
          return { cpuNanos, memoryBytes: Math.max(0, cur - statValue(read(join(d, 'memory.stat')), 'inactive_file')) };
        },
        oomKilled: () => statValue(read(join(d, 'memory.events')), 'oom_kill') > 0,
        remove: () => rm(d),
      };
    },
    close: () => rm(parent),
  };
}

const none = (reason: string): CgroupDriver => ({
  kind: 'none',
  reason,
  create: () => undefined,
  close: () => undefined,
});

/** The best driver this host allows; `base` names this node's parent cgroup. */
export function detectCgroups(base: string, enabled = true): CgroupDriver {
  if (!enabled) return none('cgroups disabled by configuration');
  if (process.platform !== 'linux') return none(`cgroups need Linux (this is ${process.platform})`);
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      if (!/\bmemory\b/.test(read(join(ROOT, 'cgroup.controllers'))))
        return none('cgroup v2 without the memory controller');
      return v2Driver(base);
    }
    if (['memory', 'cpu', 'cpuacct'].every((c) => existsSync(join(ROOT, c, 'cgroup.procs')))) return v1Driver(base);
    return none('no cgroup v1 memory/cpu/cpuacct or cgroup v2 hierarchy under /sys/fs/cgroup');
  } catch (err) {
    return none(`cgroups not writable: ${(err as Error).message}`);
  }
}
