import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Keys, credentials and registration tokens are 32 random bytes, so a plain SHA-256 is enough to
 * store them: there is no low-entropy secret for a slow hash to protect.
 */
export function newSecretToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Short readable ids such as `env-k3x9q2m1ab`; operations use UUIDs as the protocol asks. */
export function newId(prefix: string): string {
  const bytes = randomBytes(10);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${id}`;
}

export { randomUUID as newOperationId };
