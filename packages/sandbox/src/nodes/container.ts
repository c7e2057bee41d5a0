// Runs one container's process: in its own process group (so stopping it reaches every
// descendant), in its working directory (never the node's own), through the node's container
// runtime when it has mounts or a working directory to create, and in its cgroup when the host has them (a tiny sh prelude joins the cgroup
// before exec, so the limit applies from the first byte the command allocates).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Mount } from './mountPlan.js';
import type { Cgroup } from './cgroups.js';
import type { ContainerRuntime, IsolatedCommand } from './containerRuntime.js';

export interface ContainerLaunch {
  argv: string[];
  env: Record<string, string>;
  /** The container's workingDir, else its image's; `/` where neither sets one. */
  workingDir: string;
  mounts: Mount[];
  cgroup?: Cgroup;
  runtime: ContainerRuntime;
  onOutput(stream: 'stdout' | 'stderr', chunk: string): void;
}

export interface ContainerExit {
  exitCode: number;
  signal?: number;
  oomKilled: boolean;
  startError?: string;
}

export interface RunningContainer {
  pid: number;
  exited: Promise<ContainerExit>;
  signal(sig: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Wall time during which at least one container process was alive (for the pods bench: the
 *  share of time the node spends outside process spawn/run). */
const spawnClock = { active: 0, since: 0, busyMs: 0, started: 0 };
export function containerProcessStats(): { processes: number; busyMs: number } {
  const extra = spawnClock.active > 0 ? performance.now() - spawnClock.since : 0;
  return { processes: spawnClock.started, busyMs: spawnClock.busyMs + extra };
}
function processStarted(): void {
  if (spawnClock.active++ === 0) spawnClock.since = performance.now();
  spawnClock.started++;
}
function processEnded(): void {
  if (--spawnClock.active === 0) spawnClock.busyMs += performance.now() - spawnClock.since;
}

/** Every live container process group, killed if the sandbox process exits without stopping. */
const liveGroups = new Set<number>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const g of liveGroups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

/** Processes of a process group (from /proc): the pgrp is the 3rd field after the command. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

const notStarted = (startError: string): RunningContainer => ({
  pid: 0,
  exited: Promise.resolve({ exitCode: 128, oomKilled: false, startError }),
  signal: () => undefined,
});

export function launchContainer(l: ContainerLaunch): RunningContainer {
  hookExit();
  const missingDir = !existsSync(l.workingDir);
  let isolated: IsolatedCommand | undefined;
  if (l.mounts.length > 0 || missingDir) {
    try {
      isolated = l.runtime.isolate({
        argv: l.argv,
        mounts: l.mounts,
        dirs: missingDir ? [l.workingDir] : [],
        workingDir: l.workingDir,
      });
    } catch (err) {
      return notStarted((err as Error).message);
    }
  }
  let argv = isolated?.argv ?? l.argv;
  if (l.cgroup)
    argv = [
      '/bin/sh',
      '-c',
      'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"',
      'sh',
      ...l.cgroup.procsFiles,
      '--',
      ...argv,
    ];
  const [file, ...args] = argv as [string, ...string[]];
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      env: l.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(isolated ? {} : { cwd: l.workingDir }),
    });
  } catch (err) {
    isolated?.cleanup();
    return notStarted(String(err));
  }
  const pid = child.pid ?? 0;
  if (pid) liveGroups.add(pid);
  processStarted();
  child.stdout?.setEncoding('utf8').on('data', (c: string) => l.onOutput('stdout', c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => l.onOutput('stderr', c));
  const exited = new Promise<ContainerExit>((resolve) => {
    let spawnError: string | undefined;
    child.once('error', (err) => {
      spawnError = err.message;
    });
    child.once('close', (code, sig) => {
      liveGroups.delete(pid);
      processEnded();
      // The group may still hold descendants that ignored the end of their parent: end them too.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      const signal = sig ? (SIGNALS[sig] ?? 9) : undefined;
      let exitCode = code ?? (signal !== undefined ? 128 + signal : 128);
      const oomKilled = l.cgroup?.oomKilled() ?? false;
      if (oomKilled) exitCode = 137;
      const startError = spawnError ?? isolated?.setupFailure();
      if (startError) exitCode = 128;
      isolated?.cleanup();
      resolve({
        exitCode,
        ...(signal !== undefined ? { signal } : {}),
        oomKilled,
        ...(startError ? { startError } : {}),
      });
    });
  });
  return {
    pid,
    exited,
    signal(sig) {
      if (!pid) return;
      if (isolated?.supervised && sig !== 'SIGKILL') {
        for (const p of groupMembers(pid))
          if (p !== pid) {
            try {
              process.kill(p, sig);
            } catch {
              /* gone */
            }
          }
        return;
      }
      try {
        process.kill(-pid, sig);
      } catch {
        /* already gone */
      }
    },
  };
}
