import { Type } from '@sinclair/typebox';
import { LongshoreError } from './errors.js';

/**
 * A certificate pin: the SHA-256 (or, as older tools print, SHA-1) digest of the certificate's
 * DER, in hex. Longshore prints SHA-256 in lowercase without colons; `openssl x509 -noout
 * -fingerprint -sha256` prints the same digits in uppercase with colons, and either is accepted.
 */
export const CertificateThumbprint = Type.String({
  pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}:?){19}[0-9A-Fa-f]{2}$',
  description: "SHA-256 of the server certificate's DER in hex (colons optional; SHA-1 accepted)",
});

export type ThumbprintAlgorithm = 'sha256' | 'sha1';

export interface ParsedThumbprint {
  /** Lowercase hex, no colons: the form Longshore prints. */
  hex: string;
  algorithm: ThumbprintAlgorithm;
}

const THUMBPRINT = new RegExp(CertificateThumbprint.pattern!);

/** Reads a pin as a user may write it; `what` names where it came from (a flag, a variable). */
export function parseCertificateThumbprint(input: string, what = 'the certificate thumbprint'): ParsedThumbprint {
  const trimmed = input.trim();
  if (!THUMBPRINT.test(trimmed)) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${what} '${input}' is not a certificate thumbprint: expected 64 hex digits (SHA-256, as the server prints it; colons allowed, as openssl prints it) or 40 (SHA-1)`,
    );
  }
  const hex = trimmed.replaceAll(':', '').toLowerCase();
  return { hex, algorithm: hex.length === 64 ? 'sha256' : 'sha1' };
}
