// /readyz on PostgreSQL: a node whose database is down answers 503 with the cause (what the
// server chart's readiness probe takes the node out of its Service by), keeps answering /livez
// (so it is not restarted over an outage), refuses writes with the same code, and is ready again
// by itself once the database is back.
// Run: node --conditions=source --import tsx --test test/api/postgresReadiness.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshPostgresDatabase, restartPostgres, stopPostgres, TEST_DATABASE_PASSWORD } from '../support/postgres.js';
import { startHarness } from '../support/serverHarness.js';

test('a node is unready while its PostgreSQL is down, and ready again once it is back', async () => {
  const h = await startHarness({ database: await freshPostgresDatabase() });
  try {
    assert.equal((await h.api('GET', '/readyz')).status, 200);
    await stopPostgres();
    try {
      const readyz = await h.api('GET', '/readyz');
      assert.equal(readyz.status, 503, JSON.stringify(readyz.body));
      assert.equal(readyz.body.code, 'STORE_UNAVAILABLE');
      assert.match(readyz.body.message, /The PostgreSQL store at 127\.0\.0\.1:\d+, database \w+, does not take writes/);
      assert.ok(!JSON.stringify(readyz.body).includes(TEST_DATABASE_PASSWORD), 'the password is not in the answer');
      assert.equal((await h.api('GET', '/livez')).status, 200);
      const write = await h.api('POST', '/api/environments', { name: 'During the outage' });
      assert.equal(write.status, 503, JSON.stringify(write.body));
    } finally {
      await restartPostgres();
    }
    assert.equal((await h.api('GET', '/readyz')).status, 200);
    assert.equal((await h.api('POST', '/api/environments', { name: 'After the outage' })).status, 201);
  } finally {
    await h.close();
  }
});
