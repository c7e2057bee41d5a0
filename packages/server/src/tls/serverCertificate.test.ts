import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, describe, it } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import { createSelfSignedCertificate } from './selfSigned.js';
import { certificateHosts, chainsToPublicRoot, loadServerCertificate } from './serverCertificate.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-tls-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The thumbprint as openssl would print it, turned into the server's form: computed apart from the code under test. */
const opensslThumbprint = (pem: string): string =>
  new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

describe('loadServerCertificate', () => {
  it('makes a self-signed certificate on the first start, with its key readable by the owner only', async () => {
    const dataDir = tempDir();
    const made = await loadServerCertificate({
      dataDir,
      host: '0.0.0.0',
      publicUrl: 'https://longshore.example.com:8443',
    });
    assert.equal(made.source, 'created');
    assert.equal(made.pin, true);
    assert.equal(made.certFile, join(dataDir, 'tls', 'server.crt'));
    assert.equal(statSync(made.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'tls')).mode & 0o777, 0o700);
    assert.equal(readFileSync(made.keyFile, 'utf8'), made.keyPem);
    assert.match(made.thumbprint, /^[0-9a-f]{64}$/);
    assert.equal(made.thumbprint, opensslThumbprint(readFileSync(made.certFile, 'utf8')));

    const certificate = new X509Certificate(made.certPem);
    assert.equal(certificate.publicKey.asymmetricKeyType, 'ec');
    assert.equal(certificate.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey), 'self-signed');
    assert.equal(certificate.ca, false);
    for (const name of [
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      `DNS:${hostname()}`,
      'DNS:longshore.example.com',
    ]) {
      assert.ok(certificate.subjectAltName?.split(', ').includes(name), `${name} in ${certificate.subjectAltName}`);
    }
    const years = (Date.parse(certificate.validTo) - Date.now()) / (365.25 * 86_400_000);
    assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
    assert.ok(
      Date.parse(certificate.validFrom) < Date.now() - 30 * 60_000,
      'valid from a little before now, for clients whose clocks lag',
    );
  });

  it('reuses it on later starts', async () => {
    const dataDir = tempDir();
    const first = await loadServerCertificate({ dataDir, host: '127.0.0.1' });
    const again = await loadServerCertificate({
      dataDir,
      host: '127.0.0.1',
      publicUrl: 'https://elsewhere.example.com',
    });
    assert.equal(again.source, 'reused');
    assert.equal(again.thumbprint, first.thumbprint);
    assert.equal(again.keyPem, first.keyPem);
  });

  it('refuses half a certificate, saying how to recover', async () => {
    const dataDir = tempDir();
    const made = await loadServerCertificate({ dataDir, host: '127.0.0.1' });
    unlinkSync(made.keyFile);
    await assert.rejects(
      loadServerCertificate({ dataDir, host: '127.0.0.1' }),
      (e) =>
        isErrorCode(e, 'CONFIG_INVALID') &&
        (e as Error).message.startsWith(
          `${made.keyFile} is missing but ${made.certFile} is there: restore it, or delete`,
        ),
    );
  });

  it("serves the user's certificate and key, and says what is wrong with them", async () => {
    const dir = tempDir();
    const own = await createSelfSignedCertificate(['longshore.internal']);
    const other = await createSelfSignedCertificate(['other']);
    const files = {
      cert: join(dir, 'cert.pem'),
      key: join(dir, 'key.pem'),
      otherKey: join(dir, 'other.pem'),
      empty: join(dir, 'empty.pem'),
    };
    writeFileSync(files.cert, own.certPem);
    writeFileSync(files.key, own.keyPem);
    writeFileSync(files.otherKey, other.keyPem);
    writeFileSync(files.empty, 'not a certificate');
    const settings = { dataDir: dir, host: '127.0.0.1' };

    const given = await loadServerCertificate({ ...settings, tlsCertFile: files.cert, tlsKeyFile: files.key });
    assert.equal(given.source, 'given');
    assert.equal(given.thumbprint, opensslThumbprint(own.certPem));
    assert.equal(given.pin, true, 'a self-signed certificate of the user is pinned too');

    const refusals: [Record<string, string>, RegExp][] = [
      [
        { tlsCertFile: files.cert, tlsKeyFile: files.otherKey },
        /other\.pem is not the key of the certificate in .*cert\.pem/,
      ],
      [{ tlsCertFile: files.empty, tlsKeyFile: files.key }, /empty\.pem holds no PEM certificate/],
      [
        { tlsCertFile: join(dir, 'missing.pem'), tlsKeyFile: files.key },
        /Cannot read tlsCertFile \(LONGSHORE_TLS_CERT_FILE\) from .*missing\.pem/,
      ],
      [{ tlsCertFile: files.cert, tlsKeyFile: files.empty }, /empty\.pem is not a PEM private key/],
    ];
    for (const [files, message] of refusals) {
      await assert.rejects(
        loadServerCertificate({ ...settings, ...files }),
        (e) => isErrorCode(e, 'CONFIG_INVALID') && message.test((e as Error).message),
        JSON.stringify(files),
      );
    }
  });
});

describe('certificateHosts', () => {
  it('names the loopback addresses, the machine, the listen address and the public URL host', () => {
    assert.deepEqual(certificateHosts('0.0.0.0', 'https://[fd00::5]:8443'), [
      'localhost',
      '127.0.0.1',
      '::1',
      hostname(),
      'fd00::5',
    ]);
    assert.deepEqual(certificateHosts('10.1.2.3', undefined), [
      'localhost',
      '127.0.0.1',
      '::1',
      hostname(),
      '10.1.2.3',
    ]);
  });
});

describe('chainsToPublicRoot', () => {
  it('tells a certificate from a public CA (not pinned: it is renewed every few months) from a self-signed one', async () => {
    assert.equal(chainsToPublicRoot([new X509Certificate(rootCertificates[0]!)]), true);
    assert.equal(chainsToPublicRoot([new X509Certificate((await createSelfSignedCertificate(['x'])).certPem)]), false);
  });
});
