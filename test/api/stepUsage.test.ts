// Right-sizing through the API: the usage workers report is kept per step; the step's page of
// usage shows the runs beside the recommendation; a step set to `auto` runs with the
// recommendation once there are enough runs (the pool default before); an OOM kill is said in
// the task log with the peak and the new recommendation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { MiB, measuredRun, usageReport } from '../support/measuredRuns.js';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import { runCli } from '../support/cliProcess.js';

let h: Harness;
let agent: FakeAgent;

before(async () => {
  h = await startHarness();
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Build' }],
    projects: [{ name: 'Compile', process: { steps: [{ name: 'Make', script: { body: 'make' } }] } }],
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  agent = await registerFakeAgent(h, 'measured', undefined, { executor: 'kubernetes' });
});
after(() => h.close());

const run = (reported: object, outcome = 'succeeded') =>
  measuredRun(h, agent, { project: 'Compile', environment: 'Build' }, reported, outcome);

const stepUsage = async () => {
  const res = await h.api('GET', '/api/projects/Compile/steps/usage');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items[0];
};

test('usage is kept per step; the recommendation learns until three runs are in, then follows them', async () => {
  await run(usageReport(900, 180));
  await run(usageReport(1000, 200));
  let make = await stepUsage();
  assert.equal(make.runs.length, 2);
  assert.equal(make.runs[1].peakCpuMillis, 1000);
  assert.equal(make.runs[1].pool, 'default');
  assert.equal(make.recommendation.state, 'learning');
  await run(usageReport(950, 190));
  make = await stepUsage();
  assert.equal(make.recommendation.state, 'ready');
  assert.equal(make.recommendation.samples, 3);
  // Between the runs' mean and peak CPU: what keeps each within 10% of its time on a full node.
  assert.ok(make.recommendation.cpuMillis > 500 && make.recommendation.cpuMillis <= 1000, JSON.stringify(make));
  assert.ok(make.recommendation.memoryBytes >= 200 * MiB && make.recommendation.memoryBytes <= 260 * MiB);
  assert.match(make.recommendation.method, /percentile/);
  assert.equal(make.resources, null, 'the step asks for nothing of its own: the pool default');
});

test('a step set to auto runs with the recommendation, marked so that the worker holds it to its cap', async () => {
  const process = { steps: [{ name: 'Make', script: { body: 'make' }, resources: 'auto' }] };
  assert.equal((await h.api('PUT', '/api/projects/Compile/process', process)).status, 200);
  assert.equal((await h.api('POST', '/api/projects/Compile/releases', {})).status, 201);
  const { recommendation } = await stepUsage();
  const { op } = await run(usageReport(1000, 200));
  assert.equal(op.resourcesAuto, true);
  assert.deepEqual(op.resources, {
    requests: { cpu: `${recommendation.cpuMillis}m`, memory: String(recommendation.memoryBytes) },
  });
  assert.equal((await stepUsage()).resources, 'auto');
  const cli = await runCli(['steps', 'usage', 'Compile'], { LONGSHORE_URL: h.url, LONGSHORE_API_KEY: h.apiKey });
  assert.equal(cli.code, 0, cli.output);
  assert.match(cli.output, /STEP +RUNS +PEAK CPU +PEAK MEMORY/);
  assert.match(cli.output, new RegExp(`Make +4 +1000m +200Mi +auto +${recommendation.cpuMillis}m, \\d+Mi`));
});

test("an OOM kill is said in the task log with the step's peak and the new recommendation, which sets a memory limit", async () => {
  const killed = usageReport(800, 512, { oomKilled: true, limits: { memoryBytes: 512 * MiB } });
  const { taskId } = await run(killed, 'failed');
  const log = (await h.api('GET', `/api/tasks/${taskId}/log`)).body.lines.map((l: { text: string }) => l.text);
  const line = log.find((t: string) => /OOM-killed/.test(t));
  assert.match(
    line,
    /Step 'Make' was OOM-killed: its memory peaked at 512Mi, against a memory limit of 512Mi\. Recommended now: 768Mi memory \(limit 1536Mi\)/,
  );
  const { recommendation } = await stepUsage();
  assert.equal(recommendation.memoryLimitBytes, 1536 * MiB);
});

test('usage of a project the caller may not see is refused like the project', async () => {
  const res = await h.api('GET', '/api/projects/Nothing/steps/usage');
  assert.equal(res.status, 404);
});
