import type { Readable } from 'node:stream';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';

/** A package's content as the feed recorded it. */
export interface StoredContent {
  /** What the content is, for messages ("package app 1.0.0"). */
  what: string;
  /** Where the storage said it keeps the content (packages.path). */
  reference: string;
  size: number;
  sha256: string;
}

/** Records the package in the transaction that makes its content readable; throwing keeps both unseen. */
export type RecordContent = (trx: Store, reference: string) => Promise<unknown>;

/**
 * Where package bytes live: a directory (which several server nodes share by mounting it) or the
 * store itself. Both are named by content, check size and SHA-256 when writing and before every
 * read, and never let a half-written package be read.
 */
export interface PackageStorage {
  /** Where a push is received and its archive verified before it is stored: a fresh path on this node. */
  uploadPath(): Promise<string>;
  /** Removes what writes a crash or a killed server left behind, if older than `olderThanMs`. */
  sweepLeftovers(olderThanMs?: number): Promise<void>;
  /**
   * Stores the upload, whose bytes were measured as `content`, and makes it readable in the
   * transaction that runs `record`. Consumes the upload's file.
   */
  store(upload: string, content: { size: number; sha256: string }, record: RecordContent): Promise<void>;
  /** The content, once its size and SHA-256 were checked; damaged content is refused, never served. */
  open(content: StoredContent): Promise<Readable>;
}

/** An upload untouched this long is a leftover: the slowest real push writes every few seconds. */
export const LEFTOVER_MS = 60 * 60 * 1000;

/** A package recorded by the other kind of storage than the one this server is configured with. */
export function storedElsewhere(content: StoredContent, configured: 'directory' | 'database'): LongshoreError {
  const other = configured === 'directory' ? 'database' : 'directory';
  return new LongshoreError(
    'INTERNAL',
    `${content.what} was stored with packageStorage ${other}, but this server keeps packages with packageStorage ${configured}: ` +
      'every server node must use the same package storage; switch this one back, or push the package again as a new version',
    { reference: content.reference },
  );
}
