import type { ApiConnection } from './apiConnection.js';
import type {
  ApiKey,
  ApiKeyInput,
  NewApiKey,
  Role,
  RoleCatalogue,
  SignedIn,
  Team,
  TeamInput,
  User,
  UserChange,
  UserInput,
} from './identityTypes.js';
import { NamedResourceApi } from './namedResourceApi.js';

/** Portal sessions: a password sign-in gives a token that is used like an API key. */
export class SessionsApi {
  constructor(private readonly connection: ApiConnection) {}

  /**
   * Signs in with a user's password; needs no credential. UNAUTHENTICATED for a wrong name or
   * password (the same answer for both), a locked or a disabled user, with the server's message.
   */
  signIn(name: string, password: string, signal?: AbortSignal): Promise<SignedIn> {
    return this.connection.json({ method: 'POST', path: '/api/sessions', json: { name, password }, signal });
  }

  /** Ends the session this client signed in with; VALIDATION_FAILED when it uses an API key. */
  async signOut(signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: '/api/sessions/current', signal });
  }
}

/** Users (user:manage). A user can be deleted, but not by themselves, nor the last who manages users. */
export class UsersApi extends NamedResourceApi<User> {
  create(input: UserInput, signal?: AbortSignal): Promise<User> {
    return this.connection.json({ method: 'POST', path: this.path, json: input, signal });
  }

  /** Changes what the input names: a password, disabling (its sessions end), an unlock, teams. */
  update(ref: string, change: UserChange, signal?: AbortSignal): Promise<User> {
    return this.connection.json({ method: 'PUT', path: this.pathOf(ref), json: change, signal });
  }

  async delete(ref: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: this.pathOf(ref), signal });
  }
}

/** Teams hold users and roles, each role for every project and environment or for some (user:manage). */
export class TeamsApi extends NamedResourceApi<Team> {
  create(input: TeamInput, signal?: AbortSignal): Promise<Team> {
    return this.connection.json({ method: 'POST', path: this.path, json: input, signal });
  }

  /** Renames it and replaces its members and roles where the input gives them. */
  update(ref: string, input: TeamInput, signal?: AbortSignal): Promise<Team> {
    return this.connection.json({ method: 'PUT', path: this.pathOf(ref), json: input, signal });
  }

  async delete(ref: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: this.pathOf(ref), signal });
  }
}

export class RolesApi {
  constructor(private readonly connection: ApiConnection) {}

  /** The roles, built-in first, with every permission there is (user:manage). */
  async list(signal?: AbortSignal): Promise<RoleCatalogue> {
    const answer = await this.connection.json<{ items: Role[]; permissions: RoleCatalogue['permissions'] }>({
      method: 'GET',
      path: '/api/roles',
      signal,
    });
    return { roles: answer.items, permissions: answer.permissions };
  }
}

/** The caller's own API keys: they carry at most the caller's permissions. */
export class ApiKeysApi {
  constructor(private readonly connection: ApiConnection) {}

  /** Revoked and expired ones included, oldest first. */
  async list(signal?: AbortSignal): Promise<ApiKey[]> {
    return (await this.connection.json<{ items: ApiKey[] }>({ method: 'GET', path: '/api/api-keys', signal })).items;
  }

  /** The answer's `key` is shown this once. FORBIDDEN when it names a permission its user lacks. */
  create(input: ApiKeyInput, signal?: AbortSignal): Promise<NewApiKey> {
    return this.connection.json({ method: 'POST', path: '/api/api-keys', json: input, signal });
  }

  /** The key stops opening anything at once; it stays listed with when. */
  async revoke(id: string, signal?: AbortSignal): Promise<void> {
    await this.connection.json({ method: 'DELETE', path: `/api/api-keys/${encodeURIComponent(id)}`, signal });
  }
}
