// Writing answers and reading bodies. Every error answer is a Status object with the HTTP code
// it names, so clients that decode Status (all of them) print kube-apiserver's messages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, errors, isApiError } from '../errors.js';
import { decodeProtobufBody } from './protobuf.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  // kube-apiserver's JSON encoder (Go's json.Encoder) ends each object with a newline; clients
  // that show a body as they got it (kubernetes-client/python's FailToCreateError) show it too.
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): number {
  const e: ApiError = isApiError(err) ? err : errors.internal(err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.destroy();
    return e.httpStatus;
  }
  sendJson(res, e.httpStatus, e.toStatus());
  return e.httpStatus;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return readRawBody(req).then((b) => {
    // kubectl's typed clients send protobuf; it is decoded here, so handlers only ever see JSON.
    if ((req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf')) {
      req.headers['content-type'] = 'application/json';
      return JSON.stringify(decodeProtobufBody(b));
    }
    return b.toString('utf8');
  });
}

function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON (or YAML, for create/update) body; malformed input is 400 as the Go decoder reports it. */
export async function parseBody(text: string, contentType: string | undefined): Promise<unknown> {
  if (text.trim() === '') return undefined;
  const ct = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/yaml' || ct === 'application/x-yaml' || ct === 'text/yaml') {
    const { parse } = await import('yaml');
    try {
      return parse(text);
    } catch (err) {
      throw errors.badRequest(`error converting YAML to JSON: ${String(err)}`);
    }
  }
  if (ct !== 'application/json' && ct !== '*/*' && ct !== '') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`json: ${err instanceof Error ? err.message : String(err)}`);
  }
}
