import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { LongshoreError, isLongshoreError } from '../errors.js';
import {
  checkEntry,
  DEFAULT_ARCHIVE_LIMITS,
  EntryTree,
  ExpansionBudget,
  insidePath,
  type ArchiveLimits,
  type EntryKind,
} from './packageEntries.js';

/** What a tar parser reports of an entry (node-tar's ReadEntry has these). */
export interface TarHeader {
  path: string;
  type: string;
  linkpath?: string | undefined;
  size?: number | undefined;
}

const KINDS: Record<string, EntryKind> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  GNUDumpDir: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};
const TYPE_NAMES: Record<string, string> = {
  CharacterDevice: 'character device',
  BlockDevice: 'block device',
  FIFO: 'FIFO',
};

/**
 * The package rules for a .tar.gz, fed by whatever parses it: each entry is checked as its header
 * arrives (a header declaring a huge file is refused before its bytes are inflated), and meter()
 * counts the decompressed stream itself, padding and headers included, against the same limits.
 */
export class TarEntryCheck {
  private readonly declared: ExpansionBudget;
  private readonly decompressed: ExpansionBudget;
  private readonly tree = new EntryTree();
  entries = 0;

  constructor(archiveBytes: number, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) {
    this.declared = new ExpansionBudget(archiveBytes, limits);
    this.decompressed = new ExpansionBudget(archiveBytes, limits);
  }

  entry(header: TarHeader): void {
    this.entries++;
    this.declared.entry(header.path);
    const kind = KINDS[header.type] ?? 'other';
    const path = checkEntry({
      name: header.path,
      kind,
      ...(header.linkpath !== undefined ? { linkTarget: header.linkpath } : {}),
      typeName: TYPE_NAMES[header.type] ?? `tar entry of type ${header.type}`,
    });
    this.declared.add(header.size ?? 0, header.path);
    if (kind === 'hardlink') {
      const refuse = (): never => {
        throw new LongshoreError(
          'INVALID_PACKAGE',
          `The archive's entry '${header.path}' is a hard link to '${header.linkpath}', which is not a file earlier in the archive`,
          { entry: header.path },
        );
      };
      if (!this.tree.isFile(insidePath(header.linkpath ?? '', refuse))) refuse();
    }
    if (path !== '') this.tree.add(path, kind === 'directory' ? 'directory' : 'file', header.path);
  }

  meter(): Transform {
    const budget = this.decompressed;
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        try {
          budget.add(chunk.length);
        } catch (error) {
          done(error as Error);
          return;
        }
        done(null, chunk);
      },
    });
  }
}

/**
 * What scanTarGz needs of a tar parser: node-tar's Parser, passed in by the server and the worker
 * (which depend on node-tar) so that both read a .tar.gz with one parser and one set of rules.
 */
export interface TarParser extends NodeJS.WritableStream {
  on(event: 'entry', listener: (entry: TarHeader & { resume(): unknown }) => void): this;
  abort(error: Error): void;
}

/**
 * Reads a .tar.gz through to its end with the package rules, without writing anything; answers
 * its entry count. The first refusal aborts the parse and is what this rejects with.
 */
export async function scanTarGz(
  path: string,
  parser: TarParser,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<number> {
  const check = new TarEntryCheck((await stat(path)).size, limits);
  parser.on('entry', (entry) => {
    try {
      check.entry(entry);
    } catch (error) {
      parser.abort(error as Error);
    }
    entry.resume();
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), check.meter(), parser);
  } catch (error) {
    if (isLongshoreError(error)) throw error;
    throw new LongshoreError('INVALID_PACKAGE', `The .tar.gz archive is corrupt: ${(error as Error).message}`);
  }
  return check.entries;
}
