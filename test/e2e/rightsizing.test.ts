// Right-sizing for real: a step that holds ~200 MiB and keeps one CPU busy runs in the sandbox's
// script pods; the worker's samples of metrics.k8s.io give its usage, the recommendation follows
// it, and set to `auto` the next script pod requests the recommendation. A step over its memory
// limit is OOM-killed, and its task log says so with its peak and what to ask for now.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { Lab } from '../support/lab.js';
import { deployCatchingPods } from '../support/scriptObjects.js';

const MiB = 2 ** 20;
let lab: Lab;
let sandbox: Sandbox;

// A 200 MB shell variable held while one CPU is kept busy for six seconds. The machine may be
// shared, so the loop is not sure of a whole CPU: the script prints its children's CPU times
// (`times`) before and after, and the test holds the measurement to what the loop really got.
const HUNGRY = `x=$(head -c 200000000 /dev/zero | tr '\\0' a)
echo "holding \${#x} bytes"
times
timeout 6 sh -c 'while :; do :; done' || true
times`;
const BUSY_SECONDS = 6;

before(async () => {
  sandbox = await startSandbox();
  lab = new Lab();
  await lab.startServer();
  await lab.startKubernetesWorker('measuring', {
    kubeconfig: sandbox.kubeconfigPath,
    scriptPods: 'usageSampleIntervalMs: 500\n',
  });
  await lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Hungry
    process:
      steps:
        - name: Crunch
          script:
            body: |
${HUNGRY.split('\n')
  .map((l) => `              ${l}`)
  .join('\n')}
  - name: Leaky
    process:
      steps:
        - name: Grow
          resources: { requests: { memory: 64Mi }, limits: { memory: 96Mi } }
          script: { body: 'x=$(head -c 400000000 /dev/zero | tr "\\\\0" a); echo "never"' }
`);
});
after(async () => {
  await lab?.close();
  await sandbox?.stop();
});

const usage = async (project: string) => (await lab.api('GET', `/api/projects/${project}/steps/usage`)).body.items[0];

/** The millicores the busy loop got on average: its children's CPU seconds between the two `times`. */
function busyMillis(output: string): number {
  const children = [...output.matchAll(/^.*?(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/gm)]
    .filter((_, i) => i % 2 === 1)
    .map(([, um, us, sm, ss]) => Number(um) * 60 + Number(us) + Number(sm) * 60 + Number(ss));
  assert.equal(children.length, 2, `two lines of children's times in:\n${output}`);
  return ((children[1]! - children[0]!) / BUSY_SECONDS) * 1000;
}

test('the measured usage and the recommendation follow what the step really used; set to auto, the next pod requests it', async () => {
  const got: number[] = [];
  for (let i = 0; i < 3; i++) {
    const deployed = await lab.cli(['deploy', 'Hungry', '--to', 'Cluster', '--follow']);
    assert.equal(deployed.code, 0, deployed.output);
    assert.match(deployed.output, /holding 200000000 bytes/);
    got.push(busyMillis(deployed.output));
  }
  const crunch = await usage('Hungry');
  assert.equal(crunch.runs.length, 3);
  for (const [i, run] of crunch.runs.entries()) {
    assert.ok(run.samples >= 5, JSON.stringify(run));
    // The highest half-second rate is at least the loop's average over its six seconds (less
    // the edges of the sampling windows), and one thread cannot use much more than one CPU.
    assert.ok(
      run.peakCpuMillis >= 0.75 * got[i]! && run.peakCpuMillis <= 1600,
      `peak CPU ${run.peakCpuMillis}m; the loop got ${Math.round(got[i]!)}m on average`,
    );
    assert.ok(
      run.peakMemoryBytes >= 190 * MiB && run.peakMemoryBytes <= 700 * MiB,
      `peak memory ${run.peakMemoryBytes / MiB} MiB`,
    );
  }
  const { recommendation } = crunch;
  assert.equal(recommendation.state, 'ready');
  const peaks = crunch.runs.map((r: { peakCpuMillis: number }) => r.peakCpuMillis);
  assert.ok(
    recommendation.cpuMillis >= 0.6 * Math.min(...peaks) && recommendation.cpuMillis <= 1.3 * Math.max(...peaks),
    `${JSON.stringify(recommendation)} against peaks ${peaks.join(', ')}m`,
  );
  assert.ok(recommendation.memoryBytes >= 220 * MiB, JSON.stringify(recommendation));

  const project = (await lab.api('GET', '/api/projects/Hungry')).body;
  const process = { steps: project.process.steps.map((s: object) => ({ ...s, resources: 'auto' })) };
  assert.equal((await lab.api('PUT', '/api/projects/Hungry/process', process)).status, 200);
  assert.equal((await lab.api('POST', '/api/projects/Hungry/releases', {})).status, 201);
  const { res, pods } = await deployCatchingPods(lab, sandbox.kubeconfigPath, 'Hungry');
  assert.equal(res.code, 0, res.output);
  const requests = pods[0]?.spec?.containers.find((c) => c.name === 'script')?.resources?.requests;
  assert.deepEqual(requests, { cpu: `${recommendation.cpuMillis}m`, memory: String(recommendation.memoryBytes) });
});

test('a step over its memory limit is OOM-killed, and its log says so with its peak and the recommendation', async () => {
  const deployed = await lab.cli(['deploy', 'Leaky', '--to', 'Cluster', '--follow']);
  assert.notEqual(deployed.code, 0);
  assert.match(
    deployed.output,
    /Step 'Grow' was OOM-killed: its memory (peaked at \d+Mi|was not measured), against a memory limit of 96Mi\. Recommended now: \d+Mi memory \(limit \d+Mi\)/,
  );
  const grow = await usage('Leaky');
  assert.equal(grow.runs[0].oomKilled, true);
  assert.ok(grow.recommendation.memoryBytes >= 144 * MiB, 'at least half as much again as the limit it hit');
});
