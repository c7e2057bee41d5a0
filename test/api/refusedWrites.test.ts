import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
const kubernetes = { apiUrl: 'https://cluster.example:6443', namespace: 'apps' };

before(async () => {
  h = await startHarness();
  const setup: [string, string, unknown][] = [
    ['POST', '/api/environments', { name: 'E1' }],
    ['POST', '/api/environments', { name: 'E2' }],
    ['POST', '/api/worker-pools', { name: 'P1' }],
    ['POST', '/api/worker-pools', { name: 'P2' }],
    ['POST', '/api/targets', { name: 'T1', type: 'generic', environments: ['E1'], tags: ['web'] }],
    [
      'POST',
      '/api/targets',
      {
        name: 'T2',
        type: 'kubernetes-cluster',
        environments: ['E2'],
        kubernetes: { ...kubernetes, token: 'secret-token' },
      },
    ],
    [
      'POST',
      '/api/projects',
      {
        name: 'Proj',
        process: {
          steps: [{ name: 'Deploy', script: { body: 'echo #{Greeting}' }, runOn: { pool: 'P1', targetTags: ['web'] } }],
        },
        variables: [
          { name: 'Greeting', value: 'hello', scope: { environments: ['E1'], targets: ['T1'] } },
          { name: 'Secret', value: 's3cret', sensitive: true },
        ],
      },
    ],
    [
      'POST',
      '/api/projects',
      { name: 'Idle', process: { steps: [{ name: 'Build', script: { body: 'make' }, runOn: { pool: 'P2' } }] } },
    ],
    ['POST', '/api/projects/Proj/releases', { version: '1.0.0' }],
    // Waits on P1, which has no worker: a deployment in progress.
    ['POST', '/api/deployments', { project: 'Proj', environment: 'E1', release: '1.0.0' }],
  ];
  for (const [method, path, body] of setup) {
    const res = await h.api(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${JSON.stringify(res.body)}`);
  }
});
after(() => h.close());

/** Everything a user can read. */
async function everything(): Promise<unknown> {
  const paths = [
    '/api/environments',
    '/api/worker-pools',
    '/api/targets',
    '/api/projects',
    '/api/deployments',
    '/api/tasks',
    '/api/workers',
    '/api/api-keys',
  ];
  const state: Record<string, unknown> = {};
  for (const path of paths) state[path] = (await h.api('GET', path)).body;
  for (const p of (state['/api/projects'] as { items: { name: string }[] }).items) {
    for (const sub of ['variables', 'releases'])
      state[`${p.name}/${sub}`] = (await h.api('GET', `/api/projects/${encodeURIComponent(p.name)}/${sub}`)).body;
  }
  return state;
}

test('every write refused at its last check changes nothing', async () => {
  // Each passes every check but the last one the route makes.
  const refused: [string, string, unknown, number, RegExp][] = [
    [
      'PUT',
      '/api/targets/T1',
      { name: 'RenT2', type: 'generic', environments: ['E1', 'NoSuchEnv'] },
      400,
      /environment 'NoSuchEnv' does not exist/,
    ],
    ['POST', '/api/environments', { name: 'e1' }, 409, /already exists/],
    ['PUT', '/api/environments/E2', { name: 'E1', description: 'changed' }, 409, /already exists/],
    ['DELETE', '/api/environments/E2', undefined, 409, /used by target 'T2'/],
    ['POST', '/api/worker-pools', { name: 'p1' }, 409, /already exists/],
    ['PUT', '/api/worker-pools/P1', { name: 'DEFAULT', description: 'changed' }, 409, /already exists/],
    ['DELETE', '/api/worker-pools/P1', undefined, 409, /operations in progress/],
    ['DELETE', '/api/worker-pools/P2', undefined, 409, /runs steps of project 'Idle'/],
    ['DELETE', '/api/worker-pools/default', undefined, 409, /default worker pool/],
    [
      'POST',
      '/api/targets',
      { name: 'T3', type: 'kubernetes-cluster', environments: ['E1'], kubernetes },
      400,
      /kubernetes\.token is required/,
    ],
    ['PUT', '/api/targets/T1', { name: 't2', type: 'generic', environments: ['E1'] }, 409, /already exists/],
    [
      'PUT',
      '/api/targets/T1',
      { name: 'RenT1', type: 'kubernetes-cluster', environments: ['E2'], kubernetes },
      400,
      /kubernetes\.token is required/,
    ],
    [
      'PUT',
      '/api/targets/T2',
      { name: 'RenT2', type: 'generic', environments: ['E1'], kubernetes },
      400,
      /only for type kubernetes-cluster/,
    ],
    ['DELETE', '/api/targets/T1', undefined, 409, /scopes variable 'Greeting' of project 'Proj'/],
    [
      'POST',
      '/api/projects',
      {
        name: 'NewProject',
        process: { steps: [{ name: 's', script: { body: 'x' } }] },
        variables: [{ name: 'S', sensitive: true }],
      },
      400,
      /value is required/,
    ],
    [
      'PUT',
      '/api/projects/Proj/process',
      {
        steps: [
          { name: 'a', script: { body: 'x' } },
          { name: 'b', script: { body: 'x' }, runOn: { pool: 'nope' } },
        ],
      },
      400,
      /worker pool 'nope'/,
    ],
    [
      'PUT',
      '/api/projects/Proj/variables',
      [
        { name: 'Greeting', value: 'bye', scope: { environments: ['E2'] } },
        { name: 'New', sensitive: true },
      ],
      400,
      /value is required/,
    ],
    [
      'PUT',
      '/api/projects/Proj/variables',
      [{ name: 'Greeting', value: 'bye', scope: { targets: ['T1', 'Gone'] } }],
      400,
      /target 'Gone' does not exist/,
    ],
    ['DELETE', '/api/projects/Proj', undefined, 409, /deployment in progress/],
    ['POST', '/api/projects/Proj/releases', { version: '1.0.0' }, 409, /already exists/],
    ['POST', '/api/deployments', { project: 'Proj', environment: 'E1', release: '9.9.9' }, 404, /no release 9\.9\.9/],
    ['POST', '/api/registration-tokens', { pools: ['P1', 'ghost'] }, 404, /Worker pool 'ghost'/],
    [
      'POST',
      '/api/apply',
      {
        environments: [{ name: 'NewEnv' }, { name: 'E1', description: 'changed' }],
        workerPools: [{ name: 'NewPool' }],
        targets: [
          { name: 'T1', type: 'generic', environments: ['NewEnv'], tags: ['changed'] },
          { name: 'NewTarget', type: 'generic', environments: ['NewEnv'] },
        ],
        projects: [
          {
            name: 'AppliedProject',
            process: { steps: [{ name: 's', script: { body: 'x' }, runOn: { pool: 'NewPool' } }] },
          },
          {
            name: 'Proj',
            description: 'changed',
            variables: [
              { name: 'Greeting', value: 'x' },
              { name: 'Late', sensitive: true },
            ],
          },
        ],
      },
      400,
      /projects\[1\] 'Proj': variables\[1\] 'Late': value is required/,
    ],
  ];
  const before = await everything();
  for (const [method, path, body, status, message] of refused) {
    const res = await h.api(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, message, `${method} ${path}`);
    assert.deepEqual(await everything(), before, `${method} ${path} ${JSON.stringify(body)} changed something`);
  }
});
