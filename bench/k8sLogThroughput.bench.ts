// bench/k8s-log-throughput: a script pod printing 1,000,000 lines, from its first line until the
// task log holds the last, beside `kubectl logs` reading a pod that runs the same script in the
// same run.
//
// Why kubectl follows a pod of its own from the start, rather than reading the operation's pod
// after the script ended: a kubelet keeps only the newest part of a container's log (the
// sandbox's node, like containerLogMaxSize, the last 4 MiB), so a read after the end sees about
// the last tenth of the 1,000,000 lines, and the operation's pod is deleted when the operation
// completes. Following from the start is also what the worker does (follow + timestamps), so
// both readers pay for the script's own output rate alike. The kubectl pod runs first and
// alone: two readers at once would compete for the same CPUs. Both rates run from the kubelet's
// timestamp of the script's first line (same clock: one machine) to the moment the last line
// reached the reader: kubectl's stdout, or the task log (the operation's finishedAt: the
// worker reports completion only after the server stored its last line). The script waits two
// seconds before printing so that either reader is connected before 4 MiB are written.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Lab } from '../test/support/lab.js';
import { kubectlPath } from '../test/sandbox/support.js';
import { floodLine, floodProject, floodScript } from './floodProject.js';
import { cpuMs, deployAndWait, startKubernetesLab } from './kubernetesLab.js';
import { report, round } from './stats.js';

const SCRIPT = (n: number) => `sleep 2; ${floodScript(n)}`;

export async function k8sLogThroughputBench(n = 1_000_000): Promise<Record<string, number | string>> {
  const env = await startKubernetesLab({ workerName: 'log-bench' });
  const { lab, sandbox } = env;
  try {
    await lab.apply(floodProject(SCRIPT(n)));
    const sandboxCpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    let before = sandboxCpu();
    const kubectlMs = await kubectlFollows(sandbox.kubeconfigPath, join(lab.dir, 'kubectl-home'), n);
    const kubectlSandboxCpu = sandboxCpu() - before;

    const pids = { worker: env.worker.child.pid!, server: lab.server!.child.pid! };
    const cpuBefore = { worker: cpuMs(pids.worker), server: cpuMs(pids.server) };
    before = sandboxCpu();
    const { taskId, operations } = await deployAndWait(lab, 'Flood', 'Bench', 900_000);
    const cpu = {
      worker: cpuMs(pids.worker) - cpuBefore.worker,
      server: cpuMs(pids.server) - cpuBefore.server,
      sandbox: sandboxCpu() - before,
    };
    const { firstTs, lines } = await scriptLines(lab, taskId);
    if (Number.isNaN(firstTs)) throw new Error("the task log lacks the script's first line");
    const storedMs = Date.parse(operations[0]!.finishedAt) - firstTs;
    const kubectlRate = n / (kubectlMs / 1000);
    const storedRate = lines / (storedMs / 1000);
    const perMillion = (ms: number) => round((ms / 1000) * (1_000_000 / n), 1);
    return {
      lines: n,
      'kubectl logs -f --timestamps (lines/s, the limit)': Math.round(kubectlRate),
      'into the task log (lines/s)': Math.round(storedRate),
      'task log / kubectl (ratio, goal >= 0.5)': round(storedRate / kubectlRate),
      'lines missing from the task log (goal 0)': n - lines,
      'CPU s per million lines: worker / server': `${perMillion(cpu.worker)} / ${perMillion(cpu.server)}`,
      'sandbox CPU s per million lines: kubectl / task log run': `${perMillion(kubectlSandboxCpu)} / ${perMillion(cpu.sandbox)}`,
    };
  } finally {
    await env.close();
  }
}

/** A pod running the script, created here and followed by kubectl until its last line. */
async function kubectlFollows(kubeconfigPath: string, home: string, n: number): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const name = 'kubectl-peer';
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'script', image: 'longshore/worker-tools', command: ['sh', '-c', SCRIPT(n)] }],
      },
    },
  });
  mkdirSync(home, { recursive: true });
  const child = spawn(kubectlPath(), ['logs', '-f', '--timestamps', '--pod-running-timeout=60s', name], {
    env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(home, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  let lines = 0;
  let head = '';
  let lastAt = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    if (lines === 0 && head.length < 200) head += chunk.subarray(0, 200).toString();
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (lines === n && !lastAt) lastAt = Date.now();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  await core.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 });
  if (code !== 0 || lines !== n) throw new Error(`kubectl logs exited ${code} after ${lines} of ${n} lines: ${errors}`);
  const firstTs = Date.parse(head.slice(0, head.indexOf(' ')));
  if (Number.isNaN(firstTs)) throw new Error(`kubectl's first line has no timestamp: ${head}`);
  return lastAt - firstTs;
}

/**
 * The kubelet's timestamp of the script's first line, and how many of the script's lines the task
 * log holds: a line the worker could not read (a resumed stream that starts after it) is counted as missing.
 */
async function scriptLines(lab: Lab, taskId: string): Promise<{ firstTs: number; lines: number }> {
  let firstTs = NaN;
  let lines = 0;
  const pattern = /^log line number \d+ of the benchmark$/;
  for (let after = 0; ;) {
    const page = (
      await lab.api<{ lines: { text: string; ts: number }[]; cursor: number }>(
        'GET',
        `/api/tasks/${taskId}/log?after=${after}&limit=50000`,
      )
    ).body;
    if (page.lines.length === 0) return { firstTs, lines };
    for (const l of page.lines) {
      if (!pattern.test(l.text)) continue;
      if (l.text === floodLine(1)) firstTs = l.ts;
      lines++;
    }
    after = page.cursor;
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  report('k8s-log-throughput', await k8sLogThroughputBench(Number(process.argv[2] ?? 1_000_000)));
