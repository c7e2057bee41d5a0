import type { FastifyError, FastifyInstance } from 'fastify';
import { LongshoreError, isLongshoreError, type ErrorCode } from '@longshore/protocol';
import { storageError } from '../store/storageErrors.js';

/** Fastify's own client-error codes, mapped to ours so every 4xx has the same body shape. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = toLongshoreError(error);
    if (typed.status >= 500) request.log.error({ err: error }, typed.code === 'INTERNAL' ? 'request failed' : typed.message);
    void reply.status(typed.status).send(typed.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(new LongshoreError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`).toBody());
  });
}

function toLongshoreError(error: FastifyError): LongshoreError {
  if (error instanceof LongshoreError) return error;
  const foreign: unknown = error;
  if (isLongshoreError(foreign)) return new LongshoreError(foreign.code, foreign.message, foreign.details);
  const storage = storageError(error);
  if (storage) return storage;
  if (error.validation) {
    const context = error.validationContext ?? 'request';
    const problems = error.validation.map((v) => {
      const path = `${context}${v.instancePath.replaceAll('/', '.')}`;
      const missing = (v.params as { missingProperty?: string }).missingProperty;
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      if (missing) return `${path}.${missing} is required`;
      if (extra) return `${path}.${extra} is not a known field`;
      return `${path} ${v.message ?? 'is not valid'}`;
    });
    return new LongshoreError('VALIDATION_FAILED', [...new Set(problems)].join('; '), { problems });
  }
  const mapped = error.code ? fastifyCodes[error.code] : undefined;
  if (mapped) return new LongshoreError(mapped, error.message);
  if (error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP')) {
    return new LongshoreError('VALIDATION_FAILED', `The request body is not valid: ${error.message}`);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const code: ErrorCode = error.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : error.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'VALIDATION_FAILED';
    return new LongshoreError(code, error.message);
  }
  return new LongshoreError('INTERNAL', 'Internal error; the server log has the details');
}
