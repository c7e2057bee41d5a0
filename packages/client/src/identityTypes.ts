/*
 * Users, teams, roles, API keys, sessions and the audit log, as /api/openapi.json documents them
 * (the server's identity/ and audit/ routes); apiTypes.ts re-exports them with the rest.
 */

/** The permissions roles are made of (GET /api/roles lists each with what it allows). */
export type PermissionName =
  | 'project:view'
  | 'project:edit'
  | 'process:edit'
  | 'variable:view'
  | 'variable:view-sensitive'
  | 'variable:edit'
  | 'release:create'
  | 'deployment:create'
  | 'task:view'
  | 'task:cancel'
  | 'environment:view'
  | 'environment:edit'
  | 'target:view'
  | 'target:edit'
  | 'package:view'
  | 'package:push'
  | 'worker:view'
  | 'worker:manage'
  | 'worker:register'
  | 'user:manage'
  | 'audit:view'
  | 'webhook:manage';

/** A password sign-in: the token is sent as a Bearer, exactly like an API key, until it expires or is ended. */
export interface SignedIn {
  token: string;
  expiresAt: string;
  user: { name: string; displayName: string };
}

/** A role held through a team, for every project and environment (null) or for the ones named. */
export interface UserGrant {
  team: string;
  role: string;
  /** A newer server may name permissions this client does not know. */
  permissions: string[];
  projects: string[] | null;
  environments: string[] | null;
}

/** The caller: who they are, how they came (an API key or a session), and what they may do where. */
export interface Me {
  id: string;
  name: string;
  displayName: string;
  via: 'apiKey' | 'session';
  /** As the credential carries them: a key that names permissions carries only those. */
  grants: UserGrant[];
}

export interface User {
  id: string;
  name: string;
  displayName: string;
  email: string | null;
  hasPassword: boolean;
  singleSignOn: boolean;
  disabled: boolean;
  /** Locked out after failed sign-ins until then; null when not locked. */
  lockedUntil: string | null;
  lastSignInAt: string | null;
  createdAt: string;
  teams: string[];
}

export interface UserInput {
  name: string;
  displayName?: string;
  email?: string | null;
  /** null: signs in only through single sign-on. */
  password?: string | null;
  /** Teams by name or id. */
  teams?: string[];
}

/** What an update changes; what it leaves out stays as it is. */
export interface UserChange {
  displayName?: string;
  email?: string | null;
  password?: string | null;
  /** A disabled user's sessions end at once. */
  disabled?: boolean;
  /** Ends a lockout after failed sign-ins. */
  unlock?: true;
  teams?: string[];
}

export interface TeamRoleGrant {
  /** A role by name or id. */
  role: string;
  /** Only these projects (names or ids); null or absent: all. */
  projects?: string[] | null;
  /** Only these environments (names or ids); null or absent: all. */
  environments?: string[] | null;
}

export interface TeamInput {
  name: string;
  description?: string;
  /** Users by name or id; absent on update: kept as they are. */
  members?: string[];
  /** Absent on update: kept as they are. */
  roles?: TeamRoleGrant[];
}

export interface Team {
  id: string;
  name: string;
  description: string;
  members: string[];
  roles: { role: string; projects: string[] | null; environments: string[] | null }[];
}

export interface Role {
  id: string;
  name: string;
  description: string;
  /** Built-in roles follow the server's version and cannot change. */
  builtIn: boolean;
  permissions: string[];
}

/** The roles, and every permission there is with what it allows. */
export interface RoleCatalogue {
  roles: Role[];
  permissions: { name: string; description: string }[];
}

export interface ApiKey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /** null: all of its user's permissions. */
  permissions: string[] | null;
}

export interface ApiKeyInput {
  name: string;
  /** Default 90; null for a key that never expires. */
  expiresInDays?: number | null;
  /** Only these of the user's permissions; default all of them. */
  permissions?: PermissionName[];
}

/** A key as made: `key` is shown this once (the server keeps only its hash). */
export interface NewApiKey extends ApiKey {
  key: string;
}

/** One thing done, or refused, through the API. */
export interface AuditEvent {
  /** Pass as `before` for the entries older than this one. */
  id: number;
  at: string;
  actor: string;
  via: string;
  address: string;
  /** `POST /api/deployments`, `sign-in`, `failed sign-in`. */
  action: string;
  objectKind: string | null;
  object: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  status: number;
  /** What changed, field by field, secrets redacted. */
  changes: { path: string; before?: unknown; after?: unknown }[] | null;
  /** The request, or why it was refused (`message`, `permission`, ...). */
  detail: Record<string, unknown> | null;
}

/** Filters of the audit log; all optional. Times are ISO 8601. */
export interface AuditQuery {
  actor?: string;
  object?: string;
  objectKind?: string;
  since?: string;
  until?: string;
  /** Entries older than this id: the next page back. */
  before?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}
