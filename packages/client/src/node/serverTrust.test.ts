import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isErrorCode, type LongshoreError } from '@longshore/protocol';
import { LongshoreClient } from '../longshoreClient.js';
import { pinnedFetch } from './pinnedFetch.js';
import { ServerTransport } from './serverTransport.js';

const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const tempDirs: string[] = [];
after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `longshore-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

interface Pem {
  key: string;
  cert: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A self-signed certificate for 127.0.0.1 only (no DNS name), as a server may make for itself. */
function selfSigned(): Pem {
  const dir = tempDir('tls');
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=self',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    'key.pem',
    '-out',
    'cert.pem',
  ]);
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

/** A CA and a server certificate it issued for 127.0.0.1. */
function caSigned(): { ca: string; server: Pem } {
  const dir = tempDir('ca');
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=server',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > ext.cnf'], { cwd: dir });
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  ]);
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    server: { key: readFileSync(join(dir, 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'server.pem'), 'utf8') },
  };
}

/** Thumbprints as openssl prints them and as Longshore does, computed apart from the code under test. */
function thumbprints(pem: string): { openssl: string; hex: string; sha1: string } {
  const certificate = new X509Certificate(pem);
  return {
    openssl: certificate.fingerprint256,
    hex: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
    sha1: certificate.fingerprint.replaceAll(':', ''),
  };
}

class EchoServer {
  readonly authorizations: (string | undefined)[] = [];
  connections = 0;
  readonly server: Server;
  port = 0;

  constructor(tls: Pem) {
    this.server = createServer(tls, (req, res) => {
      this.authorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
    this.server.on('secureConnection', () => this.connections++);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
}

const get = (transport: ServerTransport) =>
  transport.json({ method: 'GET', path: '/api/server', headers: { authorization: 'Bearer secret' }, timeoutMs: 5000 });

describe('ServerTransport over HTTPS', { skip: !hasOpenssl && 'openssl is not installed' }, () => {
  let own: Pem;
  let self: EchoServer;
  let issued: { ca: string; server: Pem };
  let signed: EchoServer;
  const transports: ServerTransport[] = [];
  const transport = (host: string, port: number, trust: { thumbprint?: string; caPem?: string }) => {
    const t = new ServerTransport({ serverUrl: `https://${host}:${port}`, userAgent: 'test', ...trust });
    transports.push(t);
    return t;
  };

  before(async () => {
    own = selfSigned();
    self = await new EchoServer(own).start();
    issued = caSigned();
    signed = await new EchoServer(issued.server).start();
  });
  after(() => {
    for (const t of transports) t.close();
    self.server.close();
    signed.server.close();
  });

  it('trusts exactly the pinned certificate, under any host name, in each form a pin is written', async () => {
    const { openssl: colons, hex, sha1 } = thumbprints(own.cert);
    for (const thumbprint of [hex, colons, sha1]) {
      const t = transport('localhost', self.port, { thumbprint });
      assert.deepEqual(await get(t), { ok: true }, thumbprint);
      assert.equal(t.serverCertificate?.fingerprint256, colons);
    }
  });

  it('checks a connection once and keeps it alive for the next requests', async () => {
    const before = self.connections;
    const t = transport('127.0.0.1', self.port, { thumbprint: thumbprints(own.cert).hex });
    for (let i = 0; i < 3; i++) await get(t);
    assert.equal(self.connections - before, 1);
  });

  it('refuses another certificate than the pinned one, naming both, before the credential is sent', async () => {
    const sent = self.authorizations.length;
    const wrong = 'ab'.repeat(32);
    const error = (await get(transport('127.0.0.1', self.port, { thumbprint: wrong })).catch(
      (e: unknown) => e,
    )) as LongshoreError;
    assert.ok(isErrorCode(error, 'SERVER_CERTIFICATE_MISMATCH'), String(error));
    assert.ok(error.message.includes(wrong) && error.message.includes(thumbprints(own.cert).hex), error.message);
    assert.deepEqual(error.details, { expected: wrong, presented: thumbprints(own.cert).hex });
    // Pinned to a CA-signed certificate's thumbprint, a valid chain is not enough either.
    await assert.rejects(get(transport('127.0.0.1', signed.port, { thumbprint: wrong })), (e) =>
      isErrorCode(e, 'SERVER_CERTIFICATE_MISMATCH'),
    );
    assert.equal(self.authorizations.length, sent, 'no request reached the server');
  });

  it('refuses a self-signed certificate nobody pinned, with its thumbprint and what to do', async () => {
    const sent = self.authorizations.length;
    await assert.rejects(
      get(transport('127.0.0.1', self.port, {})),
      (e) =>
        isErrorCode(e, 'SERVER_CERTIFICATE_UNTRUSTED') &&
        (e as Error).message.includes(thumbprints(own.cert).hex) &&
        /--server-thumbprint/.test((e as Error).message),
    );
    assert.equal(self.authorizations.length, sent);
  });

  it('trusts a self-signed certificate given as the CA under any host name, and a CA-issued one for its own names only', async () => {
    assert.deepEqual(await get(transport('localhost', self.port, { caPem: own.cert })), { ok: true });
    assert.deepEqual(await get(transport('127.0.0.1', signed.port, { caPem: issued.ca })), { ok: true });
    await assert.rejects(
      get(transport('localhost', signed.port, { caPem: issued.ca })),
      (e) =>
        isErrorCode(e, 'SERVER_CERTIFICATE_UNTRUSTED') && /ERR_TLS_CERT_ALTNAME_INVALID/.test((e as Error).message),
    );
    await assert.rejects(get(transport('127.0.0.1', signed.port, { caPem: own.cert })), (e) =>
      isErrorCode(e, 'SERVER_CERTIFICATE_UNTRUSTED'),
    );
  });

  it('gives a LongshoreClient a fetch with the same trust, for its own server only', async () => {
    const url = `https://localhost:${self.port}`;
    const fetch = pinnedFetch({ serverUrl: url, userAgent: 'test', thumbprint: thumbprints(own.cert).hex });
    try {
      const client = new LongshoreClient({ url, apiKey: 'secret', fetch });
      assert.deepEqual(await client.serverInfo(), { ok: true });
      assert.equal(self.authorizations.at(-1), 'Bearer secret');
      assert.equal(fetch.serverCertificate?.fingerprint256, thumbprints(own.cert).openssl);
      await assert.rejects(fetch(`https://127.0.0.1:${self.port}/api/server`), (e) => isErrorCode(e, 'CONFIG_INVALID'));
    } finally {
      fetch.close();
    }
    const wrong = pinnedFetch({ serverUrl: url, userAgent: 'test', thumbprint: 'ab'.repeat(32) });
    await assert.rejects(new LongshoreClient({ url, apiKey: 'secret', fetch: wrong }).serverInfo(), (e) =>
      isErrorCode(e, 'SERVER_CERTIFICATE_MISMATCH'),
    );
    wrong.close();
  });

  it('says what is wrong with a pin that is not a thumbprint', () => {
    assert.throws(
      () => transport('127.0.0.1', self.port, { thumbprint: 'abc' }),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /'abc' is not a certificate thumbprint/.test((e as Error).message),
    );
  });
});
