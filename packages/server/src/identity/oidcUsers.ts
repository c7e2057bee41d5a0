import type { Selectable } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { isUniqueViolation, type Store } from '../store/database.js';
import { newId } from '../crypto/tokens.js';
import { inTransaction, lookUpByRef, nameHolder } from '../resources/common.js';
import { CONTROL_CHARACTERS, NAME_MAX_LENGTH } from '../resources/names.js';
import type { ProviderIdentity } from './oidcClient.js';

type UserRow = Selectable<Database['users']>;

export interface SignedInUser {
  user: UserRow;
  /** Made by this sign-in, in these teams. */
  created?: { teams: string[] };
}

const CONTROL = new RegExp(`[${CONTROL_CHARACTERS}]`, 'g');
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** Text from a claim as a name can hold it: no control characters, no spaces at the ends, at most `max` characters. */
function cleaned(claim: unknown, max = NAME_MAX_LENGTH): string | undefined {
  if (typeof claim !== 'string') return undefined;
  const text = [...claim.replace(CONTROL, '').normalize('NFC').trim()].slice(0, max).join('').trim();
  return text === '' ? undefined : text;
}

/**
 * The user the provider vouched for, found by issuer and subject (never by name or email, which
 * a provider may let people choose), or made on their first sign-in: named by the username
 * claim (then email, then subject), with a number added when the name is taken, no password,
 * and the teams oidcDefaultTeams names that exist.
 */
export async function userForIdentity(ctx: ServerContext, identity: ProviderIdentity): Promise<SignedInUser> {
  const known = await byIdentity(ctx.db, identity);
  if (known) return { user: known };
  const { claims } = identity;
  // Room for the number a taken name gets.
  const base =
    cleaned(claims[ctx.config.oidcUsernameClaim], NAME_MAX_LENGTH - 8) ??
    cleaned(claims.email, NAME_MAX_LENGTH - 8) ??
    cleaned(identity.subject, NAME_MAX_LENGTH - 8) ??
    newId('user');
  const email = typeof claims.email === 'string' && claims.email.length <= 320 && EMAIL.test(claims.email);
  try {
    return await inTransaction(ctx, async (tx) => {
      const name = await freeName(tx.db, base);
      const id = newId('user');
      await tx.db
        .insertInto('users')
        .values({
          id,
          name,
          display_name: cleaned(claims.name) ?? name,
          email: email ? (claims.email as string) : null,
          password_hash: null,
          oidc_issuer: identity.issuer,
          oidc_subject: identity.subject,
          disabled: 0,
          failed_sign_ins: 0,
          locked_until: null,
          last_sign_in_at: null,
          created_at: Date.now(),
        })
        .execute();
      const teams = await joinDefaultTeams(tx, id);
      const user = await tx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return { user, created: { teams } };
    });
  } catch (error) {
    // The same person signing in twice at once: the other sign-in made them.
    const made = isUniqueViolation(error) ? await byIdentity(ctx.db, identity) : undefined;
    if (made) return { user: made };
    throw error;
  }
}

function byIdentity(db: Store, identity: ProviderIdentity): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('oidc_issuer', '=', identity.issuer)
    .where('oidc_subject', '=', identity.subject)
    .executeTakeFirst();
}

/** `base`, or `base-2`, `base-3`… : the first no user holds by the name rule. */
async function freeName(db: Store, base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!(await nameHolder(db, 'users', name))) return name;
  }
}

/**
 * The default teams that exist; one that does not is left out and logged (teams are renamed and
 * deleted while the server runs, and signing in should not fail for it).
 */
async function joinDefaultTeams(tx: ServerContext, userId: string): Promise<string[]> {
  const joined: string[] = [];
  const missing: string[] = [];
  for (const ref of tx.config.oidcDefaultTeams) {
    const team = await lookUpByRef(tx.db, 'teams', ref);
    if (!team) {
      missing.push(ref);
      continue;
    }
    await tx.db
      .insertInto('team_members')
      .values({ team_id: team.id, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    joined.push(team.name);
  }
  if (missing.length)
    tx.log.warn(
      { missing },
      'oidcDefaultTeams names teams that do not exist: a user made by single sign-on joined the others only',
    );
  return joined;
}
