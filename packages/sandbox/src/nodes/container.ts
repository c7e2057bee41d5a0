// Runs one container's process: in its own process group (so stopping it reaches every
// descendant), in its working directory (never the node's own), through the node's container
// runtime when it has mounts or a working directory to create, and in its cgroup when the host has them (a tiny sh prelude joins the cgroup
// before exec, so the limit applies from the first byte the command allocates). A container with
// `stdin: true` gets a pipe that stays open for attach; one with `tty: true` runs under a
// pseudo-terminal from the start (terminal.ts), inside its isolation, so that signals reach the
// command through `script` and the terminal lives where the command does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Mount } from './mountPlan.js';
import { inCgroup, type Cgroup } from './cgroups.js';
import type { ContainerRuntime, IsolatedCommand } from './containerRuntime.js';
import { groupMembers, killTree } from './processTable.js';
import { NO_TERMINAL, resizeTerminal, terminalSize, terminalTools, underTerminal } from './terminal.js';

export interface ContainerLaunch {
  argv: string[];
  env: Record<string, string>;
  /** The container's workingDir, else its image's; `/` where neither sets one. */
  workingDir: string;
  mounts: Mount[];
  cgroup?: Cgroup;
  runtime: ContainerRuntime;
  /** The container's `stdin`: a pipe, open until the container ends or `stdinOnce` closes it. */
  stdin?: boolean;
  /** The container's `tty`: stdout carries the terminal, stderr is merged into it. */
  tty?: boolean;
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
  /** Settles once the command runs in its isolation (as a runtime reports a container started),
   *  or has ended before that. */
  started: Promise<void>;
  exited: Promise<ContainerExit>;
  signal(sig: NodeJS.Signals): void;
  /** The container's stdin, with `stdin: true` (or a terminal's input, with `tty: true`). */
  stdin?: Writable;
  tty: boolean;
  /** The terminal's window size (with `tty: true`). */
  resize(cols: number, rows: number): void;
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

/** The isolation's setup is a few mounts: polled, as nothing tells when it is done. */
async function whenSetUp(isolated: IsolatedCommand, pid: number, exited: Promise<unknown>): Promise<void> {
  let ended = false;
  void exited.then(() => (ended = true));
  while (!ended && !isolated.setUp?.(pid)) await new Promise((r) => setTimeout(r, 20));
}

const notStarted = (startError: string): RunningContainer => ({
  pid: 0,
  started: Promise.resolve(),
  exited: Promise.resolve({ exitCode: 128, oomKilled: false, startError }),
  signal: () => undefined,
  tty: false,
  resize: () => undefined,
});

export function launchContainer(l: ContainerLaunch): RunningContainer {
  hookExit();
  const missingDir = !existsSync(l.workingDir);
  const terminal = l.tty ? terminalTools() : undefined;
  if (l.tty && !terminal) return notStarted(NO_TERMINAL);
  const command = terminal ? underTerminal(terminal, l.argv, l.env) : { argv: l.argv, env: l.env };
  let isolated: IsolatedCommand | undefined;
  if (l.mounts.length > 0 || missingDir) {
    try {
      isolated = l.runtime.isolate({
        argv: command.argv,
        mounts: l.mounts,
        dirs: missingDir ? [l.workingDir] : [],
        workingDir: l.workingDir,
      });
    } catch (err) {
      return notStarted((err as Error).message);
    }
  }
  let argv = isolated?.argv ?? command.argv;
  if (l.cgroup) argv = inCgroup(l.cgroup, argv);
  const [file, ...args] = argv as [string, ...string[]];
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      env: command.env,
      detached: true,
      // A terminal's input stays open even without `stdin: true`: at its end `script` would type EOF.
      stdio: [l.stdin || terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(isolated ? {} : { cwd: l.workingDir }),
    });
  } catch (err) {
    isolated?.cleanup();
    return notStarted(String(err));
  }
  const pid = child.pid ?? 0;
  if (pid) liveGroups.add(pid);
  child.stdin?.on('error', () => undefined);
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
    started: isolated?.setUp && pid ? whenSetUp(isolated, pid, exited) : Promise.resolve(),
    exited,
    ...(l.stdin && child.stdin ? { stdin: child.stdin } : {}),
    tty: terminal !== undefined,
    resize(cols, rows) {
      const size = terminalSize(cols, rows);
      if (terminal && size && pid) void resizeTerminal(terminal, pid, size.cols, size.rows);
    },
    signal(sig) {
      if (!pid) return;
      // The terminal's session is a group of its own: the kill must reach it too.
      if (sig === 'SIGKILL' && terminal) killTree(pid);
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
