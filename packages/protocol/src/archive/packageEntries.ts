import { LongshoreError } from '../errors.js';

/**
 * What a package archive may expand to. Real packages compress text a few times and sparse or
 * zero-filled files a few hundred; a bomb's single entry expands a thousandfold. The floor lets a
 * small archive hold a moderately large sparse file; the ceiling bounds the disk one push can fill.
 */
export interface ArchiveLimits {
  maxRatio: number;
  ratioFloorBytes: number;
  maxExpandedBytes: number;
  maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxRatio: 200,
  ratioFloorBytes: 64 * 1024 * 1024,
  maxExpandedBytes: 8 * 1024 * 1024 * 1024,
  maxEntries: 100_000,
};

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface ArchiveEntry {
  name: string;
  kind: EntryKind;
  /** For links: what the entry points at. */
  linkTarget?: string;
  /** What the entry type is called in the archive, for `other` ("character device", "FIFO"). */
  typeName?: string;
}

/**
 * Counts the bytes an archive expands to, across all its entries, and stops at the limits
 * derived from the archive's own size: checked while inflating, so a bomb is refused after at
 * most the limit's worth of work and never more than a buffer's worth of memory.
 */
export class ExpansionBudget {
  readonly maxBytes: number;
  private expanded = 0;
  private entries = 0;

  constructor(
    private readonly archiveBytes: number,
    private readonly limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
  ) {
    this.maxBytes = Math.min(limits.maxExpandedBytes, Math.max(limits.ratioFloorBytes, archiveBytes * limits.maxRatio));
  }

  entry(name: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw new LongshoreError(
        'INVALID_PACKAGE',
        `The archive has more than ${this.limits.maxEntries} entries (the limit); '${name}' is past it`,
      );
    }
  }

  add(bytes: number, name?: string): void {
    this.expanded += bytes;
    if (this.expanded > this.maxBytes) {
      const rule =
        this.maxBytes === this.limits.maxExpandedBytes
          ? `the ${this.limits.maxExpandedBytes}-byte limit for any package`
          : `the ${this.maxBytes}-byte limit for an archive of ${this.archiveBytes} bytes (${this.limits.maxRatio} times its size, at least ${this.limits.ratioFloorBytes} bytes)`;
      throw new LongshoreError(
        'INVALID_PACKAGE',
        `The archive expands to more than ${rule}${name === undefined ? '' : `; entry '${name}' goes past it`} (a compression bomb, or a package that should be split)`,
        { limitBytes: this.maxBytes, ...(name === undefined ? {} : { entry: name }) },
      );
    }
  }
}

/**
 * The one rule for what a package may contain, on push and again before extraction: regular
 * files and directories whose paths stay inside the package, and hard links to such paths (the
 * caller checks that the target is a file earlier in the archive, see EntryTree.isFile).
 * Symbolic links are refused outright: one that points inside can be chained with another
 * (`a -> .`, `b -> a/..`) to point outside, and a later entry written through it lands wherever
 * it points.
 * Returns the entry's path relative to the package root, with `/` separators.
 */
export function checkEntry(entry: ArchiveEntry): string {
  const refuse = (why: string): never => {
    throw new LongshoreError('INVALID_PACKAGE', `The archive's entry '${entry.name}' ${why}`, { entry: entry.name });
  };
  const path = insidePath(entry.name, (why) => refuse(`${why}; entries must stay inside the package root`));
  const target = entry.linkTarget === undefined ? '' : ` (to '${entry.linkTarget}')`;
  if (entry.kind === 'symlink') refuse(`is a symbolic link${target}; packages may hold only files and directories`);
  if (entry.kind === 'other')
    refuse(`is a ${entry.typeName ?? 'special file'}; packages may hold only files and directories`);
  if (path === '' && entry.kind !== 'directory') refuse('has no file name');
  if (entry.kind === 'hardlink') {
    insidePath(entry.linkTarget ?? '', (why) =>
      refuse(
        `is a hard link to '${entry.linkTarget}', which ${why.replace(/^has an/, 'is an')}; a link must point at a file of the package`,
      ),
    );
  }
  return path;
}

/** `name` relative to the package root with `/` separators, or `refuse` with why it is not. */
export function insidePath(name: string, refuse: (why: string) => never): string {
  // Some Windows tools write backslashes as separators.
  const path = name.replaceAll('\\', '/');
  if (path.includes('\0')) refuse('has a NUL character in its name');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) refuse('has an absolute path');
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) refuse("climbs out of the package with '..'");
  return parts.join('/');
}

/**
 * The paths an archive has named so far: a file may not be named twice nor sit where a directory
 * is (or the reverse), so extraction never replaces or writes through what an earlier entry made.
 */
export class EntryTree {
  private readonly files = new Set<string>();
  private readonly directories = new Set<string>();

  isFile(path: string): boolean {
    return this.files.has(path);
  }

  add(path: string, kind: 'file' | 'directory', name: string): void {
    const refuse = (why: string): never => {
      throw new LongshoreError('INVALID_PACKAGE', `The archive's entry '${name}' ${why}`, { entry: name });
    };
    const parts = path === '' ? [] : path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.files.has(parent)) refuse(`is inside '${parent}', which the archive has as a file`);
      this.directories.add(parent);
    }
    if (kind === 'directory') {
      if (this.files.has(path)) refuse(`would replace the file '${path}' the archive already has`);
      this.directories.add(path);
    } else {
      if (this.files.has(path)) refuse('appears twice in the archive');
      if (this.directories.has(path)) refuse(`would replace the directory '${path}' the archive already has`);
      this.files.add(path);
    }
  }
}
