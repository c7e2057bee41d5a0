// Who did what, end to end through the CLI against a real server: a user of a team edits a
// process, sets a sensitive variable, deploys and cancels; `longshore audit` names them for each,
// with what changed, and a refusal with the permission it lacked; no sensitive value appears.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../support/lab.js';

const SECRET = 'db-password-that-must-not-leak';
let lab: Lab;

before(async () => {
  lab = new Lab();
  await lab.startServer();
  await lab.apply(`
environments: [ { name: Staging } ]
projects:
  - name: Shop
    process:
      steps:
        - name: Ship
          script: { body: 'echo one' }
`);
  await lab.startWorker('audited-worker');
});
after(() => lab?.close());

test("a team member's process edit, secret, deployment and cancel are each in the audit log under their name, without the secret", async () => {
  const team = await lab.api('POST', '/api/teams', {
    name: 'Shop leads',
    roles: [{ role: 'Project lead', projects: ['Shop'] }],
  });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  const made = await lab.cli(['users', 'create', 'erin', '--team', 'Shop leads'], {
    LONGSHORE_NEW_PASSWORD: 'erin-has-a-long-password',
  });
  assert.equal(made.code, 0, made.output);
  const session = await lab.api('POST', '/api/sessions', { name: 'erin', password: 'erin-has-a-long-password' });
  const asSession = { LONGSHORE_API_KEY: session.body.token };
  const key = await lab.cli(['api-keys', 'create', 'erin-laptop', '--output', 'json'], asSession);
  assert.equal(key.code, 0, key.output);
  const erin = { LONGSHORE_API_KEY: JSON.parse(key.output).key as string };

  const file = join(lab.dir, 'shop.yaml');
  writeFileSync(
    file,
    `projects:
  - name: Shop
    process:
      steps:
        - name: Ship
          script: { body: 'echo two; sleep 120' }
    variables:
      - { name: DbPassword, value: ${SECRET}, sensitive: true }
`,
  );
  const applied = await lab.cli(['apply', '-f', file], erin);
  assert.equal(applied.code, 0, applied.output);
  const deployed = await lab.cli(['deploy', 'Shop', '--to', 'Staging', '--output', 'json'], erin);
  assert.equal(deployed.code, 0, deployed.output);
  const { taskId } = JSON.parse(deployed.output) as { taskId: string };
  await lab.waitForTask(taskId, ['running']);
  const cancelled = await lab.cli(['tasks', 'cancel', taskId], erin);
  assert.equal(cancelled.code, 0, cancelled.output);
  const refused = await lab.cli(['users'], erin);
  assert.notEqual(refused.code, 0, 'a project lead does not manage users');

  const audit = await lab.cli(['audit', '--actor', 'erin', '--since', '1h']);
  assert.equal(audit.code, 0, audit.output);
  const rows = audit.output.split('\n');
  const row = (pattern: RegExp) => rows.find((r) => pattern.test(r));
  assert.ok(
    row(/erin +POST \/api\/apply .*ok .*process\.steps\[0\]\.script\.body: "echo one" → "echo two; sleep 120"/),
    audit.output,
  );
  assert.ok(row(/erin +POST \/api\/deployments .*ok/), audit.output);
  assert.ok(row(new RegExp(`erin +POST /api/tasks/:id/cancel +${taskId} +ok`)), audit.output);
  assert.ok(row(/erin +POST \/api\/api-keys +erin-laptop +ok/), audit.output);
  assert.ok(row(/erin +sign-in +erin +ok/), audit.output);
  assert.ok(row(/erin +GET \/api\/users +denied +needs user:manage/), audit.output);
  const json = await lab.cli(['audit', '--limit', '1000', '--output', 'json']);
  assert.ok(!json.output.includes(SECRET), 'no sensitive value in the audit log');
  assert.ok(!json.output.includes(JSON.parse(key.output).key), 'no API key in the audit log');
});
