import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

/** The master key and where it came from, for the messages of a start that it fails. */
export interface MasterKey {
  key: Buffer;
  /** `LONGSHORE_MASTER_KEY or the masterKey setting`, or the key file's path. */
  source: string;
  /** Made just now, in the data directory: nothing was sealed with it yet. */
  created: boolean;
  /** Removes a key made just now, so that a start refused for it leaves no key that sealed nothing. */
  discard(): void;
}

/** The key from configuration (base64), else `<dataDir>/master.key`, created on first start. */
export function loadMasterKey(dataDir: string, configured: string | undefined): MasterKey {
  const keep = () => {};
  if (configured !== undefined) {
    return {
      key: Buffer.from(configured, 'base64'),
      source: 'LONGSHORE_MASTER_KEY or the masterKey setting',
      created: false,
      discard: keep,
    };
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(path)) {
    return {
      key: Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'),
      source: path,
      created: false,
      discard: keep,
    };
  }
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, source: path, created: true, discard: () => rmSync(path, { force: true }) };
}
