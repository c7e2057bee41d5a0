// The host's processes as /proc shows them: parent, process group and session of each, and the
// namespaces a process lives in. A node needs them to find a container's processes (to join
// its namespaces, to signal them past a supervisor) and to end everything an exec started,
// including what left its process group for a terminal session of its own.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
}

/** Fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function processTable(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(d);
    // After the command: state, ppid, pgrp, session.
    if (f) out.push({ pid: Number(d), ppid: Number(f[1]), pgid: Number(f[2]), sid: Number(f[3]) });
  }
  return out;
}

/** Processes of a process group. */
export function groupMembers(pgid: number, table = processTable()): number[] {
  return table.filter((p) => p.pgid === pgid).map((p) => p.pid);
}

/** `root` and its descendants, parents before children. */
export function processTree(root: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const queue = table.some((p) => p.pid === root) ? [root] : [];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The namespace a process is in ('mnt:[4026531832]'), undefined once it is gone. */
export function namespaceOf(pid: number | 'self', kind: 'mnt' | 'user'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

export function signalProcess(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Every process of `root`'s tree, with the process groups and sessions they lead: a terminal
 *  session (setsid) is not in the group its starter was, and must end with it all the same. */
export function killTree(root: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  const table = processTable();
  const tree = new Set(processTree(root, table));
  const leaders = new Set(
    table.filter((p) => tree.has(p.pid) && (p.pgid === p.pid || p.sid === p.pid)).map((p) => p.pid),
  );
  for (const p of table) if (tree.has(p.pid) || leaders.has(p.pgid) || leaders.has(p.sid)) signalProcess(p.pid, sig);
}
