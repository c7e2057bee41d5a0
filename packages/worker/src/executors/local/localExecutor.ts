import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeMasker, type Operation, type OperationResult, type OutputVariable } from '@longshore/protocol';
import type { Logger } from 'pino';
import { bootstrapCommand } from '../../bootstrap/bootstrapScript.js';
import { BootstrapOutput, LineSplitter } from '../../bootstrapOutput.js';
import { installPackage } from '../../packages.js';
import type { AgentChannel } from '../../serverClient.js';
import { operationSecrets, stageWorkspace, type WorkspaceContext } from '../../workspace.js';
import { dockerRejection, rejected, type Executor, type OperationSink } from '../executor.js';
import { scriptResult, stopNotice, stoppedResult, type StopReason } from '../scriptResult.js';
import { RunningScriptRecords } from './runningScriptRecords.js';
import { LIFELINE_FD, withLifeline } from './scriptLifeline.js';

export interface LocalExecutorOptions {
  channel: Pick<AgentChannel, 'downloadPackage'>;
  workspace: WorkspaceContext;
  /** Where each operation gets its temporary directory (removed when it ends). */
  tempDir: string;
  /** The worker's data directory: the executor records there the scripts it runs, for its next start to end those a killed worker left behind. */
  dataDir: string;
  log: Logger;
}

/**
 * Only these reach the script: the worker's own environment may hold its registration token or
 * other secrets of the host.
 */
const INHERITED_ENVIRONMENT = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
];

/** How long output may still come after the bootstrap process exited. */
const OUTPUT_DRAIN_MS = 2000;

/** setTimeout's ceiling (about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Run {
  readonly operation: Operation;
  readonly sink: OperationSink;
  readonly abort: AbortController;
  child?: ChildProcess;
  stopped?: StopReason;
}

/**
 * Runs each operation as a child process on this machine: `sh bootstrap.sh` in a temporary
 * directory, in its own process group so that a cancel, a timeout or the death of the worker
 * (scriptLifeline.ts, runningScriptRecords.ts) stops everything the script started. It has no
 * container runtime.
 */
export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;
  private readonly runs = new Map<string, Run>();
  private readonly records: RunningScriptRecords;

  constructor(private readonly options: LocalExecutorOptions) {
    this.records = new RunningScriptRecords(join(options.dataDir, 'running-scripts'), options.log);
  }

  endLeftovers(): Promise<void> {
    return this.records.endLeftovers();
  }

  async start(operation: Operation, sink: OperationSink): Promise<OperationResult> {
    const reason = localRejection(operation);
    if (reason) return rejected(reason);
    const run: Run = { operation, sink, abort: new AbortController() };
    this.runs.set(operation.id, run);
    const timer = setTimeout(
      () => this.stop(run, 'timed_out'),
      Math.min(operation.timeoutSeconds * 1000, MAX_TIMER_MS),
    );
    let dir: string | undefined;
    try {
      dir = await mkdtemp(join(this.options.tempDir, 'longshore-'));
      return await this.run(run, dir);
    } finally {
      clearTimeout(timer);
      this.runs.delete(operation.id);
      // Whatever the script left running in the background goes with it.
      if (run.child) {
        killGroup(run.child);
        await this.records.remove(operation.id);
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  cancel(operationId: string): void {
    const run = this.runs.get(operationId);
    if (run) this.stop(run, 'cancelled');
  }

  private stop(run: Run, why: StopReason): void {
    if (run.stopped) return;
    run.stopped = why;
    run.sink.line('system', stopNotice(run.operation, why, 'stopping the script'), Date.now());
    run.abort.abort();
    if (run.child) killGroup(run.child);
  }

  private async run(run: Run, dir: string): Promise<OperationResult> {
    const { operation, sink } = run;
    const workspaceDir = join(dir, 'workspace');
    const workDir = join(dir, 'work');
    await mkdir(workspaceDir, { mode: 0o700 });
    await mkdir(workDir, { mode: 0o700 });
    for (const [name, content] of Object.entries(stageWorkspace(operation, this.options.workspace))) {
      await writeFile(join(workspaceDir, name), content, { mode: 0o600 });
    }
    for (const pkg of operation.packages) {
      if (run.stopped) return stoppedResult(operation, run.stopped);
      sink.line('system', `Installing package ${pkg.reference} (${pkg.packageId} ${pkg.version})`, Date.now());
      try {
        await installPackage(pkg, workDir, this.options.channel, run.abort.signal);
      } catch (error) {
        if (run.stopped) return stoppedResult(operation, run.stopped);
        return {
          outcome: 'failed',
          message: `Package ${pkg.reference} could not be installed: ${(error as Error).message}`,
          outputVariables: [],
        };
      }
    }
    if (run.stopped) return stoppedResult(operation, run.stopped);

    const secrets = operationSecrets(operation);
    const variables = new Map<string, OutputVariable>();
    const output = new BootstrapOutput(
      {
        line: (stream, text, ts, source, level) => sink.line(stream, text, ts, source, level),
        progress: (percentage, message) => sink.progress(percentage, message),
        outputVariable: (variable) => variables.set(variable.name, variable),
        end: () => {},
      },
      { secrets },
    );
    const [command, ...args] = withLifeline(bootstrapCommand(operation.script.syntax, workspaceDir, workDir));
    const child = spawn(command!, args, {
      cwd: workDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: scriptEnvironment(),
    });
    run.child = child;
    sink.scriptStarted(Date.now());
    const recorded = child.pid === undefined ? Promise.resolve() : this.records.add(operation.id, child.pid);
    // Closing it makes the guard kill what the bootstrap left in its group; the child's 'close' also waits for it.
    const lifeline = child.stdio[LIFELINE_FD];
    this.options.log.debug({ operationId: operation.id, pid: child.pid }, 'script process started');

    const stdout = child.stdout!;
    stdout.on('data', (chunk: Buffer) => {
      output.write(chunk);
      const full = sink.backpressure();
      if (full) {
        stdout.pause();
        void full.then(() => stdout.resume());
      }
    });
    // The bootstrap's own complaints (a missing tool, an unwritable directory): the script's
    // stderr travels inside stdout, tagged.
    const mask = makeMasker(secrets);
    const stderr = new LineSplitter((line) => sink.line('system', mask(line), Date.now()));
    child.stderr!.on('data', (chunk: Buffer) => stderr.write(chunk));

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      let drain: NodeJS.Timeout | undefined;
      child.once('error', (error) => {
        lifeline?.destroy();
        resolve({ code: null, signal: null, error });
      });
      // The bootstrap exits after its pipeline has written everything. If it was killed instead,
      // the guard ends the pipeline it left behind once the lifeline closes; the drain is for a
      // guard that is gone too.
      child.once('exit', () => {
        lifeline?.destroy();
        drain = setTimeout(() => killGroup(child), OUTPUT_DRAIN_MS);
      });
      child.once('close', (code, signal) => {
        clearTimeout(drain);
        resolve({ code, signal });
      });
    });
    await recorded;
    const exit = await exited;
    output.end();
    stderr.end();

    return scriptResult(
      operation,
      {
        stopped: run.stopped,
        exitCode: output.exitCode,
        unexplained: () => {
          if (exit.error)
            return { outcome: 'failed', message: `The script could not be started: ${exit.error.message}` };
          if (exit.signal) {
            return {
              outcome: 'lost',
              message: `The script's process was killed (${exit.signal}) before the script finished`,
            };
          }
          return {
            outcome: 'failed',
            message: `The bootstrap exited with code ${exit.code} without an end-of-output marker: the script's result is unknown (see the log)`,
          };
        },
      },
      [...variables.values()],
    );
  }
}

function localRejection(operation: Operation): string | undefined {
  const docker = dockerRejection(operation);
  if (docker) return docker;
  if (operation.purpose === 'worker-upgrade')
    return 'The server upgrades Kubernetes workers only; a local worker is upgraded by installing the new version on its machine and restarting it';
  if (operation.container?.image !== undefined) {
    return (
      `This step runs in an execution container (${operation.container.image}), but this worker runs scripts as local processes and has no container runtime. ` +
      'Use a worker pool with a Kubernetes worker for execution containers.'
    );
  }
  return undefined;
}

let hostAwkVersion: string | undefined;

function scriptEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENVIRONMENT) if (process.env[name] !== undefined) env[name] = process.env[name];
  // The host's awk does not change while the worker runs: ask it once, not once per operation.
  hostAwkVersion ??=
    spawnSync('awk', ['-W', 'version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).stdout.split(
      '\n',
    )[0] ?? '';
  if (hostAwkVersion) env.LONGSHORE_AWK_VERSION = hostAwkVersion;
  return env;
}

/** SIGKILL to the whole group: the bootstrap, its awk pipeline and all the script started. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}
