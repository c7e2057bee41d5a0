import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerContext } from '../context.js';
import { hashToken, newId } from '../crypto/tokens.js';
import { createApiKey } from '../identity/apiKeys.js';
import { hashPassword, newPassword } from '../identity/passwords.js';
import { builtInRoleId } from '../identity/roleIds.js';
import { newUserRow } from '../identity/userRow.js';
import { isUniqueViolation } from '../store/database.js';

export const ADMIN_KEY_FILE = 'admin-api-key';
export const ADMIN_PASSWORD_FILE = 'admin-password';
const ADMIN = 'admin';

type Context = Pick<ServerContext, 'db' | 'config' | 'log'>;

/** Written aside and renamed, so a crash never leaves half a secret under the real name. */
function writeSecret(path: string, secret: string): void {
  writeFileSync(`${path}.new`, secret + '\n', { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

/** User `admin` in team Administrators, which holds the Administrator role everywhere; its password goes to a file. */
async function makeAdmin(ctx: Context): Promise<string> {
  const password = newPassword();
  const id = newId('user');
  const teamId = newId('team');
  const t = Date.now();
  const passwordHash = await hashPassword(password);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('users')
      .values(newUserRow({ id, name: ADMIN, displayName: 'Administrator', email: null, passwordHash }))
      .execute();
    await trx
      .insertInto('teams')
      .values({ id: teamId, name: 'Administrators', description: 'Everything, everywhere', created_at: t })
      .execute();
    await trx.insertInto('team_members').values({ team_id: teamId, user_id: id }).execute();
    await trx
      .insertInto('team_roles')
      .values({
        id: newId('grant'),
        team_id: teamId,
        role_id: builtInRoleId('Administrator'),
        projects: null,
        environments: null,
      })
      .execute();
  });
  const path = join(ctx.config.dataDir, ADMIN_PASSWORD_FILE);
  writeSecret(path, password);
  ctx.log.info({ path, user: ADMIN }, 'made user admin; its password is in the file (change it after signing in)');
  return id;
}

/**
 * The first start makes user `admin` and writes its password to `<dataDir>/admin-password` for
 * the first sign-in. Keys from a store older than users (every one was an administrator's)
 * become the first user's.
 */
async function ensureAdminUser(ctx: Context): Promise<string> {
  const firstUser = () => ctx.db.selectFrom('users').select('id').orderBy('created_at').executeTakeFirst();
  const first = await firstUser();
  const adminId =
    first?.id ?? (await makeAdmin(ctx).catch(async (error: unknown) => madeByAnotherNode(ctx, error, firstUser)));
  await ctx.db.updateTable('api_keys').set({ user_id: adminId }).where('user_id', 'is', null).execute();
  return adminId;
}

/**
 * Several nodes starting together on a new database each find no user and make admin: one
 * commits, the others' insert clashes on the name. Theirs is then the first user, as for a
 * node started later, rather than a failed start.
 */
async function madeByAnotherNode(
  ctx: Context,
  error: unknown,
  firstUser: () => Promise<{ id: string } | undefined>,
): Promise<string> {
  const made = isUniqueViolation(error) ? await firstUser() : undefined;
  if (!made) throw error;
  ctx.log.info("another server node made user admin at the same time; its password is in that node's data directory");
  return made.id;
}

/**
 * The CLI on the server's machine reads `<dataDir>/admin-api-key`. A store without any API key
 * (the first start, or a database lost while the key file stayed) would lock the CLI out, so
 * one is made for admin, without expiry, and written there, saying so. A key file that is no key
 * of the store is reported: the CLI's default key will be refused.
 */
export async function ensureAdministrator(ctx: Context): Promise<void> {
  const adminId = await ensureAdminUser(ctx);
  const path = join(ctx.config.dataDir, ADMIN_KEY_FILE);
  const fileKey = existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  const anyKey = await ctx.db.selectFrom('api_keys').select('id').executeTakeFirst();
  if (!anyKey) {
    const { key } = await createApiKey(ctx.db, { name: 'admin', userId: adminId, expiresAt: null, permissions: null });
    writeSecret(path, key);
    if (fileKey === undefined) ctx.log.info({ path }, 'wrote the admin API key');
    else
      ctx.log.warn(
        { path },
        'the store has no API key (was its database lost or replaced?): made a new admin API key and wrote it over the old key file, whose key this store does not know',
      );
    return;
  }
  if (fileKey === undefined) return;
  const known = await ctx.db
    .selectFrom('api_keys')
    .select('id')
    .where('hash', '=', hashToken(fileKey))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!known) {
    ctx.log.warn(
      { path },
      "the admin API key file holds no valid key of this store (the key was revoked or deleted, or the database replaced): the CLI's default key will be refused; delete the file, or put a valid key in it",
    );
  }
}
