import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import {
  LEFTOVER_MS,
  storedElsewhere,
  type PackageStorage,
  type RecordContent,
  type StoredContent,
} from './packageStorage.js';
import { damaged, openVerified } from './verifiedContent.js';

/**
 * One row's worth of a package. Large enough that a 256 MiB package is a few hundred rows, small
 * enough that a read or a write holds one chunk in memory, never the package.
 */
export const CHUNK_BYTES = 1024 * 1024;

const PREFIX = 'database:';

/**
 * Package bytes in the store itself, in chunks: several server nodes then share packages through
 * the database alone. For small installations: every download reads its bytes from the database.
 * Chunks are written under a fresh upload id, outside any transaction (other requests go on while
 * a large package is written), and become a content only when the row naming their upload commits.
 */
export class DatabasePackageStorage implements PackageStorage {
  constructor(
    private readonly db: Store,
    /** Where pushes are received and verified on this node before their bytes go to the store. */
    private readonly uploadDir: string,
  ) {}

  async uploadPath(): Promise<string> {
    await mkdir(this.uploadDir, { recursive: true });
    return join(this.uploadDir, `.upload-${randomUUID()}`);
  }

  /** Uploads of this node, and chunks of writes that never committed, on any node. */
  async sweepLeftovers(olderThanMs = LEFTOVER_MS): Promise<void> {
    const before = Date.now() - olderThanMs;
    for (const name of await readdir(this.uploadDir).catch(() => [] as string[])) {
      const path = join(this.uploadDir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (name.startsWith('.upload-') && modified !== undefined && modified < before) await rm(path, { force: true });
    }
    await this.db
      .deleteFrom('package_chunks')
      .where('written_at', '<', before)
      .where('upload_id', 'not in', (q) => q.selectFrom('package_contents').select('upload_id'))
      .execute();
  }

  async store(upload: string, content: { size: number; sha256: string }, record: RecordContent): Promise<void> {
    const uploadId = randomUUID();
    let committed = false;
    try {
      const written = await this.writeChunks(uploadId, upload);
      if (written.size !== content.size || written.sha256 !== content.sha256) {
        throw new LongshoreError(
          'INTERNAL',
          `The upload changed on this server's disk between its check and its copy into the database (${written.size} bytes with sha256 ${written.sha256}, received ${content.size} with ${content.sha256}): push it again`,
        );
      }
      const replaced = await this.db.transaction().execute(async (trx) => {
        await record(trx, `${PREFIX}${content.sha256}`);
        const previous = await trx
          .selectFrom('package_contents')
          .select('upload_id')
          .where('sha256', '=', content.sha256)
          .executeTakeFirst();
        const row = { upload_id: uploadId, size: content.size, chunk_count: written.chunks, created_at: Date.now() };
        // The same bytes pushed again replace the stored copy, as a rename does in a directory: that repairs a damaged one.
        await trx
          .insertInto('package_contents')
          .values({ sha256: content.sha256, ...row })
          .onConflict((oc) => oc.column('sha256').doUpdateSet(row))
          .execute();
        return previous?.upload_id;
      });
      committed = true;
      if (replaced !== undefined) await this.dropChunks(replaced);
    } finally {
      if (!committed) await this.dropChunks(uploadId);
      await rm(upload, { force: true });
    }
  }

  async open(content: StoredContent): Promise<Readable> {
    if (!content.reference.startsWith(PREFIX)) throw storedElsewhere(content, 'database');
    const problem = (found: string) => damaged(content, 'content', found, { reference: content.reference });
    const stored = await this.db
      .selectFrom('package_contents')
      .select(['upload_id', 'chunk_count'])
      .where('sha256', '=', content.sha256)
      .executeTakeFirst();
    if (stored === undefined) throw problem('it is not in the database');
    return openVerified(content, () => Readable.from(this.readChunks(stored.upload_id, stored.chunk_count)), problem);
  }

  /** One chunk at a time, each its own query: no transaction or cursor is held while a client reads slowly. */
  private async *readChunks(uploadId: string, count: number): AsyncGenerator<Buffer> {
    for (let seq = 0; seq < count; seq++) {
      const chunk = await this.db
        .selectFrom('package_chunks')
        .select('data')
        .where('upload_id', '=', uploadId)
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (chunk === undefined) throw new Error(`chunk ${seq + 1} of ${count} is missing`);
      yield Buffer.from(chunk.data);
    }
  }

  private async writeChunks(
    uploadId: string,
    upload: string,
  ): Promise<{ size: number; sha256: string; chunks: number }> {
    const hash = createHash('sha256');
    const handle = await open(upload, 'r');
    let size = 0;
    let chunks = 0;
    try {
      for (;;) {
        const data = Buffer.alloc(CHUNK_BYTES);
        let filled = 0;
        while (filled < CHUNK_BYTES) {
          const { bytesRead } = await handle.read(data, filled, CHUNK_BYTES - filled, null);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled === 0) break;
        const chunk = data.subarray(0, filled);
        hash.update(chunk);
        size += filled;
        await this.db
          .insertInto('package_chunks')
          .values({ upload_id: uploadId, seq: chunks++, written_at: Date.now(), data: chunk })
          .execute();
        if (filled < CHUNK_BYTES) break;
      }
    } finally {
      await handle.close();
    }
    return { size, sha256: hash.digest('hex'), chunks };
  }

  private async dropChunks(uploadId: string): Promise<void> {
    await this.db.deleteFrom('package_chunks').where('upload_id', '=', uploadId).execute();
  }
}
