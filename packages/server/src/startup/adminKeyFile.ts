import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerContext } from '../context.js';
import { hashToken } from '../crypto/tokens.js';
import { createApiKey } from '../resources/workers.js';

export const ADMIN_KEY_FILE = 'admin-api-key';

/**
 * The CLI on the server's machine reads `<dataDir>/admin-api-key`. A store without any API key
 * (the first start, or a database lost while the key file stayed) would lock everyone out, so
 * one is made and written there, saying so. A key file that is no key of the store is reported:
 * the CLI's default key will be refused.
 */
export async function ensureAdminKey(ctx: Pick<ServerContext, 'db' | 'config' | 'log'>): Promise<void> {
  const path = join(ctx.config.dataDir, ADMIN_KEY_FILE);
  const fileKey = existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  const anyKey = await ctx.db.selectFrom('api_keys').select('id').executeTakeFirst();
  if (!anyKey) {
    const { key } = await createApiKey(ctx, 'admin');
    // Written aside and renamed, so a crash never leaves half a key under the real name.
    writeFileSync(`${path}.new`, key + '\n', { mode: 0o600 });
    renameSync(`${path}.new`, path);
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
    .executeTakeFirst();
  if (!known) {
    ctx.log.warn(
      { path },
      "the admin API key file holds no key of this store (the key was deleted, or the database replaced): the CLI's default key will be refused; delete the file, or put a valid key in it",
    );
  }
}
