import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyContextConfig, FastifySchema, HTTPMethods } from 'fastify';
import { errorCodes, type ErrorCode } from '@longshore/protocol';
import type { RouteAccess } from './routeAccessKinds.js';
import type { RouteRule } from '../identity/requirements.js';

/** The API's security schemes: which credential each kind of route takes (see routeAccess.ts). */
export const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description: "A user's API key (lsk_...); X-Longshore-Api-Key: <key> works as well",
  },
  session: {
    type: 'http',
    scheme: 'bearer',
    description: 'A session from signing in (POST /api/sessions), as the portal uses (lss_...)',
  },
  workerCredential: {
    type: 'http',
    scheme: 'bearer',
    description: 'The credential a worker received when it registered (lsw_...)',
  },
  packageToken: {
    type: 'http',
    scheme: 'bearer',
    description: "A script pod's package token: downloads its operation's packages only",
  },
} as const;

const securityOf: Record<RouteAccess, Record<string, never[]>[]> = {
  public: [],
  user: [{ apiKey: [] }, { session: [] }],
  worker: [{ workerCredential: [] }],
  workerOrPackageToken: [{ workerCredential: [] }, { packageToken: [] }],
};

/**
 * The error body for one status: `code` is limited to the codes the registry answers with that
 * status, so a code sent with the wrong status breaks the published contract, and the fuzz test says so.
 */
export function errorBody(status: number): TSchema {
  const codes = (Object.keys(errorCodes) as ErrorCode[]).filter((c) => errorCodes[c].status === status);
  if (codes.length === 0) throw new Error(`No error code answers with HTTP ${status}`);
  return Type.Object(
    {
      code: Type.Unsafe<ErrorCode>({ type: 'string', enum: codes }),
      message: Type.String({ description: 'What went wrong and what to do about it' }),
      details: Type.Optional(
        Type.Object(
          {},
          { additionalProperties: true, description: 'Structured fields, e.g. problems: a list of what is invalid' },
        ),
      ),
    },
    { additionalProperties: false, description: codes.map((c) => errorCodes[c].title).join('; ') },
  );
}

/** `{status: errorBody(status)}` for each status: for a route's own `response`, when it answers one the route's shape does not imply. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody(s)]));
}

/**
 * Documents a body the route reads as a raw stream (its content-type parser hands it over unread):
 * a `body` schema would make the validator check the stream object, so the body is added to the
 * route's entry in the document only.
 */
export function documentRawBody(
  contentTypes: readonly string[],
  description: string,
): Pick<FastifyContextConfig, 'swaggerTransform'> {
  const media = { schema: Type.String({ format: 'binary', description }) };
  return {
    swaggerTransform: ({ schema, url }) => ({
      schema: { ...schema, body: { content: Object.fromEntries(contentTypes.map((t) => [t, media])) } },
      url,
    }),
  };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The errors any route of this shape can answer, by what turns them into responses:
 * - 400: the schema validator, the JSON body parser and the router (a path that is not percent-encoding);
 * - 401: the authentication hook, for every route that is not public; 403: a disabled worker, a package token out of scope, a user's missing permission;
 * - 404 and 414: a path parameter names nothing, or is longer than any name (the router's maxParamLength);
 * - 409: a write that clashes (a name taken, a state that forbids it);
 * - 413 and 415: the body parser;
 * - 503: the store cannot be used (every route reads it, if only to check the credential); 507: the disk is full on a write.
 */
export function derivedErrorStatuses(
  method: string,
  url: string,
  schema: FastifySchema,
  access: RouteAccess,
): number[] {
  const statuses = new Set<number>();
  const hasParams = url.includes(':');
  const writes = !READ_METHODS.has(method);
  if (hasParams || schema.body !== undefined || schema.querystring !== undefined) statuses.add(400);
  if (access !== 'public') statuses.add(401);
  // A user's request may always be refused: for a permission, or (its own keys) for carrying more than the user may.
  if (access !== 'public') statuses.add(403);
  if (hasParams) statuses.add(404).add(414);
  if (writes) statuses.add(409);
  if (schema.body !== undefined) statuses.add(413).add(415);
  statuses.add(503);
  if (writes) statuses.add(507);
  return [...statuses];
}

/**
 * Completes a route's schema for the API document and for the serializer: who may call it, and
 * every error it can answer in Longshore's `{code, message, details?}` shape. A status the route
 * already declares (its success, or an error it describes itself) is kept as it is.
 */
export function documentRoute(
  method: HTTPMethods | HTTPMethods[],
  url: string,
  schema: FastifySchema | undefined,
  access: RouteAccess,
  rule?: RouteRule,
): FastifySchema {
  const declared = (schema?.response ?? {}) as Record<string, unknown>;
  const errors = [method]
    .flat()
    .flatMap((m) => derivedErrorStatuses(m, url, schema ?? {}, access))
    .filter((s) => declared[s] === undefined);
  return {
    ...schema,
    ...(rule && {
      'x-permission': rule.permission ?? 'signed-in',
      description: describeRule(rule, schema?.description),
    }),
    security: securityOf[access],
    response: { ...errorResponses(...new Set(errors)), ...declared },
  } as FastifySchema;
}

/** The permission a route needs, as the API document says it to people. */
function describeRule(rule: RouteRule, description: string | undefined): string {
  const needs =
    rule.permission === null
      ? 'Any signed-in user.'
      : rule.requirements
        ? `Needs the permission for each part of the request (\`${rule.permission}\` for new projects).`
        : `Needs \`${rule.permission}\`${rule.scope ? ' for the project (and environment) it acts on' : ''}${rule.list ? '; lists what the caller may see' : ''}.`;
  return description ? `${description}\n\n${needs}` : needs;
}
