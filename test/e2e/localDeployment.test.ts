import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../support/lab.js';
import { TEST_ON_POSTGRES, storedText, testDatabaseFor } from '../support/postgres.js';

const SECRET = 'hunter2-very-secret';
let lab: Lab;

before(async () => {
  lab = new Lab();
  await lab.startServer();
  await lab.startWorker('e2e-worker');
});
after(() => lab.close());

const project = (name: string) => `
environments:
  - name: Test
  - name: Broken
projects:
  - name: ${name}
    process:
      steps:
        - name: Produce
          script:
            body: |
              echo "making the artifact"
              set_longshore_variable Artifact "build-#{Longshore.Release.Number}.tgz"
        - name: Consume
          script:
            syntax: bash
            body: |
              echo "artifact is #{Longshore.Action[Produce].Output.Artifact}"
              echo "the password is #{Password}"
              echo "from the function: $(get_longshore_variable Password)" >&2
        - name: Verify
          script:
            body: |
              if [ "#{ShouldFail}" = "yes" ]; then echo "failing on demand"; exit 3; fi
              echo "verified"
        - name: Clean up
          condition: always
          script:
            body: echo "cleaning up"
    variables:
      - { name: Password, value: ${SECRET}, sensitive: true }
      - { name: ShouldFail, value: "no" }
      - { name: ShouldFail, value: "yes", scope: { environments: [Broken] } }
`;

test('a three-step deployment through the CLI: output variables, masking, outcomes, exit codes', async () => {
  const applied = await lab.apply(project('E2E'));
  assert.equal(applied.code, 0, applied.output);

  const ok = await lab.cli(['deploy', 'E2E', '--to', 'Test', '--follow']);
  assert.equal(ok.code, 0, ok.output);
  assert.match(ok.output, /\[Consume\] artifact is build-0\.0\.1\.tgz/);
  assert.match(ok.output, /\[Consume\] the password is \*\*\*\*\*\*\*\*/);
  assert.match(ok.output, /from the function: \*\*\*\*\*\*\*\*/);
  assert.match(ok.output, /==> Step 3\/4 'Verify' started/);
  assert.match(ok.output, /==> Deployment succeeded/);
  assert.ok(!ok.output.includes(SECRET), 'the secret never reaches the CLI');

  const failed = await lab.cli(['deploy', 'E2E', '--to', 'Broken', '--follow']);
  assert.equal(failed.code, 2, failed.output);
  assert.match(failed.output, /\[Verify\] failing on demand/);
  assert.match(failed.output, /Step 'Verify': failed \(exit code 3\)/);
  assert.match(failed.output, /\[Clean up\] cleaning up/, 'an always step runs after a failure');
  assert.match(failed.output, /==> Deployment failed/);

  const tasks = (await lab.api('GET', '/api/tasks')).body.items;
  const failedTask = tasks.find((t: any) => t.description.includes('Broken'));
  assert.equal(failedTask.state, 'failed');
  assert.deepEqual(
    failedTask.steps.map((s: any) => [s.name, s.operations[0].outcome, s.operations[0].exitCode]),
    [
      ['Produce', 'succeeded', 0],
      ['Consume', 'succeeded', 0],
      ['Verify', 'failed', 3],
      ['Clean up', 'succeeded', 0],
    ],
  );
  // The secret is in no API answer: log, task, variables, releases.
  for (const path of [
    `/api/tasks/${failedTask.id}/log`,
    `/api/tasks/${failedTask.id}`,
    '/api/projects/E2E/variables',
    '/api/projects/E2E/releases',
    '/api/projects/E2E',
  ]) {
    const res = await lab.api('GET', path);
    assert.equal(res.status, 200, path);
    assert.ok(!JSON.stringify(res.body).includes(SECRET), `${path} leaks the secret`);
  }
  const lines = await lab.taskLog(failedTask.id);
  for (const opId of new Set(lines.filter((l) => l.operationId).map((l) => l.operationId))) {
    const seqs = lines.filter((l) => l.operationId === opId).map((l) => l.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `operation ${opId} log is contiguous from 1`,
    );
  }
});

test('the CLI lists what exists, as tables and as JSON', async () => {
  const workers = await lab.cli(['workers']);
  assert.match(workers.output, /e2e-worker\s+online\s+local\s+default/);
  const json = await lab.cli(['projects', '--output', 'json']);
  assert.ok(JSON.parse(json.output).some((p: any) => p.name === 'E2E'));
  const bad = await lab.apply('projects: [ {name: unclosed');
  assert.equal(bad.code, 1);
  assert.match(bad.output, /not valid YAML/);
  const invalid = await lab.apply('projects:\n  - name: X\n    process: { steps: [ { name: s } ] }\n');
  assert.equal(invalid.code, 1);
  assert.match(invalid.output, /VALIDATION_FAILED.*script is required/);
});

test('cancelling a running deployment stops its script', async () => {
  await lab.apply(`
projects:
  - name: Slow
    process:
      steps:
        - name: Wait
          script: { body: 'echo "sleeping now"; sleep 60; echo "woke up"' }
`);
  const deploy = await lab.cli(['deploy', 'Slow', '--to', 'Test', '--output', 'json']);
  const { taskId } = JSON.parse(deploy.output);
  const follower = lab.cli(['tasks', 'log', taskId, '--follow']);
  await waitForLine(taskId, /sleeping now/);
  const started = Date.now();
  const cancel = await lab.cli(['tasks', 'cancel', taskId]);
  assert.equal(cancel.code, 0, cancel.output);
  const task = await lab.waitForTask(taskId, ['cancelled'], 15_000);
  assert.ok(Date.now() - started < 10_000, 'cancel took effect promptly');
  assert.equal(task.steps[0].operations[0].outcome, 'cancelled');
  const followed = await follower;
  assert.equal(followed.code, 3);
  assert.doesNotMatch(followed.output, /woke up/);
});

test('two workers never run the same operation', async () => {
  await lab.startWorker('e2e-second');
  const targets = Array.from(
    { length: 8 },
    (_, i) => `  - { name: t${i}, type: generic, environments: [Test], tags: [many] }`,
  ).join('\n');
  await lab.apply(`
targets:
${targets}
projects:
  - name: Fanout
    process:
      steps:
        - name: Each
          runOn: { targetTags: [many] }
          script: { body: 'echo "ran on #{Longshore.Target.Name} by $(get_longshore_variable Longshore.Worker.Name)"; sleep 0.2' }
`);
  const res = await lab.cli(['deploy', 'Fanout', '--to', 'Test', '--follow']);
  assert.equal(res.code, 0, res.output);
  const ran = [...res.output.matchAll(/ran on (t\d) by (\S+)/g)];
  assert.deepEqual(
    ran.map((m) => m[1]).sort(),
    Array.from({ length: 8 }, (_, i) => `t${i}`),
  );
  const task = (await lab.api('GET', '/api/tasks?limit=1')).body.items[0];
  const workers = new Set(task.steps[0].operations.map((o: any) => o.worker));
  assert.equal(workers.size, 2, 'both workers took work');
});

test("a target's properties reach its script as variables; a run-time variable in #{...} says how to read it", async () => {
  const applied = await lab.apply(`
environments: [ { name: Test } ]
targets:
  - { name: eu-box, type: generic, environments: [Test], tags: [props], properties: { region: eu-west, tier: gold } }
projects:
  - name: Regional
    process:
      steps:
        - name: Where
          runOn: { targetTags: [props] }
          script: { body: 'echo "region #{Longshore.Target.Properties[region]}, tier $(get_longshore_variable "Longshore.Target.Properties[tier]")"' }
  - name: WhoRuns
    process:
      steps:
        - name: Who
          script: { body: 'echo "on #{Longshore.Worker.Name}"' }
`);
  assert.equal(applied.code, 0, applied.output);
  const regional = await lab.cli(['deploy', 'Regional', '--to', 'Test', '--follow']);
  assert.equal(regional.code, 0, regional.output);
  assert.match(regional.output, /\[Where@eu-box\] region eu-west, tier gold/);

  const who = await lab.cli(['deploy', 'WhoRuns', '--to', 'Test', '--follow']);
  assert.equal(who.code, 2, who.output);
  assert.match(
    who.output,
    /Variable 'Longshore\.Worker\.Name' is known only when the script runs, on the worker that takes it.*read it in the script with \$\(get_longshore_variable Longshore\.Worker\.Name\)/,
  );
});

async function waitForLine(taskId: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await lab.taskLog(taskId)).some((l) => pattern.test(l.text))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no line ${pattern} in task ${taskId}`);
}

test('packages, kubernetes-cluster targets and execution containers through a real deployment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-pkg-'));
  writeFileSync(join(dir, 'hello.txt'), 'hello from the package\n');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', dir, 'hello.txt']);
  const pushed = await lab.cli(['packages', 'push', join(dir, 'app.tar.gz'), '--id', 'webapp', '--version', '1.2.3']);
  assert.equal(pushed.code, 0, pushed.output);
  const TOKEN = 'cluster-token-that-must-stay-hidden';
  await lab.apply(`
targets:
  - name: cluster-a
    type: kubernetes-cluster
    environments: [Test]
    tags: [k8s]
    kubernetes: { apiUrl: 'https://127.0.0.1:6443', namespace: apps, token: ${TOKEN} }
projects:
  - name: Shipping
    process:
      steps:
        - name: Unpack
          packages: [ { packageId: webapp } ]
          script: { body: 'cat packages/webapp/hello.txt' }
        - name: Kube
          runOn: { targetTags: [k8s] }
          script: { body: 'grep -c "\\"server\\": \\"https://127.0.0.1:6443\\"" "$KUBECONFIG"; grep "token" "$KUBECONFIG"' }
        - name: Contained
          condition: always
          container: { image: 'alpine:3.20' }
          script: { body: 'echo never' }
`);
  const res = await lab.cli(['deploy', 'Shipping', '--to', 'Test', '--follow']);
  assert.equal(res.code, 2, res.output);
  assert.match(res.output, /\[Unpack\] hello from the package/);
  assert.match(res.output, /\[Kube@cluster-a\] 1/);
  assert.match(res.output, /\[Kube@cluster-a\] .*"token": "\*\*\*\*\*\*\*\*"/);
  assert.ok(!res.output.includes(TOKEN), 'the cluster token is masked');
  assert.match(res.output, /Step 'Contained': rejected - .*container/i);
  const target = (await lab.api('GET', '/api/targets/cluster-a')).body;
  assert.equal(target.kubernetes.hasToken, true);
  assert.ok(!JSON.stringify(target).includes(TOKEN));
});

test('secrets are encrypted at rest: the database never holds them in plain text', async () => {
  const secrets = [SECRET, 'cluster-token-that-must-stay-hidden'];
  if (TEST_ON_POSTGRES) {
    // Every row of every table, as the database gives it to anyone who can read it.
    const stored = await storedText((await testDatabaseFor(lab.dataDir)).database!);
    assert.match(stored, /Deployment succeeded/, 'the task log is there to search');
    for (const secret of secrets) assert.equal(stored.indexOf(secret), -1, `${secret} in the database`);
    return;
  }
  const db = readFileSync(join(lab.dataDir, 'longshore.db'));
  const wal = existsSync(join(lab.dataDir, 'longshore.db-wal'))
    ? readFileSync(join(lab.dataDir, 'longshore.db-wal'))
    : Buffer.alloc(0);
  for (const secret of secrets) {
    assert.equal(db.indexOf(secret), -1, `${secret} in the database`);
    assert.equal(wal.indexOf(secret), -1, `${secret} in the write-ahead log`);
  }
});
