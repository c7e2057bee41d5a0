import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, pipeline as connect, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LongshoreError } from '@longshore/protocol';

export interface StoredFile {
  /** What the file is, for messages ("package app 1.0.0"). */
  what: string;
  path: string;
  size: number;
  sha256: string;
}

const damaged = (file: StoredFile, found: string) =>
  new LongshoreError(
    'INTERNAL',
    `The stored file of ${file.what} no longer matches what was pushed (${found}; expected ${file.size} bytes with sha256 ${file.sha256}): ` +
      'it was changed or damaged on the server, so it is not served. Restore it from a backup, or push the content again as a new version',
    { path: file.path, expectedSha256: file.sha256 },
  );

/**
 * Opens a stored file only after its size and SHA-256 were checked, so damaged bytes are refused
 * with an error instead of being served. The returned stream hashes again as it sends and holds
 * back the last chunk until the hash matches: a change between the check and the send breaks the
 * download rather than completing it with other bytes.
 */
export async function openVerified(file: StoredFile): Promise<Readable> {
  let size: number;
  try {
    size = (await stat(file.path)).size;
  } catch (error) {
    throw damaged(file, `it cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size !== file.size) throw damaged(file, `it has ${size} bytes`);
  const hash = createHash('sha256');
  await pipeline(createReadStream(file.path), hash);
  const actual = hash.digest('hex');
  if (actual !== file.sha256) throw damaged(file, `its sha256 is ${actual}`);
  // The callback form ends both streams together, whichever side fails or goes away first.
  return connect(createReadStream(file.path), holdUntilVerified(file), () => {});
}

function holdUntilVerified(file: StoredFile): Transform {
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
      if (actual !== file.sha256) done(damaged(file, `its sha256 changed to ${actual} while it was sent`));
      else done(null, held);
    },
  });
}
