import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import { nulReplaced } from '../store/storageErrors.js';

/**
 * NUL characters in request bodies once they are valid (a name's own rules refuse control
 * characters first, with their message), handled alike on both stores (PostgreSQL's text keeps none;
 * SQLite's would, and `longshore migrate` could then not copy it).
 * - What a worker reports (a result's message, a progress message, a log line, a health check's
 *   detail) can hold whatever a script or a pod wrote. Each NUL becomes U+FFFD (nulReplaced):
 *   refusing would leave the worker retrying a result the server never takes.
 * - A user's request is refused with the field that holds one: what they typed is theirs to fix.
 */
export function installNulHandling(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    // A JSON body only: a text or binary one (a package upload) is its handler's to judge.
    if (!isJson(request.body)) return;
    const access = request.routeOptions.config.access;
    if (access === 'worker' || access === 'workerOrPackageToken') {
      request.body = replaceNul(request.body);
      return;
    }
    const where = nulAt(request.body, 'body');
    if (where !== undefined)
      throw new LongshoreError(
        'VALIDATION_FAILED',
        `${where} holds a NUL character (\\u0000), which no field may hold: remove it and retry`,
      );
  });
}

function replaceNul(value: unknown): unknown {
  if (typeof value === 'string') return nulReplaced(value);
  if (isJson(value)) {
    // Keys are kept: those a worker sends (metadata, facts) are stored inside JSON, where a NUL is escaped.
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const inner = record[key];
      const clean = replaceNul(inner);
      if (clean !== inner) record[key] = clean;
    }
  }
  return value;
}

/** Where the first key or string holding a NUL is (body.a.0.b, as validation errors say it), or undefined. */
function nulAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (!isJson(value)) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const here = `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
    if (key.includes('\u0000')) return here;
    const found = nulAt(inner, here);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** An array or plain object as JSON parses them; not a stream or a Buffer (a package upload's body). */
function isJson(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
}
