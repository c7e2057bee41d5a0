import type { Database } from '../store/schema.js';

/** A new user's row: never signed in, not locked, enabled; signs in with a password, single sign-on, or both. */
export function newUserRow(user: {
  id: string;
  name: string;
  displayName: string;
  email: string | null;
  passwordHash: string | null;
  oidc?: { issuer: string; subject: string };
}): Database['users'] {
  return {
    id: user.id,
    name: user.name.normalize('NFC'),
    display_name: user.displayName,
    email: user.email,
    password_hash: user.passwordHash,
    oidc_issuer: user.oidc?.issuer ?? null,
    oidc_subject: user.oidc?.subject ?? null,
    disabled: 0,
    failed_sign_ins: 0,
    locked_until: null,
    last_sign_in_at: null,
    created_at: Date.now(),
  };
}
