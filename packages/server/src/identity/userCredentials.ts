import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { hashToken } from '../crypto/tokens.js';
import { grantsOf, narrowed, permissionList, type Grant } from './grants.js';

export const SESSION_PREFIX = 'lss_';
export const API_KEY_PREFIX = 'lsk_';

/** A signed-in user, by API key or portal session, with the grants this credential carries. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  userName: string;
  via: 'apiKey' | 'session';
  credentialId: string;
  grants: Grant[];
}

/** Last use is kept to the minute: enough to find unused keys and idle sessions, without a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The user behind an API key or a session token, checked on every request: a revoked or expired
 * key, an ended session and a disabled user are refused at once, with what to do about it.
 */
export async function authenticateUser(db: Store, token: string, now = Date.now()): Promise<UserPrincipal> {
  const hash = hashToken(token);
  if (token.startsWith(SESSION_PREFIX)) {
    const session = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.id',
        'sessions.expires_at',
        'sessions.last_seen_at',
        'users.id as userId',
        'users.name',
        'users.disabled',
      ])
      .where('sessions.hash', '=', hash)
      .executeTakeFirst();
    if (!session || session.expires_at <= now)
      throw new LongshoreError('UNAUTHENTICATED', 'The session has ended; sign in again');
    if (session.disabled) throw new LongshoreError('UNAUTHENTICATED', `User '${session.name}' is disabled`);
    if (now - session.last_seen_at > LAST_USED_RESOLUTION_MS)
      await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', session.id).execute();
    return {
      kind: 'user',
      userId: session.userId,
      userName: session.name,
      via: 'session',
      credentialId: session.id,
      grants: await grantsOf(db, session.userId),
    };
  }
  const key = await db
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.name as keyName',
      'api_keys.last_used_at',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.permissions',
      'users.id as userId',
      'users.name as userName',
      'users.disabled',
    ])
    .where('api_keys.hash', '=', hash)
    .executeTakeFirst();
  if (!key || !key.userId) throw new LongshoreError('UNAUTHENTICATED', 'The API key is not valid');
  if (key.revoked_at !== null)
    throw new LongshoreError(
      'UNAUTHENTICATED',
      `API key '${key.keyName}' was revoked on ${new Date(key.revoked_at).toISOString()}; make a new one`,
    );
  if (key.expires_at !== null && key.expires_at <= now)
    throw new LongshoreError(
      'UNAUTHENTICATED',
      `API key '${key.keyName}' expired on ${new Date(key.expires_at).toISOString()}; make a new one`,
    );
  if (key.disabled) throw new LongshoreError('UNAUTHENTICATED', `User '${key.userName}' is disabled`);
  if (key.last_used_at === null || now - key.last_used_at > LAST_USED_RESOLUTION_MS)
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', key.id).execute();
  const grants = await grantsOf(db, key.userId);
  return {
    kind: 'user',
    userId: key.userId,
    userName: key.userName!,
    via: 'apiKey',
    credentialId: key.id,
    grants: narrowed(grants, key.permissions === null ? null : permissionList(key.permissions)),
  };
}
