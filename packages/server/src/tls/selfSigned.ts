import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
// Loaded only to make a certificate (about a second of start-up): @peculiar/x509 (via tsyringe) needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * Ten years: workers pin this certificate by its thumbprint rather than checking it against a CA,
 * so renewing it would only break every worker's pin; what protects it is the key staying in
 * the data directory. A new certificate (and new pins) is made by deleting the two files.
 */
export const SELF_SIGNED_VALIDITY_YEARS = 10;

/** An ECDSA P-256 key and a self-signed server certificate for the hosts, both PEM. */
export async function createSelfSignedCertificate(
  hosts: readonly string[],
  now = new Date(),
): Promise<{ certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + SELF_SIGNED_VALIDITY_YEARS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive (a leading zero bit) and unique, as RFC 5280 asks.
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: `CN=Longshore server ${hostname()}`,
    keys,
    // An hour back: a client whose clock is a little behind must not see a certificate from the future.
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
  return { certPem: `${certificate.toString('pem')}\n`, keyPem };
}
