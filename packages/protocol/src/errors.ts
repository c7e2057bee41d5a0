/**
 * One registry of error codes for server, worker, sandbox, CLI and portal. Errors are recognised by
 * `code` (see isLongshoreError), never only by `instanceof`: a package may be loaded twice.
 */
export const errorCodes = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  CONFLICT: { status: 409, title: 'Conflict' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  URI_TOO_LONG: { status: 414, title: 'The request URI is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  INVALID_PACKAGE: { status: 422, title: 'The package archive is not valid' },
  INVALID_REFERENCE: { status: 422, title: 'A variable reference cannot be resolved' },
  REQUEST_HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  REGISTRATION_TOKEN_INVALID: { status: 401, title: 'The registration token is invalid, used or expired' },
  WORKER_DISABLED: { status: 403, title: 'The worker is disabled' },
  LOG_GAP: { status: 409, title: 'Log lines are missing before this batch' },
  OPERATION_NOT_LEASED: { status: 409, title: 'The operation is not held by this worker' },
  ILLEGAL_STATE: { status: 409, title: 'Illegal state transition' },
  CONFIG_INVALID: { status: 500, title: 'The configuration is not valid' },
  // Raised while the server starts, never answered: a node with another key than the database's refuses to run.
  MASTER_KEY_MISMATCH: { status: 500, title: "The master key is not the one the database's secrets are sealed with" },
  SERVER_UNREACHABLE: { status: 503, title: 'The server cannot be reached' },
  // Raised by clients, never answered by the server: they follow SERVER_UNREACHABLE so that a proxy's bare 503 still maps to it.
  SERVER_CERTIFICATE_MISMATCH: { status: 503, title: 'The server presented another certificate than the pinned one' },
  SERVER_CERTIFICATE_UNTRUSTED: { status: 503, title: "The server's certificate is not trusted" },
  // Raised by the server during a single sign-on, never answered: the browser is sent to the portal with its message.
  SIGN_IN_PROVIDER_UNAVAILABLE: { status: 503, title: 'The single sign-on provider cannot be used' },
  TIMEOUT: { status: 504, title: 'The call timed out' },
  // Raised by the sandbox cluster while it starts or calls its own API, never answered by the server.
  CERTIFICATE_FAILED: { status: 500, title: 'Certificates could not be generated' },
  LISTEN_FAILED: { status: 500, title: 'The address cannot be listened on' },
  CLUSTER_START_FAILED: { status: 500, title: "The sandbox cluster's nodes did not start" },
  KUBE_API_REQUEST_FAILED: { status: 500, title: 'A call to the Kubernetes API failed' },
  STORAGE_FULL: { status: 507, title: "The server's disk is full" },
  STORE_UNAVAILABLE: { status: 503, title: "The server's database cannot be used" },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** The JSON body of every error the API answers. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class LongshoreError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LongshoreError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isLongshoreError(e: unknown): e is LongshoreError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (e as { code: string }).code in errorCodes &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export function isErrorCode(e: unknown, code: ErrorCode): boolean {
  return isLongshoreError(e) && e.code === code;
}

/** Rebuilds a typed error from an API error body (client side). */
export function errorFromBody(status: number, body: unknown): LongshoreError {
  if (typeof body === 'object' && body !== null) {
    const b = body as Partial<ErrorBody>;
    if (typeof b.code === 'string' && b.code in errorCodes && typeof b.message === 'string') {
      return new LongshoreError(b.code, b.message, b.details);
    }
  }
  const code = (Object.keys(errorCodes) as ErrorCode[]).find((c) => errorCodes[c].status === status) ?? 'INTERNAL';
  return new LongshoreError(code, `HTTP ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
}
