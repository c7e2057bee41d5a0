// Who may do what, through the API and the CLI: each built-in role is allowed what its
// permissions name and refused the rest with a 403 naming the missing permission; a role scoped
// to a project and an environment acts only there and sees only that; a key carries at most what
// its user may do; revoked and expired keys, ended sessions and disabled users are refused at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent } from '../support/agentClient.js';
import { runCli } from '../support/cliProcess.js';
import { userWithRoles, type TestUser } from '../support/users.js';

let h: Harness;
let probe = 0;

before(async () => {
  h = await startHarness({ signInAttempts: 3, signInLockoutMinutes: 5 });
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Staging' }, { name: 'Production' }],
    projects: ['A', 'B'].map((name) => ({
      name,
      process: { steps: [{ name: 'Run', script: { body: 'true' } }] },
      variables: [{ name: 'Secret', value: 's3cret-of-' + name, sensitive: true }],
    })),
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
});
after(() => h.close());

/** One request per permission, each making something new where it writes, so that roles can be tried in any order. */
const probes: [string, () => [string, string, unknown?]][] = [
  ['project:view', () => ['GET', '/api/projects/A']],
  ['project:edit', () => ['POST', '/api/projects', { name: `made-${++probe}` }]],
  ['process:edit', () => ['PUT', '/api/projects/A/process', { steps: [{ name: 'Run', script: { body: 'true' } }] }]],
  ['variable:view', () => ['GET', '/api/projects/A/variables']],
  ['variable:view-sensitive', () => ['GET', '/api/projects/A/variables/sensitive']],
  ['variable:edit', () => ['PUT', '/api/projects/A/variables', [{ name: 'Secret', sensitive: true }]]],
  ['release:create', () => ['POST', '/api/projects/A/releases', {}]],
  ['deployment:create', () => ['POST', '/api/deployments', { project: 'A', environment: 'Staging' }]],
  ['task:view', () => ['GET', '/api/tasks']],
  ['environment:view', () => ['GET', '/api/environments']],
  ['environment:edit', () => ['POST', '/api/environments', { name: `env-${++probe}` }]],
  ['target:view', () => ['GET', '/api/targets']],
  [
    'target:edit',
    () => ['POST', '/api/targets', { name: `target-${++probe}`, type: 'generic', environments: ['Staging'] }],
  ],
  ['package:view', () => ['GET', '/api/packages']],
  ['worker:view', () => ['GET', '/api/workers']],
  ['worker:manage', () => ['POST', '/api/worker-pools', { name: `pool-${++probe}` }]],
  ['worker:register', () => ['POST', '/api/registration-tokens', {}]],
  ['user:manage', () => ['GET', '/api/users']],
];

describe('built-in roles', () => {
  for (const role of ['Administrator', 'Project lead', 'Deployer', 'Viewer', 'Infrastructure manager']) {
    test(`${role}: allowed exactly what the role's permissions name, refused the rest naming the permission`, async () => {
      const roles = (await h.api('GET', '/api/roles')).body;
      const permissions: string[] = roles.items.find((r: { name: string }) => r.name === role).permissions;
      const user = await userWithRoles(h, role.toLowerCase().replace(/ /g, '-'), [{ role }]);
      for (const [permission, request] of probes) {
        const [method, path, body] = request();
        const res = await user.api(method, path, body);
        if (permissions.includes(permission)) {
          assert.ok(res.status < 400, `${role} ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
        } else {
          assert.equal(res.status, 403, `${role} ${method} ${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.code, 'FORBIDDEN');
          assert.equal(res.body.details.permission, permission);
          assert.match(res.body.message, new RegExp(`needs permission '${permission}'`));
        }
      }
      assert.ok(!permissions.includes('variable:view-sensitive'), 'no built-in role reveals sensitive values');
    });
  }

  test('through the CLI, each role lists and deploys exactly as its permissions say', async () => {
    const roles = (await h.api('GET', '/api/roles')).body.items as { name: string; permissions: string[] }[];
    for (const role of roles.filter((r) =>
      ['Project lead', 'Deployer', 'Viewer', 'Infrastructure manager'].includes(r.name),
    )) {
      const user = await userWithRoles(h, `cli-${role.name.toLowerCase().replace(/ /g, '-')}`, [{ role: role.name }]);
      const env = { LONGSHORE_URL: h.url, LONGSHORE_API_KEY: user.key };
      const listed = await runCli(['projects'], env);
      assert.equal(listed.code, 0, `${role.name}: ${listed.output}`);
      assert.match(listed.output, /\bA\b/);
      const deployed = await runCli(['deploy', 'A', '--to', 'Staging'], env);
      if (role.permissions.includes('deployment:create'))
        assert.equal(deployed.code, 0, `${role.name}: ${deployed.output}`);
      else {
        assert.notEqual(deployed.code, 0, role.name);
        assert.match(deployed.output, /needs permission 'deployment:create'/, role.name);
      }
      const pools = await runCli(['pools'], env);
      assert.equal(pools.code, role.permissions.includes('worker:view') ? 0 : 1, `${role.name}: ${pools.output}`);
    }
  });
});

describe('a role scoped to a project and an environment', () => {
  let deployer: TestUser;
  before(async () => {
    deployer = await userWithRoles(h, 'a-staging', [{ role: 'Deployer', projects: ['A'], environments: ['Staging'] }]);
  });

  test('deploys A to Staging, and nothing else: not A to Production, not B', async () => {
    const ok = await deployer.api('POST', '/api/deployments', { project: 'A', environment: 'Staging' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const production = await deployer.api('POST', '/api/deployments', { project: 'A', environment: 'Production' });
    assert.equal(production.status, 403);
    assert.deepEqual(production.body.details, {
      permission: 'deployment:create',
      project: 'A',
      environment: 'Production',
    });
    assert.match(production.body.message, /'deployment:create' for project 'A' in environment 'Production'/);
    const other = await deployer.api('POST', '/api/deployments', { project: 'B', environment: 'Staging' });
    assert.equal(other.status, 403);
    assert.equal(other.body.details.project, 'B');
    assert.equal((await deployer.api('PUT', '/api/projects/B/variables', [])).status, 403);
  });

  test('sees only its project and environment, and only the tasks and deployments in its scope', async () => {
    await h.api('POST', '/api/deployments', { project: 'B', environment: 'Production' });
    const projects = (await deployer.api('GET', '/api/projects')).body.items.map((p: { name: string }) => p.name);
    assert.deepEqual(projects, ['A']);
    assert.equal((await deployer.api('GET', '/api/projects/B')).status, 403);
    const environments = (await deployer.api('GET', '/api/environments')).body.items.map(
      (e: { name: string }) => e.name,
    );
    assert.deepEqual(environments, ['Staging'], 'the environments its grant names, where it may deploy');
    const tasks = (await deployer.api('GET', '/api/tasks')).body.items;
    assert.ok(tasks.length > 0);
    assert.ok(
      tasks.every((t: { description: string }) => /Deploy A .* to Staging/.test(t.description)),
      JSON.stringify(tasks.map((t: { description: string }) => t.description)),
    );
    const everything = (await h.api('GET', '/api/tasks')).body.items;
    const other = everything.find((t: { description: string }) => /Deploy B/.test(t.description));
    assert.equal((await deployer.api('GET', `/api/tasks/${other.id}`)).status, 403);
    assert.equal((await deployer.api('POST', `/api/tasks/${other.id}/cancel`)).status, 403);
    const me = (await deployer.api('GET', '/api/me')).body;
    assert.deepEqual(me.grants[0].projects, ['A']);
    assert.deepEqual(me.grants[0].environments, ['Staging']);
  });
});

describe('keys and sessions', () => {
  test("a key carries at most its user's permissions, and fewer when it names them", async () => {
    const deployer = await userWithRoles(h, 'narrow', [{ role: 'Deployer' }]);
    const tooMuch = await deployer.api('POST', '/api/api-keys', { name: 'more', permissions: ['user:manage'] });
    assert.equal(tooMuch.status, 403);
    assert.match(tooMuch.body.message, /user:manage/);
    const made = await deployer.api('POST', '/api/api-keys', { name: 'read-only', permissions: ['project:view'] });
    assert.equal(made.status, 201);
    const readOnly = { authorization: `Bearer ${made.body.key}` };
    assert.equal((await h.api('GET', '/api/projects/A', undefined, readOnly)).status, 200);
    const refused = await h.api('POST', '/api/deployments', { project: 'A', environment: 'Staging' }, readOnly);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.details.permission, 'deployment:create');
  });

  test('a revoked or expired key is refused at once, saying so; so is a disabled user', async () => {
    const user = await userWithRoles(h, 'short-lived', [{ role: 'Viewer' }]);
    const second = await user.api('POST', '/api/api-keys', { name: 'second', expiresInDays: 1 });
    const asSecond = { authorization: `Bearer ${second.body.key}` };
    assert.equal((await h.api('GET', '/api/projects', undefined, asSecond)).status, 200);
    await h.server.ctx.db
      .updateTable('api_keys')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', second.body.id)
      .execute();
    const expired = await h.api('GET', '/api/projects', undefined, asSecond);
    assert.equal(expired.status, 401);
    assert.match(expired.body.message, /expired on/);

    const keys = (await user.api('GET', '/api/api-keys')).body.items;
    const own = keys.find((k: { name: string }) => k.name === 'short-lived-key');
    assert.equal((await user.api('DELETE', `/api/api-keys/${own.id}`)).status, 204);
    const revoked = await user.api('GET', '/api/projects');
    assert.equal(revoked.status, 401);
    assert.match(revoked.body.message, /was revoked on/);

    const other = await userWithRoles(h, 'to-disable', [{ role: 'Viewer' }]);
    assert.equal((await h.api('PUT', '/api/users/to-disable', { disabled: true })).status, 200);
    const disabled = await other.api('GET', '/api/projects');
    assert.equal(disabled.status, 401);
    assert.match(disabled.body.message, /disabled/);
  });

  test('failed sign-ins in a row lock a user out, even with the right password, until an administrator unlocks it', async () => {
    const user = await userWithRoles(h, 'forgetful', [{ role: 'Viewer' }]);
    const unknown = await h.api('POST', '/api/sessions', { name: 'nobody-at-all', password: 'whatever-it-is' });
    const wrong = await h.api('POST', '/api/sessions', { name: 'forgetful', password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.message, unknown.body.message, 'a wrong name and a wrong password read the same');
    await h.api('POST', '/api/sessions', { name: 'forgetful', password: 'not-the-password' });
    await h.api('POST', '/api/sessions', { name: 'forgetful', password: 'not-the-password' });
    const locked = await h.api('POST', '/api/sessions', { name: 'forgetful', password: user.password });
    assert.equal(locked.status, 401);
    assert.match(locked.body.message, /locked until/);
    assert.ok((await h.api('GET', '/api/users/forgetful')).body.lockedUntil);
    assert.equal((await h.api('PUT', '/api/users/forgetful', { unlock: true })).status, 200);
    const session = await h.api('POST', '/api/sessions', { name: 'forgetful', password: user.password });
    assert.equal(session.status, 201);
    const asSession = { authorization: `Bearer ${session.body.token}` };
    assert.equal((await h.api('GET', '/api/projects', undefined, asSession)).status, 200);
    assert.equal((await h.api('DELETE', '/api/sessions/current', undefined, asSession)).status, 204);
    assert.equal((await h.api('GET', '/api/projects', undefined, asSession)).status, 401, 'signed out at once');
  });

  test('no change may leave nobody able to manage users', async () => {
    // A server of its own: here admin is the only one who manages users.
    const h = await startHarness();
    try {
      const demote = await h.api('PUT', '/api/teams/Administrators', {
        name: 'Administrators',
        roles: [{ role: 'Viewer' }],
      });
      assert.equal(demote.status, 409);
      assert.match(demote.body.message, /no enabled user who may manage users/);
      assert.equal((await h.api('DELETE', '/api/teams/Administrators')).status, 409);
      assert.equal((await h.api('DELETE', '/api/users/admin')).status, 409, 'nobody deletes themselves');
      assert.equal((await h.api('GET', '/api/teams/Administrators')).body.roles[0].role, 'Administrator');
    } finally {
      await h.close();
    }
  });

  test('worker credentials and registration tokens open no user route', async () => {
    const agent = await registerFakeAgent(h, 'not-a-user');
    const asWorker = await h.api('GET', '/api/projects', undefined, { authorization: `Bearer ${agent.credential}` });
    assert.equal(asWorker.status, 401);
    const { token } = (await h.api('POST', '/api/registration-tokens', {})).body;
    assert.equal((await h.api('GET', '/api/projects', undefined, { authorization: `Bearer ${token}` })).status, 401);
  });
});

describe('users and teams that name what does not exist', () => {
  test('are refused with a 400 naming each, and a change of nothing changes nothing', async () => {
    const team = await h.api('POST', '/api/teams', {
      name: 'ghosts',
      members: ['nobody-here'],
      roles: [{ role: 'No such role', projects: ['Nope'] }],
    });
    assert.equal(team.status, 400, JSON.stringify(team.body));
    assert.deepEqual(team.body.details.problems, [
      "members[0]: user 'nobody-here' does not exist",
      "roles[0].role: role 'No such role' does not exist",
      "roles[0].projects[0]: project 'Nope' does not exist",
    ]);
    assert.equal((await h.api('GET', '/api/teams/ghosts')).status, 404, 'nothing was made');
    const user = await h.api('POST', '/api/users', { name: 'ghostly', teams: ['No team'] });
    assert.equal(user.status, 400);
    assert.match(user.body.message, /team 'No team' does not exist/);
    assert.equal((await h.api('GET', '/api/users/ghostly')).status, 404, 'nothing was made');
    assert.equal((await h.api('PUT', '/api/users/admin', {})).status, 200);
    const signOutWithKey = await h.api('DELETE', '/api/sessions/current');
    assert.equal(signOutWithKey.status, 400);
  });
});
