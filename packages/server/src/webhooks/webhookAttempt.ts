import { LONGSHORE_VERSION } from '@longshore/protocol';
import { CONTROL_CHARACTERS } from '../resources/names.js';
import { SIGNATURE_HEADER, signatureOf } from './webhookSignature.js';

/** What one attempt found: a 2xx, or why not (the receiver's status when it answered). */
export interface AttemptResult {
  delivered: boolean;
  status: number | null;
  error: string | null;
}

export interface AttemptRequest {
  url: string;
  secret: string;
  deliveryId: string;
  event: string;
  /** The JSON body, sent as it is and signed as it is. */
  body: string;
  timeoutMs: number;
  /** The server stopping. */
  signal: AbortSignal;
}

/** Enough of a refusal's body to say why (a proxy's error page, a framework's message); the rest is not read. */
const ANSWER_EXCERPT_BYTES = 200;
/** Line breaks and other control characters in an excerpt, which goes into one line of the delivery log. */
const CONTROL_RUNS = new RegExp(`[${CONTROL_CHARACTERS}]+`, 'g');

/**
 * POSTs one delivery. A redirect is not followed (the URL the user gave is the one that gets the
 * payload and its signature) and counts as a failure that says where it pointed. Only the first
 * bytes of a refusal are read, so a receiver cannot make the server hold a large answer.
 */
export async function attemptDelivery(request: AttemptRequest): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  try {
    const res = await fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([timeout, request.signal]),
      headers: {
        'content-type': 'application/json',
        'user-agent': `Longshore-Webhooks/${LONGSHORE_VERSION}`,
        'x-longshore-event': request.event,
        'x-longshore-delivery': request.deliveryId,
        [SIGNATURE_HEADER.toLowerCase()]: signatureOf(request.secret, request.body),
      },
      body: request.body,
    });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { delivered: true, status: res.status, error: null };
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      return {
        delivered: false,
        status: res.status,
        error: `the receiver redirected${location ? ` to ${location.slice(0, 500)}` : ''}; redirects are not followed: give the webhook the final URL`,
      };
    }
    const excerpt = await firstBytes(res, ANSWER_EXCERPT_BYTES);
    return {
      delivered: false,
      status: res.status,
      error: `the receiver answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`,
    };
  } catch (err) {
    if (timeout.aborted)
      return { delivered: false, status: null, error: `no answer within ${request.timeoutMs / 1000} s` };
    return { delivered: false, status: null, error: networkError(err) };
  }
}

/** The cause Node's fetch wraps its network errors in ("fetch failed" alone says nothing). */
function networkError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  return `the request failed: ${detail}`;
}

async function firstBytes(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // What arrived is enough to say why; the refusal itself is the result.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, limit).toString('utf8');
  return text.replace(CONTROL_RUNS, ' ').trim();
}
