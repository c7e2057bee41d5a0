import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** An upload untouched this long is a leftover: the slowest real push writes every few seconds. */
const UPLOAD_LEFTOVER_MS = 60 * 60 * 1000;

/**
 * Package files on disk, named by the SHA-256 of their content under `<dataDir>/packages/sha256/`.
 * A name derived from the package id and version could collide (`coll/1.2.3-x.4.5.6` and
 * `coll.1.2.3-x/4.5.6` made the same one) and let one push overwrite another's file; a content
 * hash cannot, and two versions with the same bytes share one file.
 */
export class PackageBlobs {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly dataDir: string) {}

  /** The path a blob is recorded under, relative to the data directory. */
  static pathOf(sha256: string): string {
    return join('packages', 'sha256', sha256.slice(0, 2), sha256);
  }

  /**
   * Where an upload is written first: in the store's own directory, so that moving it into place
   * is a rename on one filesystem, which is atomic. A crash or a full disk leaves only a
   * `.upload-*` file, never a half file under a final name.
   */
  async uploadPath(): Promise<string> {
    const dir = join(this.dataDir, 'packages', 'uploads');
    await mkdir(dir, { recursive: true });
    return join(dir, `.upload-${randomUUID()}`);
  }

  /**
   * Removes what uploads a crash or a killed server left behind. Only old ones: a push still
   * streaming in (another server on the same data directory) writes its file continuously.
   */
  async sweepUploads(olderThanMs = UPLOAD_LEFTOVER_MS): Promise<number> {
    const dir = join(this.dataDir, 'packages', 'uploads');
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names.filter((n) => n.startsWith('.upload-'))) {
      const path = join(dir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (modified !== undefined && Date.now() - modified > olderThanMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Flushes the upload to disk and renames it to its content's name; returns the recorded path. */
  async place(upload: string, sha256: string): Promise<string> {
    const handle = await open(upload, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const path = PackageBlobs.pathOf(sha256);
    await mkdir(dirname(join(this.dataDir, path)), { recursive: true });
    // The same bytes may already be there (another version); replacing them with identical
    // ones is harmless and repairs a damaged copy.
    await rename(upload, join(this.dataDir, path));
    return path;
  }

  /** Removes the blob unless `inUse` (asked under the blob's lock) says a package still records it. */
  async release(path: string, inUse: () => Promise<boolean>): Promise<void> {
    if (!(await inUse())) await rm(join(this.dataDir, path), { force: true });
  }

  /**
   * Runs `work` alone for this content: placing a blob and recording it, or releasing it, so a
   * release never removes a blob that a concurrent push of the same bytes has just placed.
   */
  async exclusive<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(sha256) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(work);
    this.locks.set(sha256, current);
    try {
      return await current;
    } finally {
      if (this.locks.get(sha256) === current) this.locks.delete(sha256);
    }
  }
}
