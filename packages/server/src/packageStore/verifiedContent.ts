import { createHash } from 'node:crypto';
import { Transform, pipeline as connect, type Readable } from 'node:stream';
import { LongshoreError, isLongshoreError } from '@longshore/protocol';
import type { StoredContent } from './packageStorage.js';

/** How a storage names its copy in messages: "file" in a directory, "content" in the database. */
export type CopyKind = 'file' | 'content';

export function damaged(content: StoredContent, kind: CopyKind, found: string, where: Record<string, unknown>) {
  return new LongshoreError(
    'INTERNAL',
    `The stored ${kind} of ${content.what} no longer matches what was pushed (${found}; expected ${content.size} bytes with sha256 ${content.sha256}): ` +
      'it was changed or damaged on the server, so it is not served. Restore it from a backup, or push the content again as a new version',
    { ...where, expectedSha256: content.sha256 },
  );
}

/**
 * Opens stored bytes only after their size and SHA-256 were checked, so damaged bytes are refused
 * with an error instead of being served. The returned stream hashes again as it sends and holds
 * back the last chunk until the hash matches: a change between the check and the send breaks the
 * download rather than completing it with other bytes.
 */
export async function openVerified(
  content: StoredContent,
  read: () => Readable,
  problem: (found: string) => LongshoreError,
): Promise<Readable> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of read() as AsyncIterable<Buffer>) {
      size += chunk.length;
      // No need to read on through a file grown far past what was pushed.
      if (size > content.size) throw problem(`it has more than ${content.size} bytes`);
      hash.update(chunk);
    }
  } catch (error) {
    if (isLongshoreError(error)) throw error;
    throw problem(`it cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size !== content.size) throw problem(`it has ${size} bytes`);
  const actual = hash.digest('hex');
  if (actual !== content.sha256) throw problem(`its sha256 is ${actual}`);
  // The callback form ends both streams together, whichever side fails or goes away first.
  return connect(read(), holdUntilVerified(content, problem), () => {});
}

function holdUntilVerified(content: StoredContent, problem: (found: string) => LongshoreError): Transform {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      const actual = hash.digest('hex');
      if (actual !== content.sha256) done(problem(`its sha256 changed to ${actual} while it was sent`));
      else done(null, held);
    },
  });
}
