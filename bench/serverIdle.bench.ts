import { readFileSync } from 'node:fs';
import { Lab } from '../test/support/lab.js';
import { report } from './stats.js';

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** The server's resident memory after start, idle, with one worker polling it. */
export async function serverIdleBench(): Promise<Record<string, number>> {
  const lab = new Lab();
  try {
    await lab.startServer();
    await lab.startWorker('idle-worker');
    await new Promise((r) => setTimeout(r, 5000));
    const pid = lab.server!.child.pid!;
    return {
      'idle server RSS (MiB, goal <= 150)': Math.round(rssMiB(pid)),
      'idle local worker RSS (MiB)': Math.round(rssMiB(lab.workers.get('idle-worker')!.child.pid!)),
    };
  } finally {
    await lab.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) report('server-idle', await serverIdleBench());
