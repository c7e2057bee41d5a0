import * as oidc from 'openid-client';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { hashToken } from '../crypto/tokens.js';
import type { AuthorizationChecks } from './oidcClient.js';

/** Long enough to type a password and a second factor at the provider; a flow left longer is refused. */
export const SIGN_IN_FLOW_MINUTES = 10;
/**
 * Starting a sign-in is public and writes a row: past this many under way (the last
 * SIGN_IN_FLOW_MINUTES' worth), new ones are refused until old ones expire, so no one can fill the disk.
 */
const MAX_FLOWS_UNDER_WAY = 10_000;

export interface SignInFlow extends AuthorizationChecks {
  /** The portal path to go back to once signed in. */
  returnTo: string;
}

/** A new sign-in: fresh state, nonce and PKCE verifier, kept until the provider sends the browser back. */
export async function beginFlow(db: Store, returnTo: string, now = Date.now()): Promise<SignInFlow> {
  await db.deleteFrom('oidc_sign_ins').where('expires_at', '<=', now).execute();
  const { count } = await db
    .selectFrom('oidc_sign_ins')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  if (count >= MAX_FLOWS_UNDER_WAY)
    throw new LongshoreError(
      'SIGN_IN_PROVIDER_UNAVAILABLE',
      `Too many sign-ins are under way; try again in ${SIGN_IN_FLOW_MINUTES} minutes`,
    );
  const flow = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    codeVerifier: oidc.randomPKCECodeVerifier(),
    returnTo,
  };
  await db
    .insertInto('oidc_sign_ins')
    .values({
      state_hash: hashToken(flow.state),
      nonce: flow.nonce,
      code_verifier: flow.codeVerifier,
      return_to: returnTo,
      created_at: now,
      expires_at: now + SIGN_IN_FLOW_MINUTES * 60_000,
    })
    .execute();
  return flow;
}

/** The flow this state began, taken out of the store: each can finish once. */
export async function takeFlow(db: Store, state: string, now = Date.now()): Promise<SignInFlow> {
  const row = await db
    .deleteFrom('oidc_sign_ins')
    .where('state_hash', '=', hashToken(state))
    .returningAll()
    .executeTakeFirst();
  if (!row)
    throw new LongshoreError(
      'UNAUTHENTICATED',
      'This sign-in is not one the server started, or it was finished already; sign in again',
    );
  if (row.expires_at <= now)
    throw new LongshoreError(
      'UNAUTHENTICATED',
      `This sign-in took longer than ${SIGN_IN_FLOW_MINUTES} minutes; sign in again`,
    );
  return { state, nonce: row.nonce, codeVerifier: row.code_verifier, returnTo: row.return_to };
}
