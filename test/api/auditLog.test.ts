// The audit log through the API: who changed what (the fields that changed, before and after),
// from where; refusals for a missing permission; sign-ins and failed sign-ins; never a secret;
// read by actor, object and time, newest first; append-only, trimmed by age only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { userWithRoles } from '../support/users.js';

const SECRET = 'hunter2-but-longer-and-secret';
let h: Harness;

before(async () => {
  h = await startHarness();
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Staging' }, { name: 'Production' }],
    projects: [{ name: 'Shop', process: { steps: [{ name: 'Ship', script: { body: 'echo one' } }] } }],
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
});
after(() => h.close());

const audit = async (query: string) => {
  const res = await h.api('GET', `/api/audit${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as any[];
};

test('a process edit is kept with who made it, from where, and the field that changed, before and after', async () => {
  const edited = await h.api('PUT', '/api/projects/Shop/process', {
    steps: [{ name: 'Ship', script: { body: 'echo two' } }],
  });
  assert.equal(edited.status, 200);
  const [entry] = await audit('?object=Shop&limit=1');
  assert.equal(entry.actor, 'admin');
  assert.match(entry.via, /^API key key-/);
  assert.equal(entry.address, '127.0.0.1');
  assert.equal(entry.action, 'PUT /api/projects/:ref/process');
  assert.equal(entry.outcome, 'ok');
  const body = entry.changes.find((c: { path: string }) => c.path === 'process.steps[0].script.body');
  assert.deepEqual(body, { path: 'process.steps[0].script.body', before: 'echo one', after: 'echo two' });
});

test('a sensitive variable, a new key and a password are in no entry', async () => {
  assert.equal(
    (await h.api('PUT', '/api/projects/Shop/variables', [{ name: 'Token', value: SECRET, sensitive: true }])).status,
    204,
  );
  const key = await h.api('POST', '/api/api-keys', { name: 'for-ci' });
  assert.equal(key.status, 201);
  assert.equal((await h.api('POST', '/api/users', { name: 'alice', password: SECRET })).status, 201);
  const everything = JSON.stringify(await audit('?limit=1000'));
  assert.ok(!everything.includes(SECRET), 'no sensitive value');
  assert.ok(!everything.includes(key.body.key), 'no API key');
  const [made] = await audit('?object=for-ci');
  assert.equal(made.action, 'POST /api/api-keys');
  assert.ok(made.changes.some((c: { path: string; after: unknown }) => c.path === 'key' && c.after === '[redacted]'));
  const [variables] = await audit('?object=Shop&limit=1');
  assert.equal(variables.action, 'PUT /api/projects/:ref/variables');
  assert.ok(variables.changes.some((c: { after?: { name?: string } }) => JSON.stringify(c).includes('Token')));
});

test('deployments, cancels, and a scoped deployer refused outside its scope are kept', async () => {
  const deployer = await userWithRoles(h, 'staging-deployer', [
    { role: 'Deployer', projects: ['Shop'], environments: ['Staging'] },
  ]);
  const ok = await deployer.api('POST', '/api/deployments', { project: 'Shop', environment: 'Staging' });
  assert.equal(ok.status, 201);
  assert.equal((await deployer.api('POST', `/api/tasks/${ok.body.taskId}/cancel`)).status, 202);
  const refused = await deployer.api('POST', '/api/deployments', { project: 'Shop', environment: 'Production' });
  assert.equal(refused.status, 403);

  const entries = await audit('?actor=staging-deployer');
  const [denied, cancel, deploy] = entries;
  assert.equal(denied.action, 'POST /api/deployments');
  assert.equal(denied.outcome, 'denied');
  assert.equal(denied.status, 403);
  assert.deepEqual(
    [denied.detail.permission, denied.detail.project, denied.detail.environment],
    ['deployment:create', 'Shop', 'Production'],
  );
  assert.equal(cancel.action, 'POST /api/tasks/:id/cancel');
  assert.equal(cancel.object, ok.body.taskId);
  assert.equal(deploy.action, 'POST /api/deployments');
  assert.deepEqual(deploy.detail.request, { project: 'Shop', environment: 'Staging' });
  assert.equal(deploy.object, ok.body.id);
});

test('sign-ins and failed sign-ins are kept, under the name tried', async () => {
  await h.api('POST', '/api/sessions', { name: 'alice', password: 'not the password at all' });
  assert.equal((await h.api('POST', '/api/sessions', { name: 'alice', password: SECRET })).status, 201);
  const [ok, failed] = await audit('?actor=alice');
  assert.deepEqual([ok.action, ok.outcome, ok.via], ['sign-in', 'ok', 'password']);
  assert.deepEqual([failed.action, failed.outcome, failed.status], ['failed sign-in', 'failed', 401]);
  assert.ok(!JSON.stringify([ok, failed]).includes('not the password'));
});

test('read by time and paged back by id; a viewer may not read it; nothing changes it; old entries go', async () => {
  const all = await audit('?limit=3');
  assert.equal(all.length, 3);
  const next = await audit(`?limit=3&before=${all[2].id}`);
  assert.ok(next.every((e) => e.id < all[2].id));
  assert.deepEqual(await audit(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), []);
  assert.equal((await h.api('GET', '/api/audit?since=yesterday')).status, 400);

  const viewer = await userWithRoles(h, 'just-looking', [{ role: 'Viewer' }]);
  const refused = await viewer.api('GET', '/api/audit');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.details.permission, 'audit:view');

  const db = h.server.ctx.db;
  await assert.rejects(sql`UPDATE audit_events SET actor = 'someone else'`.execute(db), /append-only/);
  await db
    .insertInto('audit_events')
    .values({
      at: Date.now() - 400 * 86_400_000,
      actor: 'long-gone',
      actor_user_id: null,
      via: 'session',
      address: '127.0.0.1',
      action: 'POST /api/deployments',
      object_kind: 'deployments',
      object: 'deploy-old',
      outcome: 'ok',
      status: 201,
      changes: null,
      detail: null,
    })
    .execute();
  assert.equal(await h.server.ctx.audit.trim(365), 1);
  assert.deepEqual(await audit('?actor=long-gone'), []);
});
