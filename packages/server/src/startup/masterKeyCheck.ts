import { createHmac, timingSafeEqual } from 'node:crypto';
import { LongshoreError, isErrorCode } from '@longshore/protocol';
import type { MasterKey } from '../crypto/masterKey.js';
import type { SecretBox } from '../crypto/secretBox.js';
import type { Store } from '../store/database.js';

/** What the check is an HMAC of; changing it voids every installation's check. */
const CHECK_LABEL = 'longshore master key check v1';

function digestOf(box: SecretBox): string {
  return createHmac('sha256', box.deriveKey('master-key-check')).update(CHECK_LABEL).digest('hex');
}

function mismatch(key: MasterKey): LongshoreError {
  return new LongshoreError(
    'MASTER_KEY_MISMATCH',
    `This server's master key (from ${key.source}) does not match the one the database was sealed with, so it refuses to start and writes nothing: ` +
      "give every server node the same key: set LONGSHORE_MASTER_KEY (the masterKey setting) to the base64 key of the node that first used this database, or copy that node's <dataDir>/master.key into this node's data directory",
    { source: key.source },
  );
}

/**
 * Compares the master key with the check the database holds, before anything is sealed or opened:
 * a node started with another key would otherwise seal new values no other node can open, and
 * fail every deployment that reads an old one. The first start writes the check. An installation
 * from before the check gets it from its current key, once that key is seen to open what it sealed.
 */
export async function checkMasterKey(db: Store, box: SecretBox, key: MasterKey): Promise<void> {
  const digest = digestOf(box);
  let stored = await storedDigest(db);
  if (stored === undefined) {
    if (!(await opensSealedValues(db, box))) throw refuse(key);
    // Two nodes starting on a new database at once: the first row wins, the other node compares with it.
    await db
      .insertInto('master_key_check')
      .values({ id: 1, digest, created_at: Date.now() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    stored = (await storedDigest(db))!;
  }
  if (stored.length !== digest.length || !timingSafeEqual(Buffer.from(stored), Buffer.from(digest))) throw refuse(key);
}

/** A key made by this start sealed nothing: removed, so no one later mistakes it for the installation's. */
function refuse(key: MasterKey): LongshoreError {
  if (key.created) key.discard();
  return mismatch(key);
}

async function storedDigest(db: Store): Promise<string | undefined> {
  const row = await db.selectFrom('master_key_check').select('digest').where('id', '=', 1).executeTakeFirst();
  return row?.digest;
}

/** Every task's context is sealed, so one task tells whether the key opens what this database holds. */
async function opensSealedValues(db: Store, box: SecretBox): Promise<boolean> {
  const task = await db.selectFrom('tasks').select('context').limit(1).executeTakeFirst();
  if (task === undefined) return true;
  try {
    box.open(task.context);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'CONFIG_INVALID')) return false;
    throw error;
  }
}
