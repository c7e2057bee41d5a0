import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../crypto/secretBox.js';
import { newId } from '../crypto/tokens.js';
import { createDeploymentTask, type CreatedTask } from '../orchestration/taskCreation.js';
import type { Step } from '../resources/processSchema.js';
import type { ReleaseSnapshot } from '../resources/releases.js';
import type { StoredVariable } from '../resources/projectVariables.js';
import { openStore, type Store } from '../store/database.js';

/** A real store in a temporary directory, with the default pool and one environment, for the orchestration's own tests. */
export interface DeploymentStore {
  db: Store;
  box: SecretBox;
  defaultPoolId: string;
  environmentId: string;
  /** Writes a project and a release of it running `steps`, then a queued task deploying it. */
  deploy(steps: Step[], variables?: StoredVariable[]): Promise<CreatedTask>;
  addPool(name: string): Promise<string>;
  addTarget(name: string, tags: string[], properties?: Record<string, string>): Promise<string>;
  addWorker(name: string, pools: string[]): Promise<string>;
  close(): Promise<void>;
}

/** On SQLite in a temporary directory, or on the PostgreSQL database `database` names. */
export async function openDeploymentStore(database?: string): Promise<DeploymentStore> {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-orchestration-'));
  const db = await openStore({ dataDir: dir, database });
  const box = new SecretBox(randomBytes(32));
  const t = Date.now();
  const addPool = async (name: string, isDefault = 0) => {
    const id = newId('pool');
    await db
      .insertInto('worker_pools')
      .values({ id, name, description: '', is_default: isDefault, created_at: t })
      .execute();
    return id;
  };
  const defaultPoolId = await addPool('default', 1);
  const environmentId = newId('env');
  await db
    .insertInto('environments')
    .values({ id: environmentId, name: 'Test', description: '', created_at: t })
    .execute();
  let releases = 0;
  return {
    db,
    box,
    defaultPoolId,
    environmentId,
    addPool: (name) => addPool(name),
    async deploy(steps, variables = []) {
      const projectId = newId('project');
      const projectName = `P${++releases}`;
      const process = { steps };
      await db
        .insertInto('projects')
        .values({
          id: projectId,
          name: projectName,
          description: '',
          process: JSON.stringify(process),
          created_at: t,
          updated_at: t,
        })
        .execute();
      const snapshot: ReleaseSnapshot = {
        projectId,
        projectName,
        process,
        variables,
        stepPackages: steps.map(() => []),
        references: 'ids',
      };
      const releaseId = newId('release');
      await db
        .insertInto('releases')
        .values({
          id: releaseId,
          project_id: projectId,
          version: '1.0.0',
          snapshot: box.sealJson(snapshot),
          notes: '',
          created_at: t,
        })
        .execute();
      return createDeploymentTask(
        { db, box },
        {
          deploymentId: newId('deploy'),
          releaseId,
          releaseVersion: '1.0.0',
          projectName,
          environmentId,
          environmentName: 'Test',
        },
        Date.now(),
      );
    },
    async addTarget(name, tags, properties = {}) {
      const id = newId('target');
      await db
        .insertInto('targets')
        .values({
          id,
          name,
          type: 'generic',
          environments: JSON.stringify([environmentId]),
          tags: JSON.stringify(tags),
          properties: JSON.stringify({ properties }),
          secret: null,
          created_at: t,
        })
        .execute();
      return id;
    },
    async addWorker(name, pools) {
      const id = newId('worker');
      await db
        .insertInto('workers')
        .values({
          id,
          name,
          credential_hash: newId('hash'),
          executor: 'local',
          version: '0',
          pools: JSON.stringify(pools),
          capacity: 4,
          metadata: '{}',
          disabled: 0,
          last_seen_at: t,
          registered_at: t,
        })
        .execute();
      return id;
    },
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A deployment store and, on PostgreSQL, the stores of `nodes - 1` more server nodes on its
 * database, each with a connection pool of its own: `dbs` has one per node, the first the store's.
 */
export async function openNodeStores(
  database: string | undefined,
  nodes: number,
): Promise<{ store: DeploymentStore; dbs: Store[]; close(): Promise<void> }> {
  const store = await openDeploymentStore(database);
  const dirs: string[] = [];
  const others: Store[] = [];
  for (let n = 1; n < nodes; n++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'longshore-node-'));
    dirs.push(dataDir);
    others.push(await openStore({ dataDir, database }));
  }
  return {
    store,
    dbs: [store.db, ...others],
    async close() {
      for (const db of others) await db.destroy();
      await store.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
