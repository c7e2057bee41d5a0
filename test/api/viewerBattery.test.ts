// A viewer's key against every route that changes anything, with bad input and good input alike:
// every answer is a 4xx (403 where the input was good enough to be judged), none a 5xx, and the
// store is the same afterwards, row for row. (Only the viewer's own key and session routes may
// change something: their own credentials. The audit log gains the refusals, as it should.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent } from '../support/agentClient.js';
import { userWithRoles, type TestUser } from '../support/users.js';
import { TEST_ON_POSTGRES } from '../support/postgres.js';

let h: Harness;
let viewer: TestUser;

/**
 * Tables and columns that a refused request may touch: the log of refusals, and when a credential was last used;
 * and what the server's heartbeat renews meanwhile (its node's row, its leases).
 */
const MAY_CHANGE = new Set(['audit_events', 'store_probe', 'sessions', 'server_nodes', 'cluster_leases']);
const VOLATILE_COLUMNS = new Set(['last_used_at', 'last_seen_at', 'lease_expires_at', 'owner_lease_expires_at']);

async function snapshot(): Promise<Record<string, unknown[]>> {
  const db = h.server.ctx.db;
  const tables = TEST_ON_POSTGRES
    ? await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`.execute(db)
    : await sql<{
        name: string;
      }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.rows) {
    if (MAY_CHANGE.has(name)) continue;
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(db);
    // In a stable order whatever the store's own: PostgreSQL has no rowid.
    out[name] = rows.rows
      .map((r) => JSON.stringify(Object.entries(r).filter(([k]) => !VOLATILE_COLUMNS.has(k))))
      .sort()
      .map((r) => JSON.parse(r) as unknown);
  }
  return out;
}

before(async () => {
  h = await startHarness();
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Staging' }],
    targets: [{ name: 'web', type: 'generic', environments: ['Staging'] }],
    machinePolicies: [{ name: 'Nightly' }],
    projects: [
      {
        name: 'Shop',
        process: { steps: [{ name: 'Ship', script: { body: 'echo hi' } }] },
        variables: [{ name: 'Token', value: 'secret', sensitive: true }],
      },
    ],
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  await h.api('POST', '/api/projects/Shop/releases', {});
  await h.api('POST', '/api/deployments', { project: 'Shop', environment: 'Staging' });
  await registerFakeAgent(h, 'some-worker');
  viewer = await userWithRoles(h, 'viewer', [{ role: 'Viewer' }]);
});
after(() => h.close());

/** The names the battery fills into path parameters: real ones (so a refusal is about permission, not existence) and junk. */
const realNames = async () => {
  const tasks = (await h.api('GET', '/api/tasks')).body.items;
  const releases = (await h.api('GET', '/api/projects/Shop/releases')).body.items;
  const keys = (await h.api('GET', '/api/api-keys')).body.items;
  return {
    ref: ['Shop', 'Staging', 'web', 'default', 'Nightly', 'some-worker', 'admin', 'Administrators', 'Viewer'],
    id: [tasks[0].id, releases[0].id, keys[0].id],
    packageId: ['app'],
    version: ['1.0.0'],
  };
};

const goodBodies: unknown[] = [
  { name: 'Made-by-a-viewer' },
  { project: 'Shop', environment: 'Staging' },
  { steps: [{ name: 'Ship', script: { body: 'rm -rf /' } }] },
  [{ name: 'Token', value: 'stolen', sensitive: false }],
  { name: 'web', type: 'generic', environments: ['Staging'] },
  { projects: [{ name: 'Shop', process: { steps: [] } }] },
  { machinePolicy: null },
  { pools: ['default'] },
  { name: 'x', password: 'a long enough password', teams: ['Administrators'] },
  { name: 'Administrators', members: ['viewer'], roles: [{ role: 'Administrator' }] },
  {},
];

test("a viewer's key changes nothing through any route, whatever it sends", async () => {
  const names = await realNames();
  const writes = h.server.routes.filter(
    (r) => r.access === 'user' && !['GET', 'HEAD'].includes(r.method) && !isOwnCredentialRoute(r.url),
  );
  assert.ok(writes.length > 30, `${writes.length} routes`);
  const before = await snapshot();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.nat(),
      fc.oneof(fc.constantFrom(...goodBodies), fc.jsonValue({ maxDepth: 3 })),
      fc.nat(),
      async (i, body, pick) => {
        const route = writes[i % writes.length]!;
        const path = route.url.replace(/:(\w+)/g, (_, name: string) => {
          const options = (names as Record<string, string[]>)[name] ?? ['x'];
          return encodeURIComponent(options[pick % options.length]!);
        });
        const res = await viewer.api(route.method, path, route.method === 'DELETE' ? undefined : body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${route.method} ${path} ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`,
        );
      },
    ),
    { numRuns: 600 },
  );
  // Every route refused with a 403 at least once, given a good body: the permission, not the input, stopped it.
  for (const route of writes) {
    const path = route.url.replace(/:(\w+)/g, (_, name: string) =>
      encodeURIComponent((names as Record<string, string[]>)[name]?.[0] ?? 'x'),
    );
    const res = await viewer.api(
      route.method,
      path,
      route.method === 'DELETE' ? undefined : goodBodies.find(() => true),
    );
    assert.ok([400, 403, 404].includes(res.status), `${route.method} ${path}: ${res.status}`);
  }
  assert.ok((statuses.get(403) ?? 0) > 100, JSON.stringify([...statuses]));
  assert.deepEqual(await snapshot(), before, 'the store is as it was');
});

/** What any signed-in user may do to their own credentials. */
function isOwnCredentialRoute(url: string): boolean {
  return url === '/api/api-keys' || url === '/api/api-keys/:id' || url === '/api/sessions/current';
}
