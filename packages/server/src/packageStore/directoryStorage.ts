import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Store } from '../store/database.js';
import {
  LEFTOVER_MS,
  storedElsewhere,
  type PackageStorage,
  type RecordContent,
  type StoredContent,
} from './packageStorage.js';
import { damaged, openVerified } from './verifiedContent.js';

/** What recorded paths start with: the package directory, wherever it is mounted. */
const PREFIX = 'packages';

/**
 * Package files in a directory, named by the SHA-256 of their content under `<directory>/sha256/`.
 * A name derived from the package id and version could collide (`coll/1.2.3-x.4.5.6` and
 * `coll.1.2.3-x/4.5.6` made the same one) and let one push overwrite another's file; a content
 * hash cannot, and two versions with the same bytes share one file. Several server nodes share
 * the directory by mounting it (NFS, SMB): uploads are written inside it and renamed into place,
 * and no file is ever removed, so no node can take away a file another is recording.
 */
export class DirectoryPackageStorage implements PackageStorage {
  constructor(
    private readonly db: Store,
    private readonly directory: string,
  ) {}

  /** What a file is recorded as: `packages/` (the package directory, wherever it is mounted), then its place in it. */
  static referenceOf(sha256: string): string {
    return join(PREFIX, 'sha256', sha256.slice(0, 2), sha256);
  }

  /**
   * In the package directory itself, so that moving an upload into place is a rename on one
   * filesystem, which is atomic. A crash or a full disk leaves only a `.upload-*` file, never a
   * half file under a final name.
   */
  async uploadPath(): Promise<string> {
    const dir = join(this.directory, 'uploads');
    await mkdir(dir, { recursive: true });
    return join(dir, `.upload-${randomUUID()}`);
  }

  /** Only old uploads: a push still streaming in (this node's or another's) writes its file continuously. */
  async sweepLeftovers(olderThanMs = LEFTOVER_MS): Promise<void> {
    const dir = join(this.directory, 'uploads');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith('.upload-'))) {
      const path = join(dir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (modified !== undefined && Date.now() - modified > olderThanMs) await rm(path, { force: true });
    }
  }

  /**
   * Flushes the upload, then renames it to its content's name inside the transaction that records
   * it: a refused record leaves no file, and a commit that fails after the rename leaves a file no
   * package names yet, which the next push of the same bytes takes over.
   */
  async store(upload: string, content: { size: number; sha256: string }, record: RecordContent): Promise<void> {
    const handle = await open(upload, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const reference = DirectoryPackageStorage.referenceOf(content.sha256);
    const path = this.locate(reference);
    await mkdir(dirname(path), { recursive: true });
    await this.db.transaction().execute(async (trx) => {
      await record(trx, reference);
      // The same bytes may already be there (another version); replacing them with identical
      // ones is harmless and repairs a damaged copy.
      await rename(upload, path);
    });
  }

  async open(content: StoredContent): Promise<Readable> {
    if (!content.reference.startsWith(`${PREFIX}/`)) throw storedElsewhere(content, 'directory');
    const path = this.locate(content.reference);
    return openVerified(
      content,
      () => createReadStream(path),
      (found) => damaged(content, 'file', found, { path }),
    );
  }

  private locate(reference: string): string {
    return join(this.directory, reference.slice(PREFIX.length + 1));
  }
}
