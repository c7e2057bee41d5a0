import { createHmac, timingSafeEqual } from 'node:crypto';
import { LongshoreError } from '@longshore/protocol';
import type { SecretBox } from './secretBox.js';

/**
 * Package tokens: what a script pod's init container downloads its operation's packages with,
 * so the pod never holds the worker's own credential. Stateless (HMAC-SHA256 under a key derived
 * from the master key): nothing to store or sweep, and a new master key voids them all. Being
 * stateless they cannot be revoked one by one; the operation's end does that instead, as every
 * use also checks that the operation is still running for the worker that asked for the token.
 *
 *   lsp_<base64url(JSON {o: operationId, w: workerId, e: expiresAt ms})>.<base64url(HMAC)>
 */
export const PACKAGE_TOKEN_PREFIX = 'lsp_';

/**
 * The longest a token lives. The init container downloads before the script starts, so a token
 * is needed only while the pod waits for a node (scriptPods.pendingTimeout, 15 min by default)
 * and downloads; four hours leaves room for a slow autoscaler and large packages, and bounds
 * what a leaked pod Secret of a week-long step exposes.
 */
export const MAX_PACKAGE_TOKEN_SECONDS = 4 * 3600;

export interface PackageTokenClaims {
  operationId: string;
  workerId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const SIGNATURE_BYTES = 32;
const keys = new WeakMap<SecretBox, Buffer>();

function signingKey(box: SecretBox): Buffer {
  let key = keys.get(box);
  if (!key) {
    key = box.deriveKey('package-tokens/v1');
    keys.set(box, key);
  }
  return key;
}

function sign(box: SecretBox, payload: string): Buffer {
  return createHmac('sha256', signingKey(box)).update(`${PACKAGE_TOKEN_PREFIX}${payload}`).digest();
}

export function isPackageToken(token: string): boolean {
  return token.startsWith(PACKAGE_TOKEN_PREFIX);
}

/**
 * A token lives as long as the operation may run (the worker stops it at its timeout, counted
 * from a start that came before the token was asked for), capped at MAX_PACKAGE_TOKEN_SECONDS.
 */
export function packageTokenExpiry(timeoutSeconds: number, now: number): number {
  return now + Math.min(timeoutSeconds, MAX_PACKAGE_TOKEN_SECONDS) * 1000;
}

export function issuePackageToken(box: SecretBox, claims: PackageTokenClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ o: claims.operationId, w: claims.workerId, e: claims.expiresAt }),
  ).toString('base64url');
  return `${PACKAGE_TOKEN_PREFIX}${payload}.${sign(box, payload).toString('base64url')}`;
}

/** The claims of a token this server signed and that has not expired; UNAUTHENTICATED otherwise. */
export function verifyPackageToken(box: SecretBox, token: string, now: number): PackageTokenClaims {
  const invalid = () =>
    new LongshoreError(
      'UNAUTHENTICATED',
      'The package token is not valid: it was not issued by this server or was altered',
    );
  if (!isPackageToken(token)) throw invalid();
  const dot = token.lastIndexOf('.');
  if (dot < 0) throw invalid();
  const payload = token.slice(PACKAGE_TOKEN_PREFIX.length, dot);
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  if (signature.length !== SIGNATURE_BYTES || !timingSafeEqual(signature, sign(box, payload))) throw invalid();
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { o, w, e } = (claims ?? {}) as { o?: unknown; w?: unknown; e?: unknown };
  if (typeof o !== 'string' || typeof w !== 'string' || typeof e !== 'number') throw invalid();
  if (e <= now) {
    throw new LongshoreError(
      'UNAUTHENTICATED',
      `The package token of operation ${o} expired at ${new Date(e).toISOString()}; tokens last as long as their operation may run (at most ${MAX_PACKAGE_TOKEN_SECONDS / 3600} hours): run the step again`,
    );
  }
  return { operationId: o, workerId: w, expiresAt: e };
}
