// exec in a running container, as the kubelet asks its runtime for it: the command runs with the
// container's environment, in its working directory and cgroup, and sees the container's files.
// It joins the container's own mount namespace (and user namespace, where the runtime made one)
// and root with util-linux `nsenter`, so it sees what the container sees, files the container
// wrote outside its volumes included. Where that is not possible (no nsenter; no process of the
// container in a namespace of its own yet) it gets a fresh isolation with the container's mount
// plan; on a node without a container runtime it runs on the host, as the container itself does.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { inCgroup, type Cgroup } from './cgroups.js';
import type { ContainerRuntime, IsolatedCommand } from './containerRuntime.js';
import type { StreamExit, StreamOptions, StreamSession } from './containerStreams.js';
import {
  enteredArgv,
  execFailure,
  imageProgram,
  innerArgv,
  SIZE_FD,
  STATUS_FD,
  type ExecEntry,
} from './execCommand.js';
import { findExecutable } from './hostCommands.js';
import type { Mount } from './mountPlan.js';
import { killTree, namespaceOf, processTree } from './processTable.js';
import { NO_TERMINAL, resizeTerminal, terminalSize, terminalTools, underTerminal } from './terminal.js';

/** What the node knows of a running container that an exec into it needs. */
export interface ExecTarget {
  /** The container's process (its process group's leader). */
  pid: number;
  env: Readonly<Record<string, string>>;
  workingDir: string;
  mounts: readonly Mount[];
  cgroup?: Cgroup | undefined;
  runtime: ContainerRuntime;
  /** Names the container's image maps to host commands. */
  programs?: Readonly<Record<string, string[]>> | undefined;
}

/** How long a terminal exec waits for the client's first size before the command starts:
 *  kubectl sends it right after connecting, and `stty size` run at once must see it. */
const FIRST_SIZE_WAIT_MS = 300;

let nsenterPath: string | null | undefined;
function nsenter(): string | undefined {
  if (nsenterPath === undefined) nsenterPath = findExecutable('nsenter') ?? null;
  return nsenterPath ?? undefined;
}

/** The first process of the container's tree in a mount namespace other than the node's. */
function namespacedProcess(pid: number): { pid: number; user: boolean } | undefined {
  const mnt = namespaceOf('self', 'mnt');
  const user = namespaceOf('self', 'user');
  for (const p of processTree(pid)) {
    const m = namespaceOf(p, 'mnt');
    if (m !== undefined && m !== mnt) return { pid: p, user: namespaceOf(p, 'user') !== user };
  }
  return undefined;
}

function chooseEntry(t: ExecTarget): { entry: ExecEntry; isolated?: IsolatedCommand } {
  if (t.runtime.kind === 'none') return { entry: { kind: 'host' } };
  const joined = namespacedProcess(t.pid);
  const tool = nsenter();
  if (joined && tool) return { entry: { kind: 'join', nsenter: tool, ...joined } };
  // The container itself ran without an isolation of its own: so does its exec.
  if (!joined && t.mounts.length === 0) return { entry: { kind: 'host' } };
  let isolated: IsolatedCommand | undefined;
  const entry: ExecEntry = {
    kind: 'fresh',
    argv: (inner) => {
      isolated = t.runtime.isolate({ argv: inner, mounts: t.mounts, dirs: [], workingDir: t.workingDir });
      return isolated.argv;
    },
  };
  return {
    entry,
    get isolated() {
      return isolated;
    },
  };
}

const failed = (error: string): StreamSession => ({
  resize: () => undefined,
  exited: Promise.resolve({ error }),
  close: () => undefined,
});

export function startExec(t: ExecTarget, command: string[], opts: StreamOptions): StreamSession {
  const execID = randomBytes(32).toString('hex');
  const tools = opts.tty ? terminalTools() : undefined;
  if (opts.tty && !tools) return failed(execFailure(execID, NO_TERMINAL));
  const chosen = chooseEntry(t);
  let argv: string[];
  let env: Record<string, string> = { ...t.env };
  try {
    argv = enteredArgv(chosen.entry, innerArgv(t.workingDir, imageProgram(t.programs, command), tools?.stty));
  } catch (err) {
    return failed(execFailure(execID, (err as Error).message));
  }
  if (tools) ({ argv, env } = underTerminal(tools, argv, env));
  if (t.cgroup) argv = inCgroup(t.cgroup, argv);
  const stdio: StdioOptions = [
    opts.stdin || opts.tty ? 'pipe' : 'ignore',
    opts.stdout ? 'pipe' : 'ignore',
    opts.stderr && !opts.tty ? 'pipe' : 'ignore',
    'pipe',
    opts.tty ? 'pipe' : 'ignore',
  ];
  const [file, ...args] = argv as [string, ...string[]];
  let child: ChildProcess;
  try {
    child = spawn(file, args, { env, cwd: '/', detached: true, stdio });
  } catch (err) {
    chosen.isolated?.cleanup();
    return failed(execFailure(execID, (err as Error).message));
  }
  const pid = child.pid ?? 0;
  const stdin = child.stdin ?? undefined;
  // A client that goes on typing after the command ended must not take the node down.
  stdin?.on('error', () => undefined);
  let status = '';
  (child.stdio[STATUS_FD] as Readable | null)?.setEncoding('utf8').on('data', (c: string) => (status += c));

  const sizeGate = (child.stdio[SIZE_FD] as Writable | null) ?? undefined;
  let gateOpen = sizeGate !== undefined;
  sizeGate?.on('error', () => undefined);
  const openGate = (line: string): void => {
    if (!gateOpen) return;
    gateOpen = false;
    clearTimeout(gateTimer);
    sizeGate?.end(line);
  };
  const gateTimer = setTimeout(() => openGate('\n'), FIRST_SIZE_WAIT_MS);
  gateTimer.unref();
  if (!gateOpen) clearTimeout(gateTimer);

  let ended = false;
  const exited = new Promise<StreamExit>((resolve) => {
    let spawnError: string | undefined;
    child.once('error', (err) => (spawnError = err.message));
    child.once('close', (code, sig) => {
      ended = true;
      clearTimeout(gateTimer);
      const why = spawnError ?? (status.trim() || chosen.isolated?.setupFailure());
      chosen.isolated?.cleanup();
      if (why) return resolve({ error: execFailure(execID, why) });
      resolve({ exitCode: code ?? 128 + (sig ? constants.signals[sig] : 9) });
    });
  });

  // Node drops a child's output nobody reads yet when it exits, and the protocol reads it only
  // once the client has opened every stream it asked for: `echo out` can be done before that.
  const held = (s: Readable | null): Readable | undefined => s?.pipe(new PassThrough()) ?? undefined;
  const stdout = opts.stdout ? held(child.stdout) : undefined;
  const stderr = opts.stderr && !opts.tty ? held(child.stderr) : undefined;
  return {
    ...(opts.stdin && stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    resize(cols, rows) {
      const size = terminalSize(cols, rows);
      if (!tools || !size || ended) return;
      if (gateOpen) openGate(`cols ${size.cols} rows ${size.rows}\n`);
      else void resizeTerminal(tools, pid, size.cols, size.rows);
    },
    exited,
    close() {
      openGate('\n');
      if (!ended && pid) killTree(pid);
      stdin?.destroy();
    },
  };
}
