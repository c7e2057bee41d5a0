import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfigInput } from '@longshore/server';
import { dropPostgresDatabase, freshPostgresDatabase } from './postgres.js';
import { startHarness, type Harness } from './serverHarness.js';

/** Several server nodes on one PostgreSQL database, as a load balancer would see them. */
export interface HarnessNodes {
  nodes: Harness[];
  database: string;
  close(): Promise<void>;
}

/**
 * Starts `count` harness nodes on one fresh database of the test process's PostgreSQL cluster.
 * The first start makes the store's master key and admin API key; the others get copies of
 * both in data directories of their own, as an operator gives every node the same key (a node
 * with another key refuses to start).
 */
export async function startHarnessNodes(count: number, config: ServerConfigInput = {}): Promise<HarnessNodes> {
  const database = await freshPostgresDatabase();
  const nodes: Harness[] = [];
  const dirs: string[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dropPostgresDatabase(database);
  };
  try {
    for (let i = 0; i < count; i++) {
      const dir = mkdtempSync(join(tmpdir(), `longshore-node${i}-`));
      dirs.push(dir);
      if (i > 0)
        for (const file of ['master.key', 'admin-api-key']) copyFileSync(join(dirs[0]!, file), join(dir, file));
      nodes.push(await startHarness({ ...config, database }, dir));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, database, close };
}
