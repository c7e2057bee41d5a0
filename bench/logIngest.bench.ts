import { spawn } from 'node:child_process';
import { Lab } from '../test/support/lab.js';
import { floodProject, floodScript } from './floodProject.js';
import { report, round } from './stats.js';

/** The limit: the same script's output read straight from the child process, counting lines. */
function readDirectly(n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', floodScript(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.on('error', reject);
    child.on('close', () =>
      lines === n ? resolve(performance.now() - started) : reject(new Error(`read ${lines} of ${n} lines`)),
    );
  });
}

/** One operation printing n lines: from the operation's start until every line is stored. */
export async function logIngestBench(n = 1_000_000): Promise<Record<string, number>> {
  const lab = new Lab();
  try {
    await lab.startServer();
    await lab.startWorker('log-worker');
    await lab.apply(floodProject(floodScript(n)));
    const directMs = await readDirectly(n);
    const taskId = JSON.parse((await lab.cli(['deploy', 'Flood', '--to', 'Bench', '--output', 'json'])).output).taskId;
    const task = await lab.waitForTask(taskId, ['succeeded', 'failed'], 900_000, 1000);
    if (task.state !== 'succeeded') throw new Error(`flood ${task.state}: ${JSON.stringify(task)}`);
    const op = task.steps[0].operations[0];
    const storedMs = Date.parse(op.finishedAt) - Date.parse(op.startedAt ?? op.createdAt);
    const lines = await lab.api('GET', `/api/tasks/${taskId}/log?after=0&limit=1`);
    if (lines.status !== 200) throw new Error('log unreadable');
    return {
      lines: n,
      'read directly (lines/s, the limit)': Math.round(n / (directMs / 1000)),
      'stored in the task log (lines/s)': Math.round(n / (storedMs / 1000)),
      'stored / direct (ratio, goal >= 0.5)': round(directMs / storedMs),
    };
  } finally {
    await lab.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  report('log-ingest', await logIngestBench(Number(process.argv[2] ?? 1_000_000)));
