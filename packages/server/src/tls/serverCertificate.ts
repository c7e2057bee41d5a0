import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { LongshoreError } from '@longshore/protocol';

export interface ServerCertificate {
  /** The certificate (and its chain, for a given one) as served. */
  certPem: string;
  keyPem: string;
  /** SHA-256 of the served certificate's DER in lowercase hex, without colons. */
  thumbprint: string;
  notAfter: Date;
  /** Where it comes from: made now, made on an earlier start, or the user's files. */
  source: 'created' | 'reused' | 'given';
  /**
   * Whether workers should pin it. Not a certificate from a public CA: it is renewed every few
   * months, which would break every pin, and workers trust it through their system CAs anyway.
   */
  pin: boolean;
  /** The files it was read from or written to. */
  certFile: string;
  keyFile: string;
}

export interface CertificateSettings {
  dataDir: string;
  host: string;
  publicUrl?: string | undefined;
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

/** SHA-256 of a certificate's DER, lowercase hex: `openssl x509 -noout -fingerprint -sha256` prints the same digits in uppercase with colons. */
export function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('hex');
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The names the certificate carries. Pinning clients ignore them; they let a browser or curl
 * that was told to trust the certificate reach the server by the usual names.
 */
export function certificateHosts(listenHost: string, publicUrl: string | undefined): string[] {
  const hosts = ['localhost', '127.0.0.1', '::1', hostname()];
  if (!WILDCARD_HOSTS.has(listenHost)) hosts.push(listenHost);
  if (publicUrl !== undefined) hosts.push(new URL(publicUrl).hostname.replace(/^\[(.*)\]$/, '$1'));
  return [...new Set(hosts.filter((h) => h !== ''))];
}

/** The user's certificate, or the self-signed one in `<dataDir>/tls`, made on the first start. */
export async function loadServerCertificate(settings: CertificateSettings): Promise<ServerCertificate> {
  if (settings.tlsCertFile !== undefined && settings.tlsKeyFile !== undefined) {
    const certPem = readPem(settings.tlsCertFile, 'tlsCertFile (LONGSHORE_TLS_CERT_FILE)');
    const keyPem = readPem(settings.tlsKeyFile, 'tlsKeyFile (LONGSHORE_TLS_KEY_FILE)');
    const chain = parseChain(certPem, settings.tlsCertFile);
    return describe({
      certPem,
      keyPem,
      chain,
      source: 'given',
      pin: !chainsToPublicRoot(chain),
      certFile: settings.tlsCertFile,
      keyFile: settings.tlsKeyFile,
    });
  }
  const dir = join(settings.dataDir, 'tls');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  const [hasCert, hasKey] = [existsSync(certFile), existsSync(keyFile)];
  if (hasCert !== hasKey) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${hasCert ? keyFile : certFile} is missing but ${hasCert ? certFile : keyFile} is there: restore it, or delete ${dir} to make a new self-signed certificate (workers pinned to the old thumbprint then need the new one)`,
    );
  }
  if (hasCert) {
    const certPem = readPem(certFile, 'the server certificate');
    return describe({
      certPem,
      keyPem: readPem(keyFile, "the server certificate's key"),
      chain: parseChain(certPem, certFile),
      source: 'reused',
      pin: true,
      certFile,
      keyFile,
    });
  }
  const { createSelfSignedCertificate } = await import('./selfSigned.js');
  const { certPem, keyPem } = await createSelfSignedCertificate(certificateHosts(settings.host, settings.publicUrl));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The key first, and never over an existing file: two servers starting on one data directory must not swap keys under each other.
    writeFileSync(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(certFile, certPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `Cannot store the new server certificate in ${dir}: ${(error as Error).message}; the data directory must be writable, and used by one server at a time`,
    );
  }
  return describe({
    certPem,
    keyPem,
    chain: parseChain(certPem, certFile),
    source: 'created',
    pin: true,
    certFile,
    keyFile,
  });
}

function describe(
  found: Omit<ServerCertificate, 'thumbprint' | 'notAfter'> & { chain: X509Certificate[] },
): ServerCertificate {
  const { chain, ...rest } = found;
  const leaf = chain[0]!;
  let key;
  try {
    key = createPrivateKey(found.keyPem);
  } catch (error) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${found.keyFile} is not a PEM private key: ${(error as Error).message}`,
    );
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${found.keyFile} is not the key of the certificate in ${found.certFile}: give the key the certificate was issued for`,
    );
  }
  return { ...rest, thumbprint: certificateThumbprint(leaf), notAfter: new Date(leaf.validTo) };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new LongshoreError('CONFIG_INVALID', `Cannot read ${what} from ${path}: ${(error as Error).message}`);
  }
}

/** The certificates of a PEM file, the served one first. */
function parseChain(pem: string, path: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new LongshoreError('CONFIG_INVALID', `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    throw new LongshoreError(
      'CONFIG_INVALID',
      `${path} holds a certificate that cannot be read: ${(error as Error).message}`,
    );
  }
}

/** Whether the chain leads to a root Node trusts by default (Mozilla's list), through the given intermediates. */
export function chainsToPublicRoot(chain: X509Certificate[]): boolean {
  const roots = rootCertificates.map((pem) => new X509Certificate(pem));
  const issuedBy = (certificate: X509Certificate, issuer: X509Certificate): boolean =>
    certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
  let current = chain[0]!;
  for (let depth = 0; depth < chain.length; depth++) {
    if (roots.some((root) => issuedBy(current, root))) return true;
    const next = chain.find((candidate) => candidate !== current && issuedBy(current, candidate));
    if (!next) return false;
    current = next;
  }
  return false;
}
