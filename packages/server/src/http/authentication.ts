import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { isPackageToken } from '../crypto/packageTokens.js';
import type { SecretBox } from '../crypto/secretBox.js';
import { hashToken } from '../crypto/tokens.js';
import { authenticatePackageToken, type PackageTokenPrincipal } from './packageTokenAccess.js';
import { authenticateUser, type UserPrincipal } from '../identity/userCredentials.js';

export type Principal =
  UserPrincipal | { kind: 'worker'; workerId: string; workerName: string; disabled: boolean } | PackageTokenPrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/**
 * Each route says who may call it (routeAccess.ts) and this hook holds it to that: a worker
 * credential opens worker routes only, a user's API key or session the others only (with the
 * permission each needs, see identity/authorization.ts), and a package token the one route that
 * downloads an operation's packages. The decision is made on the route the router
 * matched, so no spelling of a path can reach a route without its credential.
 */
export function installAuthentication(app: FastifyInstance, db: Store, box: SecretBox): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // No route matched: the not-found handler answers, and nothing is behind it.
    if (access === undefined || access === 'public') return;
    const token = bearerToken(request);
    if (token === undefined) {
      throw new LongshoreError(
        'UNAUTHENTICATED',
        'Send an API key as "Authorization: Bearer <key>" or "X-Longshore-Api-Key: <key>"',
      );
    }
    if (isPackageToken(token)) {
      if (access !== 'workerOrPackageToken') {
        throw new LongshoreError(
          'UNAUTHENTICATED',
          "A package token only downloads its operation's packages (GET /api/agent/packages/<id>/<version>/content); other routes take a worker credential or an API key",
        );
      }
      request.principal = await authenticatePackageToken(db, box, token);
      return;
    }
    const hash = hashToken(token);
    if (access === 'worker' || access === 'workerOrPackageToken') {
      const worker = await db
        .selectFrom('workers')
        .select(['id', 'name', 'disabled'])
        .where('credential_hash', '=', hash)
        .executeTakeFirst();
      if (!worker)
        throw new LongshoreError(
          'UNAUTHENTICATED',
          'The worker credential is not known to this server; register the worker again',
        );
      request.principal = {
        kind: 'worker',
        workerId: worker.id,
        workerName: worker.name,
        disabled: worker.disabled === 1,
      };
      return;
    }
    request.principal = await authenticateUser(db, token);
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.toLowerCase().startsWith('bearer '))
    return header.slice(7).trim() || undefined;
  const alt = request.headers['x-longshore-api-key'];
  return typeof alt === 'string' && alt.length > 0 ? alt : undefined;
}

export function requireWorker(request: FastifyRequest): Extract<Principal, { kind: 'worker' }> {
  const p = request.principal;
  if (p?.kind !== 'worker') throw new LongshoreError('FORBIDDEN', 'This route is for workers');
  return p;
}

export function requireUser(request: FastifyRequest): UserPrincipal {
  const p = request.principal;
  if (p?.kind !== 'user') throw new LongshoreError('FORBIDDEN', 'This route is for users');
  return p;
}
