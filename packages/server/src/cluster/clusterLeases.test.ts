import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { freshPostgresDatabase } from '../../../../test/support/postgres.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import { StoredAdvanceRequests } from './advanceRequests.js';
import { InProcessSignals } from './clusterSignals.js';
import { ScheduledWork, type ScheduledJob } from './scheduledWork.js';
import { ServerNodes } from './serverNodes.js';
import { TaskLeases } from './taskLeases.js';

const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
const LEASE_MS = 60_000;
const quiet = { error: () => {}, info: () => {} };
const STORES = [
  { name: 'sqlite', open: () => openDeploymentStore(), skip: false as const },
  {
    name: 'postgres',
    open: async () => openDeploymentStore(await freshPostgresDatabase()),
    skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed',
  },
];

/** Node `id` of a cluster on the store: its task leases and the advances asked of it. */
function node(store: DeploymentStore, id: string) {
  const signals = new InProcessSignals(id);
  const requests = new StoredAdvanceRequests({ db: store.db, nodeId: id, signals, recheckMs: LEASE_MS, log: quiet });
  return { requests, leases: new TaskLeases({ db: store.db, nodeId: id, leaseMs: LEASE_MS, requests }) };
}

/** Whether `leases` may advance the task now, asked as the task runner asks (the row locked, in a transaction). */
const holds = (store: DeploymentStore, leases: TaskLeases, taskId: string) =>
  store.db.transaction().execute((trx) => leases.hold(trx, taskId));

const ownerOf = (store: DeploymentStore, taskId: string) =>
  store.db
    .selectFrom('tasks')
    .select(['owner_node_id', 'owner_lease_expires_at', 'advance_requested'])
    .where('id', '=', taskId)
    .executeTakeFirstOrThrow();

/** A job that counts its starts and stops. */
function job(name: string): ScheduledJob & { runs: number } {
  const j = {
    name,
    runs: 0,
    start: () => void j.runs++,
    stop: () => void j.runs--,
  };
  return j;
}

for (const kind of STORES) {
  test(
    `${kind.name}: a task is advanced by the node holding its lease; another node asks the owner, and takes it over once the lease runs out or is released`,
    { skip: kind.skip },
    async () => {
      const store = await kind.open();
      try {
        const a = node(store, 'node-a');
        const b = node(store, 'node-b');
        const task = await store.deploy([{ name: 'S', script: { syntax: 'bash', body: 'true' } }]);
        assert.equal(await holds(store, a.leases, task.id), true, 'the first advance takes an unheld task');
        assert.equal((await ownerOf(store, task.id)).owner_node_id, 'node-a');

        assert.equal(await holds(store, b.leases, task.id), false, 'another node may not advance it');
        assert.equal((await ownerOf(store, task.id)).advance_requested, 1, 'it asked the owner instead');
        assert.deepEqual(await b.requests.take(), [], 'the request is for the owner, not for the node that asked');
        assert.deepEqual(await a.requests.take(), [task.id]);
        assert.deepEqual(await a.requests.take(), [], 'a request is taken once');

        assert.deepEqual(await b.leases.takeOver(['deploy']), [], 'a live lease is not taken over');
        await store.db
          .updateTable('tasks')
          .set({ owner_lease_expires_at: Date.now() - 1 })
          .execute();
        assert.deepEqual(await b.leases.takeOver(['deploy']), [task.id], 'an expired lease is');
        assert.deepEqual(await a.leases.takeOver(['deploy']), [], 'by one node only');
        assert.equal(await holds(store, a.leases, task.id), false, 'the node that lost it advances it no more');
        assert.equal(await a.leases.renew(), 0, 'nor renews it');
        assert.equal(await b.leases.renew(), 1);

        await b.leases.release();
        assert.equal((await ownerOf(store, task.id)).owner_node_id, null);
        assert.deepEqual(await a.leases.takeOver(['deploy']), [task.id], 'a released task is taken at once');
        assert.deepEqual(
          await a.leases.takeOver(['deploy'], { all: true }),
          [task.id],
          'the one SQLite node takes all',
        );
        await store.db.updateTable('tasks').set({ state: 'succeeded' }).execute();
        assert.equal(await a.leases.renew(), 0, 'an ended task has no lease to renew');
      } finally {
        await store.close();
      }
    },
  );

  test(
    `${kind.name}: each scheduled job runs on one node at a time and moves when its node stops or dies`,
    { skip: kind.skip },
    async () => {
      const store = await kind.open();
      try {
        const jobs = { a: [job('sweep'), job('trim')], b: [job('sweep'), job('trim')] };
        const work = (id: 'a' | 'b') =>
          new ScheduledWork({ db: store.db, nodeId: `node-${id}`, leaseMs: LEASE_MS, log: quiet, jobs: jobs[id] });
        const a = work('a');
        const b = work('b');
        await a.tick();
        await b.tick();
        await a.tick();
        assert.deepEqual(
          [...jobs.a, ...jobs.b].map((j) => j.runs),
          [1, 1, 0, 0],
          'the first node holds them, once',
        );

        await a.stop();
        assert.deepEqual(
          jobs.a.map((j) => j.runs),
          [0, 0],
          'a clean stop stops its jobs',
        );
        await b.tick();
        assert.deepEqual(
          jobs.b.map((j) => j.runs),
          [1, 1],
          'and another node takes them at its next heartbeat',
        );

        // Node b dies: it no longer renews, and its leases run out.
        await store.db
          .updateTable('cluster_leases')
          .set({ expires_at: Date.now() - 1 })
          .execute();
        await a.tick();
        assert.deepEqual(
          jobs.a.map((j) => j.runs),
          [1, 1],
          'a dead node’s jobs are taken over once its leases run out',
        );
        await b.tick();
        assert.deepEqual(
          jobs.b.map((j) => j.runs),
          [0, 0],
          'and a node that finds its lease taken stops its jobs',
        );
      } finally {
        await store.close();
      }
    },
  );

  test(
    `${kind.name}: the node list says which nodes are alive and which running tasks each holds`,
    { skip: kind.skip },
    async () => {
      const store = await kind.open();
      try {
        const nodes = new ServerNodes(store.db, 1_000);
        const identity = (id: string, name: string) => ({ id, name, url: `http://${name}`, version: '1.0.0' });
        await nodes.register(identity('node-a', 'a'), { alone: false });
        await nodes.register(identity('node-b', 'b'), { alone: false });
        const task = await store.deploy([{ name: 'S', script: { syntax: 'bash', body: 'true' } }]);
        assert.equal(await holds(store, node(store, 'node-b').leases, task.id), true);
        await nodes.markStopped('node-a');
        assert.equal(await nodes.othersAlive('node-a'), 1);
        let listed = await nodes.list();
        assert.deepEqual(
          listed.map((n) => [n.name, n.alive, n.stoppedAt !== null, n.tasks.map((t) => t.id)]),
          [
            ['b', true, false, [task.id]],
            ['a', false, true, []],
          ],
        );
        // Node b dies: its heartbeat is older than the lease. A new run of a, under the same name, tidies the old row away.
        await store.db
          .updateTable('server_nodes')
          .set({ heartbeat_at: Date.now() - 5_000 })
          .where('id', '=', 'node-b')
          .execute();
        await nodes.register(identity('node-a2', 'a'), { alone: false });
        listed = await nodes.list();
        assert.deepEqual(
          listed.map((n) => [n.id, n.alive]),
          [
            ['node-a2', true],
            ['node-b', false],
          ],
          'a gone node stays listed while it holds a task',
        );
        assert.equal(await nodes.heartbeat('node-b'), true);
        await nodes.register(identity('node-c', 'c'), { alone: true });
        assert.deepEqual(
          (await nodes.list()).map((n) => n.id),
          ['node-c'],
          'on SQLite the one node is the only one',
        );
      } finally {
        await store.close();
      }
    },
  );
}
