import { createHmac, randomBytes } from 'node:crypto';

/** The header a receiver checks: HMAC-SHA256 of the raw body with the webhook's secret, as GitHub signs. */
export const SIGNATURE_HEADER = 'X-Longshore-Signature';

/** `sha256=<hex>` of the body exactly as it is sent. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** A secret for a webhook created without one: 32 random bytes, shown once. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
