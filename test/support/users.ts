import assert from 'node:assert/strict';
import type { Harness } from './serverHarness.js';

export interface RoleGrant {
  role: string;
  projects?: string[];
  environments?: string[];
}

export interface TestUser {
  name: string;
  password: string;
  key: string;
  /** A JSON call with this user's key. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** A user in a team of their own holding these roles, signed in once to make an API key of theirs. */
export async function userWithRoles(h: Harness, name: string, roles: RoleGrant[]): Promise<TestUser> {
  const password = `${name}-password-long-enough`;
  const made = await h.api('POST', '/api/users', { name, password });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const team = await h.api('POST', '/api/teams', { name: `${name}-team`, members: [name], roles });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  const session = await h.api('POST', '/api/sessions', { name, password });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  const key = await h.api(
    'POST',
    '/api/api-keys',
    { name: `${name}-key` },
    { authorization: `Bearer ${session.body.token}` },
  );
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return {
    name,
    password,
    key: key.body.key,
    api: (method, path, body) => h.api(method, path, body, { authorization: `Bearer ${key.body.key}` }),
  };
}
