// The sandbox's own CA and serving certificate (ECDSA P-256), made at start with
// @peculiar/x509 on node:crypto keys. The CA goes into the kubeconfig; nothing is trusted
// system-wide.
import { randomBytes, webcrypto } from 'node:crypto';
import { LongshoreError } from '@longshore/protocol';
import 'reflect-metadata'; // @peculiar/x509 (via tsyringe) needs the Reflect metadata polyfill first
import * as x509 from '@peculiar/x509';

export interface ServingCertificates {
  caPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

const pem = (tag: string, der: ArrayBuffer): string =>
  `-----BEGIN ${tag}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END ${tag}-----\n`;

export async function generateCertificates(hosts: readonly string[]): Promise<ServingCertificates> {
  try {
    const crypto = webcrypto;
    x509.cryptoProvider.set(crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
    const caKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const serverKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(8).toString('hex'),
      name: 'CN=longshore-sandbox-ca',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const names = [
      ...new Set([
        '127.0.0.1',
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        ...hosts,
      ]),
    ];
    const serving = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(8).toString('hex'),
      subject: 'CN=kube-apiserver',
      issuer: ca.subject,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((n) =>
            /^[\d.]+$|:/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
          ),
        ),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const exportKey = async (k: webcrypto.CryptoKey): Promise<string> =>
      pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', k));
    const caPem = `${ca.toString('pem')}\n`;
    return {
      caPem,
      caKeyPem: await exportKey(caKeys.privateKey),
      certPem: `${serving.toString('pem')}\n${caPem}`,
      keyPem: await exportKey(serverKeys.privateKey),
    };
  } catch (err) {
    throw new LongshoreError(
      'CERTIFICATE_FAILED',
      `generating the sandbox certificates failed: ${String(err)}`,
      undefined,
      {
        cause: err,
      },
    );
  }
}
