import { STATUS_CODES } from 'node:http';
import type { NotFoundFallback } from '../portal/portalPages.js';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LongshoreError, isLongshoreError, type ErrorCode } from '@longshore/protocol';
import { MAX_PATH_PARAM_LENGTH, NAME_MAX_LENGTH } from '../resources/names.js';
import { storageError, unstorableValue } from '../store/storageErrors.js';

/** Fastify's own client-error codes, mapped to ours so every 4xx has the same body shape. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

/** `fallback` answers what no route does before it is a 404 (the portal's files). */
export function installErrorHandling(app: FastifyInstance, fallback?: NotFoundFallback): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = toLongshoreError(error);
    if (typed.status >= 500)
      request.log.error({ err: error }, typed.code === 'INTERNAL' ? 'request failed' : typed.message);
    void reply.status(typed.status).send(typed.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    if (fallback?.(request, reply)) return;
    void reply
      .status(404)
      .send(new LongshoreError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`).toBody());
  });
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors` option):
 * a path that is not valid percent-encoding, a path parameter longer than any name can be.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  let typed: LongshoreError;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    typed = new LongshoreError(
      'URI_TOO_LONG',
      `A path segment is longer than ${MAX_PATH_PARAM_LENGTH} characters; names and ids have at most ${NAME_MAX_LENGTH}`,
    );
  } else if (error.code === 'FST_ERR_BAD_URL') {
    typed = new LongshoreError(
      'VALIDATION_FAILED',
      'The path is not valid percent-encoding (RFC 3986); encode each name with encodeURIComponent',
    );
  } else {
    typed = toLongshoreError(error);
  }
  void reply.status(typed.status).send(typed.toBody());
}

const socketErrors: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' },
  HPE_HEADER_OVERFLOW: {
    code: 'REQUEST_HEADERS_TOO_LARGE',
    message: 'The request line and headers are larger than the server accepts (16 KiB); shorten the URL or the headers',
  },
};

/**
 * Requests Node's HTTP parser refuses never reach Fastify's router (Fastify's `clientErrorHandler`
 * option): answer them in the same `{code, message}` shape, then close, as Node does.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code ? socketErrors[error.code] : undefined;
  const typed = new LongshoreError(
    known?.code ?? 'VALIDATION_FAILED',
    known?.message ?? 'The request is not valid HTTP',
  );
  const body = JSON.stringify(typed.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${typed.status} ${STATUS_CODES[typed.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string; anyOf?: { const?: unknown }[] };
}

/**
 * Every problem of a request, in words (the validator reports all of them): an unknown field
 * first, with the known one it was probably meant to be ("scirpt" beside a missing "script"),
 * and a choice between fixed values said once, as the list of values.
 */
function describeProblems(context: string, errors: SchemaError[]): string[] {
  const choices = new Set(
    errors.filter((e) => e.keyword === 'anyOf' && fixedValues(e) !== undefined).map((e) => e.instancePath),
  );
  const missing = errors.filter((e) => typeof e.params.missingProperty === 'string');
  const unknown = errors.filter((e) => typeof e.params.additionalProperty === 'string');
  const rest = errors.filter(
    (e) => !missing.includes(e) && !unknown.includes(e) && !(e.keyword === 'const' && choices.has(e.instancePath)),
  );
  return [
    ...unknown.map((e) => unknownField(context, e, missing)),
    ...missing.map((e) => problemOf(context, e)),
    ...rest.map((e) => problemOf(context, e)),
  ];
}

function unknownField(context: string, e: SchemaError, missing: SchemaError[]): string {
  const field = e.params.additionalProperty as string;
  const meant = missing.find(
    (m) =>
      m.instancePath === e.instancePath &&
      editDistance(field.toLowerCase(), (m.params.missingProperty as string).toLowerCase()) <= 2,
  );
  return `${problemOf(context, e)}${meant ? ` (did you mean ${meant.params.missingProperty as string}?)` : ''}`;
}

function fixedValues(e: SchemaError): unknown[] | undefined {
  const options = e.parentSchema?.anyOf;
  return options?.every((o) => o.const !== undefined) ? options.map((o) => o.const) : undefined;
}

/** Levenshtein distance, for names of a few characters. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

function problemOf(context: string, v: SchemaError): string {
  const path = `${context}${v.instancePath.replaceAll('/', '.')}`;
  const missing = v.params.missingProperty as string | undefined;
  const extra = v.params.additionalProperty as string | undefined;
  if (missing) return `${path}.${missing} is required`;
  if (extra) return `${path}.${extra} is not a known field`;
  const values = v.keyword === 'anyOf' ? fixedValues(v) : undefined;
  if (values) return `${path} must be one of: ${values.join(', ')}`;
  // A regular expression means nothing to most users; the schema's description says the rule in words.
  const rule = v.parentSchema?.description;
  if (rule && v.keyword === 'pattern') return `${path} is not ${rule}`;
  if (rule && (v.keyword === 'minLength' || v.keyword === 'maxLength'))
    return `${path} ${v.message ?? 'is not valid'}: ${rule}`;
  return `${path} ${v.message ?? 'is not valid'}`;
}

function toLongshoreError(error: FastifyError): LongshoreError {
  if (error instanceof LongshoreError) return error;
  const foreign: unknown = error;
  if (isLongshoreError(foreign)) return new LongshoreError(foreign.code, foreign.message, foreign.details);
  const storage = storageError(error) ?? unstorableValue(error);
  if (storage) return storage;
  if (error.validation) {
    const context = error.validationContext ?? 'request';
    const problems = describeProblems(context, error.validation as SchemaError[]);
    return new LongshoreError('VALIDATION_FAILED', [...new Set(problems)].join('; '), { problems });
  }
  const mapped = error.code ? fastifyCodes[error.code] : undefined;
  if (mapped) return new LongshoreError(mapped, error.message);
  if (error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP')) {
    return new LongshoreError('VALIDATION_FAILED', `The request body is not valid: ${error.message}`);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const code: ErrorCode =
      error.statusCode === 413
        ? 'PAYLOAD_TOO_LARGE'
        : error.statusCode === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : 'VALIDATION_FAILED';
    return new LongshoreError(code, error.message);
  }
  return new LongshoreError('INTERNAL', 'Internal error; the server log has the details');
}
