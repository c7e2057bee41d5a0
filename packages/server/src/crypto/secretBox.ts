import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LongshoreError } from '@longshore/protocol';

const PREFIX = 'v1:';

/** AES-256-GCM for values at rest: sensitive variables, target tokens, release snapshots. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32)
      throw new LongshoreError('CONFIG_INVALID', `The master key must be 32 bytes, got ${key.length}`);
    this.#key = key;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${body.toString('base64')}`;
  }

  open(sealed: string): string {
    const [iv, tag, body] = sealed.slice(PREFIX.length).split(':');
    if (!sealed.startsWith(PREFIX) || iv === undefined || tag === undefined || body === undefined) {
      throw new LongshoreError('INTERNAL', 'A stored secret is not in the expected format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new LongshoreError(
        'CONFIG_INVALID',
        'A stored secret cannot be decrypted: the master key is not the one it was sealed with',
      );
    }
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(sealed: string): T {
    return JSON.parse(this.open(sealed)) as T;
  }

  /** A key for another use of the master key (signing tokens), so that no two uses share a key. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `longshore/${purpose}`, 32));
  }
}
