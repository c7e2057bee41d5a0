// Errors answered to API clients: an ApiError becomes a Kubernetes `Status` object with the reason
// and HTTP code kube-apiserver would use. The sandbox's own failures (start-up, configuration) are
// LongshoreErrors with a code from the protocol's one registry.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The `reason` values of metav1.StatusReason that the sandbox answers with. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'RequestEntityTooLarge'
  | 'Timeout';

/** An error answer. `code` is the stable identifier (the Kubernetes reason), `httpStatus` the code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly httpStatus: number,
    readonly code: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.code,
    };
    if (this.details) s.details = this.details;
    s.code = this.httpStatus;
    return s;
  }
}

/** Recognise by code, not instanceof: the package may be loaded twice. */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as ApiError).httpStatus === 'number';
}

// Constructors worded exactly as k8s.io/apimachinery/pkg/api/errors words them: clients
// (kubectl's "Error from server (NotFound): ...") print these messages verbatim.
const qualified = (resource: string, group: string): string => (group ? `${resource}.${group}` : resource);

export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
      name,
      ...(group ? { group } : {}),
      kind: resource,
    }),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
      name,
      ...(group ? { group } : {}),
      kind: resource,
    }),
  conflict: (
    resource: string,
    group: string,
    name: string,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ) =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
      name,
      ...(group ? { group } : {}),
      kind: resource,
    }),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  /** An unknown path or resource (kube-apiserver's NotFound without details). */
  notFoundPath: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  invalid: (
    kind: string,
    group: string,
    name: string,
    causes: { type: string; field: string; detail: string; value?: unknown }[],
  ) => {
    const parts = causes.map((c) => causeMessage(c));
    const msg = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`;
    return new ApiError(422, 'Invalid', msg, {
      ...(name ? { name } : {}),
      ...(group ? { group } : {}),
      kind,
      causes: causes.map((c) => ({
        reason: c.type,
        message: causeMessage(c).slice(c.field.length + 2),
        field: c.field,
      })),
    });
  },
  forbidden: (message: string, details: StatusDetails) => new ApiError(403, 'Forbidden', message, details),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') =>
    new ApiError(405, 'MethodNotAllowed', message, {}),
  /** A JSON patch that does not apply (failed test, missing path): kube-apiserver says no more than this. */
  patchRejected: () =>
    new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {}),
  unsupportedMediaType: () =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    ),
  expired: (message: string) => new ApiError(410, 'Expired', message),
  gone: (message: string) => new ApiError(410, 'Gone', message),
  tooManyRequests: (message: string, details?: StatusDetails) => new ApiError(429, 'TooManyRequests', message, details),
  internal: (message: string) =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] }),
};

/** field.Error's String(): "<field>: <type text>: <value>: <detail>" as ErrorList.ToAggregate prints it. */
const TYPE_TEXT: Record<string, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
};

function causeMessage(c: { type: string; field: string; detail: string; value?: unknown }): string {
  const text = TYPE_TEXT[c.type] ?? c.type;
  const showValue =
    c.type === 'FieldValueInvalid' || c.type === 'FieldValueNotSupported' || c.type === 'FieldValueDuplicate';
  const value = showValue && c.value !== undefined ? `: ${JSON.stringify(c.value)}` : '';
  return `${c.field}: ${text}${value}${c.detail ? `: ${c.detail}` : ''}`;
}
