import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Lab } from '../test/support/lab.js';
import { percentile, report, round } from './stats.js';

/**
 * 500 no-op operations through server + channel + local worker.
 * Latency: operations one after another (maxParallelism 1); each cycle is complete -> next
 * released -> leased over the long-poll -> bootstrap spawned -> log stored -> complete. The limit is
 * spawning the same `sh` script directly. Throughput: 500 operations at once, worker capacity 16.
 */
export async function dispatchBench(count = 500): Promise<Record<string, number | boolean>> {
  const lab = new Lab();
  try {
    await lab.startServer();
    await lab.startWorker('bench-worker', { capacity: 16 });
    const targets = Array.from(
      { length: count },
      (_, i) => `  - { name: b${i}, type: generic, environments: [Bench], tags: [bench] }`,
    ).join('\n');
    const step = (parallel: string) => `
        - name: Noop
          runOn: { targetTags: [bench]${parallel} }
          script: { body: 'true' }`;
    await lab.apply(`
environments: [ { name: Bench } ]
targets:
${targets}
projects:
  - name: Sequential
    process:
      steps:${step(', maxParallelism: 1')}
  - name: Burst
    process:
      steps:${step('')}
`);
    const run = async (project: string) => {
      const taskId = JSON.parse(
        (await lab.cli(['deploy', project, '--to', 'Bench', '--output', 'json'])).output,
      ).taskId;
      const task = await lab.waitForTask(taskId, ['succeeded', 'failed'], 600_000, 1000);
      if (task.state !== 'succeeded') throw new Error(`${project} ${task.state}`);
      return task.steps[0].operations as { createdAt: string; startedAt: string; finishedAt: string }[];
    };
    const direct: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      spawnSync('sh', ['-c', 'true']);
      direct.push(performance.now() - t);
    }
    const limit = percentile(direct, 50);

    const seq = await run('Sequential');
    const ends = seq.map((o) => Date.parse(o.finishedAt)).sort((a, b) => a - b);
    const cycles = ends.slice(1).map((t, i) => t - ends[i]!);
    const overhead = cycles.map((c) => Math.max(0, c - limit));

    const cpuBefore = [
      cpuMs(lab.server!.child.pid!),
      cpuMs(lab.workers.get('bench-worker')!.child.pid!),
      childrenCpuMs(lab.workers.get('bench-worker')!.child.pid!),
    ];
    const burst = await run('Burst');
    const cpuAfter = [
      cpuMs(lab.server!.child.pid!),
      cpuMs(lab.workers.get('bench-worker')!.child.pid!),
      childrenCpuMs(lab.workers.get('bench-worker')!.child.pid!),
    ];
    const first = Math.min(...burst.map((o) => Date.parse(o.createdAt)));
    const last = Math.max(...burst.map((o) => Date.parse(o.finishedAt)));
    const opsPerSecond = count / ((last - first) / 1000);
    return {
      operations: count,
      'direct sh spawn p50 (ms, the limit)': round(limit),
      'cycle per operation p50 (ms)': round(percentile(cycles, 50)),
      'overhead per operation p50 (ms, goal <= 15)': round(percentile(overhead, 50)),
      'overhead per operation p99 (ms, goal <= 60)': round(percentile(overhead, 99)),
      'cycle / direct spawn, p50 (ratio)': round(percentile(cycles, 50) / limit),
      'burst throughput (ops/s, goal >= 100)': round(opsPerSecond, 1),
      'burst: server CPU per operation (ms)': round((cpuAfter[0]! - cpuBefore[0]!) / count),
      'burst: worker CPU per operation (ms)': round((cpuAfter[1]! - cpuBefore[1]!) / count),
      'burst: script processes CPU per operation (ms)': round((cpuAfter[2]! - cpuBefore[2]!) / count),
    };
  } finally {
    await lab.close();
  }
}

/** utime+stime of a process (and, for children, of its reaped children), in ms. */
function stat(pid: number): number[] {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return fields.map(Number);
}
const TICK_MS = 10;
const cpuMs = (pid: number) => (stat(pid)[11]! + stat(pid)[12]!) * TICK_MS;
const childrenCpuMs = (pid: number) => (stat(pid)[13]! + stat(pid)[14]!) * TICK_MS;

if (import.meta.url === `file://${process.argv[1]}`)
  report('dispatch', await dispatchBench(Number(process.argv[2] ?? 500)));
