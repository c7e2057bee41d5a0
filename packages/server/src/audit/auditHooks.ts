import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLongshoreError } from '@longshore/protocol';
import type { AuditLog, AuditOutcome } from './auditLog.js';
import { changesBetween, redacted, type Change } from './auditChanges.js';
import { ROUTE_RULES, ruleKey } from '../identity/routePermissions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The object a change is about, as its GET route showed it before the change. */
    auditBefore?: unknown;
    auditError?: unknown;
    auditPayload?: string;
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SIGN_IN = 'POST /api/sessions';
/** Actions on an object whose state the object's own route shows (`POST /api/workers/:ref/disable` → the worker). */
const ACTION_SUFFIX = /\/(process|disable|enable|machine-policy)$/;

/** Changes through the API, and refusals (403) of anything, and sign-ins: what the audit log keeps. */
function audited(req: FastifyRequest, status: number): boolean {
  const { access } = req.routeOptions.config;
  if (ruleKey(req.method, req.routeOptions.url ?? '') === SIGN_IN) return status === 201 || status === 401;
  // Only what a known user did: requests without a valid credential would let anyone fill the log.
  return access === 'user' && req.principal?.kind === 'user' && (!READS.has(req.method) || status === 403);
}

/** The URL of the object a PUT, DELETE or action changes, when a GET route shows it; else undefined. */
function objectUrl(req: FastifyRequest): string | undefined {
  const template = req.routeOptions.url ?? '';
  const objectTemplate = template.replace(ACTION_SUFFIX, '');
  if (!ROUTE_RULES[ruleKey('GET', objectTemplate)]) return undefined;
  const params = req.params as Record<string, string>;
  return objectTemplate.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

const APPLY = 'POST /api/apply';
const APPLIED_KINDS: Record<string, string> = {
  environments: '/api/environments',
  machinePolicies: '/api/machine-policies',
  workerPools: '/api/worker-pools',
  workers: '/api/workers',
  targets: '/api/targets',
  projects: '/api/projects',
};

/** The objects a configuration document touches, by label (`projects[Shop]`) and the URL that shows each. */
function appliedObjects(body: unknown): [string, string][] {
  const doc = (body ?? {}) as Record<string, { name?: unknown; variables?: unknown }[] | undefined>;
  return Object.entries(APPLIED_KINDS).flatMap(([kind, base]) =>
    (doc[kind] ?? []).flatMap((item) => {
      if (typeof item?.name !== 'string') return [];
      const url = `${base}/${encodeURIComponent(item.name)}`;
      const label = `${kind}[${item.name}]`;
      return item.variables !== undefined
        ? [
            [label, url],
            [`${label}.variables`, `${url}/variables`],
          ]
        : [[label, url]];
    }),
  ) as [string, string][];
}

/** Reads of a document's objects under way at once: enough to overlap, few enough not to queue on the store. */
const APPLIED_READS_AT_ONCE = 8;

/**
 * Each object a document touches as its caller sees it, by label: a document's before and after.
 * A name given twice is read once (the document is refused then anyway).
 */
async function readApplied(app: FastifyInstance, req: FastifyRequest): Promise<Record<string, unknown>> {
  const objects = [...new Map(appliedObjects(req.body)).entries()];
  const read: unknown[] = [];
  let next = 0;
  const reader = async () => {
    while (next < objects.length) {
      const i = next++;
      read[i] = await readObject(app, req, objects[i]![1]);
    }
  };
  await Promise.all(Array.from({ length: APPLIED_READS_AT_ONCE }, reader));
  return Object.fromEntries(objects.flatMap(([label], i) => (read[i] === undefined ? [] : [[label, read[i]]])));
}

/** Reads the object as its caller would see it; undefined when they may not (the entry then has no diff). */
async function readObject(app: FastifyInstance, req: FastifyRequest, url: string): Promise<unknown> {
  const authorization = req.headers.authorization ?? `Bearer ${String(req.headers['x-longshore-api-key'] ?? '')}`;
  const res = await app.inject({ method: 'GET', url, headers: { authorization } });
  return res.statusCode === 200 ? res.json() : undefined;
}

const parsed = (payload: string | undefined): unknown => {
  try {
    return payload ? JSON.parse(payload) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Keeps the audit log: who changed what through the API, from where, with what changed (the
 * object as its own GET route shows it before and after, so secrets the API withholds stay out,
 * and anything named like a secret is redacted besides); every refusal for a missing permission;
 * every sign-in and failed sign-in. A failure to write an entry is logged and does not fail the
 * request, whose change is already committed.
 */
export function installAudit(app: FastifyInstance, log: AuditLog): void {
  app.addHook('preHandler', async (req) => {
    if (ruleKey(req.method, req.routeOptions.url ?? '') === APPLY) {
      req.auditBefore = await readApplied(app, req);
      return;
    }
    if (READS.has(req.method) || req.routeOptions.config.access !== 'user' || req.method === 'POST') return;
    const url = objectUrl(req);
    if (url) req.auditBefore = await readObject(app, req, url);
  });
  app.addHook('onError', async (req, _reply, error) => {
    req.auditError = error;
  });
  // Written before the answer leaves, so a client that reads the log after its change finds it there,
  // whichever connection of the store (or server node) each request used.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!READS.has(req.method) && reply.statusCode < 300 && typeof payload === 'string') req.auditPayload = payload;
    await writeEntry(app, log, req, reply.statusCode);
    return payload;
  });
}

async function writeEntry(app: FastifyInstance, log: AuditLog, req: FastifyRequest, status: number): Promise<void> {
  if (!audited(req, status)) return;
  try {
    const template = req.routeOptions.url ?? '';
    const params = req.params as Record<string, string | undefined>;
    const body = req.body as Record<string, unknown> | undefined;
    const principal = req.principal?.kind === 'user' ? req.principal : undefined;
    const signIn = ruleKey(req.method, template) === SIGN_IN;
    const outcome: AuditOutcome = status < 400 ? 'ok' : status === 403 ? 'denied' : 'failed';
    let changes: Change[] | null = null;
    const created = parsed(req.auditPayload) as Record<string, unknown> | undefined;
    if (outcome === 'ok' && !signIn) {
      const url = objectUrl(req);
      if (ruleKey(req.method, template) === APPLY)
        changes = changesBetween(req.auditBefore, await readApplied(app, req));
      else if (req.method === 'PUT' && url) changes = changesBetween(req.auditBefore, await readObject(app, req, url));
      // What was deleted or created, field by field.
      else if (req.method === 'DELETE' && req.auditBefore) changes = changesBetween(req.auditBefore, {});
      else if (status === 201 && created) changes = changesBetween({}, created);
    }
    const error = req.auditError;
    const refusal = isLongshoreError(error) ? { message: error.message, ...error.details } : undefined;
    await log.append({
      at: Date.now(),
      actor: principal?.userName ?? (signIn && typeof body?.name === 'string' ? body.name : 'unknown'),
      actorUserId: principal?.userId ?? null,
      via: signIn
        ? 'password'
        : principal
          ? principal.via === 'apiKey'
            ? `API key ${principal.credentialId}`
            : 'session'
          : '',
      address: req.ip,
      action: signIn ? (status === 201 ? 'sign-in' : 'failed sign-in') : `${req.method} ${template}`,
      objectKind: signIn ? 'users' : (template.split('/')[2] ?? null),
      object: signIn
        ? String(body?.name ?? '')
        : (params.ref ??
          params.id ??
          (created?.name as string | undefined) ??
          (created?.id as string | undefined) ??
          null),
      outcome,
      status,
      changes,
      detail:
        outcome === 'ok'
          ? body && !signIn && req.method !== 'PUT' && ruleKey(req.method, template) !== APPLY
            ? { request: redacted(body) }
            : null
          : (refusal ?? null),
    });
  } catch (err) {
    req.log.error({ err }, 'could not write the audit log entry');
  }
}
