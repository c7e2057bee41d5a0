import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfigInput } from '@longshore/server';
import type { Harness } from './serverHarness.js';

/** Each package storage a server can be configured with, and how a test looks at what it keeps. */
export interface PackageStorageKind {
  name: 'directory' | 'database';
  config: ServerConfigInput;
  /** The SHA-256 of each stored copy of a package's content (a content stored twice is listed twice). */
  stored(h: Harness): Promise<string[]>;
  /** What unfinished writes left: upload files, and chunks that no content names. */
  leftovers(h: Harness): Promise<string[]>;
  /** Overwrites the stored copy of a content behind the server's back, as damage on the server would. */
  overwrite(h: Harness, sha256: string, bytes: Buffer): Promise<void>;
}

/** The database kind's chunk size (packageStore/databaseStorage.ts CHUNK_BYTES). */
export const CHUNK_BYTES = 1024 * 1024;

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

const uploads = (h: Harness) => filesUnder(join(h.dataDir, 'packages', 'uploads'));

const directory: PackageStorageKind = {
  name: 'directory',
  config: { packageStorage: 'directory' },
  stored: async (h) =>
    filesUnder(join(h.dataDir, 'packages', 'sha256')).map((path) => path.slice(path.lastIndexOf('/') + 1)),
  leftovers: async (h) => uploads(h),
  overwrite: async (h, sha256, bytes) =>
    writeFileSync(join(h.dataDir, 'packages', 'sha256', sha256.slice(0, 2), sha256), bytes),
};

const database: PackageStorageKind = {
  name: 'database',
  config: { packageStorage: 'database' },
  stored: async (h) =>
    (await h.server.ctx.db.selectFrom('package_contents').select('sha256').execute()).map((r) => r.sha256),
  async leftovers(h) {
    const chunks = await h.server.ctx.db
      .selectFrom('package_chunks')
      .select(['upload_id', 'seq'])
      .where('upload_id', 'not in', (q) => q.selectFrom('package_contents').select('upload_id'))
      .execute();
    return [...uploads(h), ...chunks.map((c) => `chunk ${c.seq} of upload ${c.upload_id}`)];
  },
  /** Rewrites the chunks, as many as there are, so that fewer bytes leave chunks out. */
  async overwrite(h, sha256, bytes) {
    const db = h.server.ctx.db;
    const content = await db
      .selectFrom('package_contents')
      .select('upload_id')
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('package_chunks').where('upload_id', '=', content.upload_id).execute();
    for (let seq = 0; seq * CHUNK_BYTES < bytes.length; seq++) {
      const data = bytes.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES);
      await db
        .insertInto('package_chunks')
        .values({ upload_id: content.upload_id, seq, written_at: Date.now(), data })
        .execute();
    }
  },
};

export const packageStorageKinds: readonly PackageStorageKind[] = [directory, database];
