import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LongshoreError } from '@longshore/protocol';
import type { Logger } from 'pino';

/** What identifies a script's process group across a restart of its worker. */
interface RunningScript {
  operationId: string;
  /** The process group's id: the pid of its leader, the bootstrap. */
  pgid: number;
  /** The leader's start time in clock ticks after boot (field 22 of /proc/<pid>/stat). */
  startTicks: string;
  bootId: string;
}

/**
 * The second line of defence behind the lifeline (scriptLifeline.ts), for when the guard that
 * ends a dead worker's scripts was itself killed: one file per running script in the worker's
 * data directory, naming its process group. The next start of the worker ends the groups the
 * files name before it polls for work, and removes the files.
 *
 * Only on Linux, where /proc gives each process's start time: a pid is recycled once its process
 * is gone, and only the pid together with the start time (and the boot) tells that the process
 * is still the one recorded, so that a stranger's process is never killed. Elsewhere nothing is
 * recorded and the lifeline alone ends scripts. A group whose leader is gone is left alone
 * too: nothing then tells it from a group a recycled pid started.
 */
export class RunningScriptRecords {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Records the process group `pid` leads. Call it right after spawning, before anything is
   * awaited: until Node reaps the child, its pid cannot be anybody else's.
   */
  async add(operationId: string, pid: number): Promise<void> {
    const identity = processIdentity(pid);
    if (!identity) return;
    const record: RunningScript = { operationId, pgid: pid, ...identity };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Written whole or not at all: a worker killed mid-write leaves no half record behind.
    const file = this.file(operationId);
    await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async remove(operationId: string): Promise<void> {
    await rm(this.file(operationId), { force: true });
  }

  /** Kills the process groups an earlier run of this worker left behind, and forgets all records. */
  async endLeftovers(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new LongshoreError(
        'CONFIG_INVALID',
        `Cannot read ${this.dir}, where the worker records the scripts it runs (${(error as Error).message}); the data directory must be readable and writable by the worker's user`,
      );
    }
    for (const name of names) {
      const file = join(this.dir, name);
      const record = parseRecord(await readFile(file, 'utf8').catch(() => ''));
      if (record && isStillRunning(record)) this.end(record);
      await rm(file, { force: true });
    }
  }

  private end(record: RunningScript): void {
    try {
      process.kill(-record.pgid, 'SIGKILL');
      this.log.warn(
        { operationId: record.operationId, pgid: record.pgid },
        `ended the processes of operation ${record.operationId} left running by the last run of this worker`,
      );
    } catch (error) {
      // ESRCH: it ended meanwhile.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
        this.log.warn(
          { err: error, operationId: record.operationId, pgid: record.pgid },
          'cannot end the processes of an operation left running by the last run of this worker',
        );
      }
    }
  }

  private file(operationId: string): string {
    return join(this.dir, `${operationId}.json`);
  }
}

/** The start time and boot of a live process; undefined where /proc does not tell (not Linux, or it is gone). */
function processIdentity(pid: number): Pick<RunningScript, 'startTicks' | 'bootId'> | undefined {
  try {
    const stat = readProcStat(pid);
    return (
      stat && { startTicks: stat.startTicks, bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() }
    );
  } catch {
    return undefined;
  }
}

function isStillRunning(record: RunningScript): boolean {
  let stat: ReturnType<typeof readProcStat>;
  let bootId: string;
  try {
    stat = readProcStat(record.pgid);
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return false;
  }
  return (
    stat !== undefined && bootId === record.bootId && stat.startTicks === record.startTicks && stat.pgrp === record.pgid
  );
}

/**
 * The fields of /proc/<pid>/stat we need (a zombie has them too: it still holds its pid). The
 * command name (field 2) is in parentheses and may itself hold spaces and parentheses, so fields
 * are counted from its closing one: fields[0] is field 3.
 */
function readProcStat(pid: number): { pgrp: number; startTicks: string } | undefined {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [pgrp, startTicks] = [fields[2], fields[19]];
  return pgrp === undefined || startTicks === undefined ? undefined : { pgrp: Number(pgrp), startTicks };
}

function parseRecord(text: string): RunningScript | undefined {
  try {
    const value = JSON.parse(text) as Partial<RunningScript>;
    if (
      typeof value.operationId === 'string' &&
      Number.isSafeInteger(value.pgid) &&
      value.pgid! > 1 &&
      typeof value.startTicks === 'string' &&
      typeof value.bootId === 'string'
    ) {
      return value as RunningScript;
    }
  } catch {
    // A damaged record names nothing we could safely kill.
  }
  return undefined;
}
