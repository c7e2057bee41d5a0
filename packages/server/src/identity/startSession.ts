import type { Updateable } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { hashToken, newId, newSecretToken } from '../crypto/tokens.js';
import { SESSION_PREFIX } from './userCredentials.js';

export interface StartedSession {
  /** Shown once, to the one who signed in; only its hash is kept. */
  token: string;
  expiresAt: number;
}

/**
 * A portal session for a user who has just proved who they are (a password, a single sign-on),
 * lasting sessionHours. `alsoSet` changes the user in the same transaction: a password sign-in
 * clears its run of failures there.
 */
export async function startSession(
  ctx: Pick<ServerContext, 'db' | 'config'>,
  user: { id: string },
  address: string,
  alsoSet: Updateable<Database['users']> = {},
): Promise<StartedSession> {
  const t = Date.now();
  const token = newSecretToken(SESSION_PREFIX);
  const expiresAt = t + ctx.config.sessionHours * 3_600_000;
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ ...alsoSet, last_sign_in_at: t })
      .where('id', '=', user.id)
      .execute();
    await trx
      .insertInto('sessions')
      .values({
        id: newId('session'),
        user_id: user.id,
        hash: hashToken(token),
        created_at: t,
        expires_at: expiresAt,
        last_seen_at: t,
        address,
      })
      .execute();
    // Ended sessions are of no use to anyone: they go as new ones come.
    await trx.deleteFrom('sessions').where('expires_at', '<=', t).execute();
  });
  return { token, expiresAt };
}
