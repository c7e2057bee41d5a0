import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isErrorCode, type OperationPackage } from '@longshore/protocol';
import { strToU8, zipSync } from 'fflate';
import { rawTarGz, sha256, tarGz } from '../../testing/archives.fixture.js';
import { tempDir } from '../../testing/tempDirs.fixture.js';
import { fetchPackages, readFetchManifest, type FetchPackagesOptions } from './packageFetcher.js';

const TOKEN = 'lsp_test-token';

/** A package server as the real one answers: bearer token checked, errors as { code, message } bodies. */
class PackageServer {
  readonly packages = new Map<string, Uint8Array>();
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  /** Statuses the next requests answer with instead of the content. */
  faults: number[] = [];
  readonly server: Server;
  private readonly scheme: 'http' | 'https';
  url = '';

  constructor(tls?: { key: string; cert: string }) {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    this.scheme = tls ? 'https' : 'http';
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${this.scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  add(reference: string, format: 'tar.gz' | 'zip', content: Uint8Array): OperationPackage {
    const downloadPath = `/api/agent/packages/${reference}/1.0.0/content`;
    this.packages.set(downloadPath, content);
    return { reference, packageId: reference, version: '1.0.0', format, sha256: sha256(content), downloadPath };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const fault = this.faults.shift();
    const error = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
    };
    const content = this.packages.get(req.url ?? '');
    if (fault === 0) return; // never answers
    if (fault)
      error(fault, fault === 401 ? 'UNAUTHENTICATED' : fault === 403 ? 'FORBIDDEN' : 'INTERNAL', `fault ${fault}`);
    else if (req.headers.authorization !== `Bearer ${TOKEN}`) error(401, 'UNAUTHENTICATED', 'bad token');
    else if (!content) error(404, 'NOT_FOUND', 'no such package');
    else
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length }).end(content);
  }
}

const servers: PackageServer[] = [];
after(() => {
  for (const s of servers) s.server.close();
});

async function packageServer(tls?: { key: string; cert: string }): Promise<PackageServer> {
  const server = await new PackageServer(tls).start();
  servers.push(server);
  return server;
}

function options(
  server: PackageServer,
  packages: OperationPackage[],
  overrides: Partial<FetchPackagesOptions> = {},
): FetchPackagesOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    manifest: { serverUrl: server.url, packages },
    token: TOKEN,
    workDir: tempDir('fetch'),
    downloadTimeoutMs: 5000,
    retryInitialMs: 10,
    progress: (line) => lines.push(line),
    lines,
    ...overrides,
  };
}

describe('fetchPackages', () => {
  it('installs each package where the local executor would, with the token, one progress line per package', async () => {
    const server = await packageServer();
    const app = server.add('app', 'tar.gz', await tarGz({ 'bin/run.sh': { content: 'echo run\n', mode: 0o755 } }));
    const site = server.add('site', 'zip', zipSync({ 'index.html': strToU8('<h1>hi</h1>') }));
    const o = options(server, [app, site]);
    await fetchPackages(o);
    assert.equal(await readFile(join(o.workDir, 'packages/app/bin/run.sh'), 'utf8'), 'echo run\n');
    assert.equal(await readFile(join(o.workDir, 'packages/site/index.html'), 'utf8'), '<h1>hi</h1>');
    assert.deepEqual((await readdir(join(o.workDir, 'packages'))).sort(), ['app', 'site']);
    assert.equal(o.lines.length, 2);
    assert.match(
      o.lines[0]!,
      /^Installed package app \(app 1\.0\.0, tar\.gz, sha256 verified\) into .*packages\/app in \d+ ms$/,
    );
    assert.deepEqual(
      server.requests.map((r) => r.authorization),
      [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`],
    );
  });

  it('refuses content that does not match its sha256, without retrying or extracting it', async () => {
    const server = await packageServer();
    const app = {
      ...server.add('app', 'zip', zipSync({ 'a.txt': strToU8('a') })),
      sha256: sha256(strToU8('something else')),
    };
    const o = options(server, [app]);
    await assert.rejects(
      fetchPackages(o),
      (e) =>
        isErrorCode(e, 'INVALID_PACKAGE') &&
        /'app' \(app 1\.0\.0\) does not match its sha256/.test((e as Error).message),
    );
    assert.equal(server.requests.length, 1);
    assert.deepEqual(await readdir(join(o.workDir, 'packages')), []);
    assert.deepEqual(o.lines, []);
  });

  it('refuses a package with a hostile entry, naming it, without retrying, and leaves nothing for the script', async () => {
    const server = await packageServer();
    const good = server.add('good', 'zip', zipSync({ 'a.txt': strToU8('a') }));
    const app = server.add(
      'app',
      'tar.gz',
      rawTarGz([
        { path: 'ok.txt', content: 'ok' },
        { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' },
        { path: 'etc/cron.d/x', content: 'x' },
      ]),
    );
    const o = options(server, [good, app]);
    await assert.rejects(fetchPackages(o), (e) => {
      assert.ok(isErrorCode(e, 'INVALID_PACKAGE'), String(e));
      assert.equal(
        (e as Error).message,
        "Package 'app' (app 1.0.0) cannot be installed: The archive's entry 'etc' is a symbolic link (to '/etc'); packages may hold only files and directories",
      );
      return true;
    });
    assert.equal(server.requests.length, 2);
    assert.deepEqual(await readdir(join(o.workDir, 'packages')), ['good']);
  });

  it('names the package and the refusal when the server turns the token down, and does not retry', async () => {
    const server = await packageServer();
    const app = server.add('app', 'zip', zipSync({ 'a.txt': strToU8('a') }));
    for (const [status, code] of [
      [401, 'UNAUTHENTICATED'],
      [403, 'FORBIDDEN'],
    ] as const) {
      server.faults = [status];
      const before = server.requests.length;
      await assert.rejects(fetchPackages(options(server, [app])), (e) => {
        assert.ok(isErrorCode(e, code), String(e));
        assert.match(
          (e as Error).message,
          new RegExp(
            `^Package 'app' \\(app 1\\.0\\.0\\) could not be downloaded from ${server.url}: fault ${status} \\(the pod's package token was refused`,
          ),
        );
        return true;
      });
      assert.equal(server.requests.length, before + 1);
    }
  });

  it('retries a server that cannot answer, then gives up with SERVER_UNREACHABLE', async () => {
    const server = await packageServer();
    const app = server.add('app', 'zip', zipSync({ 'a.txt': strToU8('a') }));
    server.faults = [503];
    const o = options(server, [app]);
    await fetchPackages(o);
    assert.equal(server.requests.length, 2, 'one retry after the 503');
    assert.equal(o.lines.length, 1);

    const closed = await packageServer();
    closed.server.close();
    await assert.rejects(
      fetchPackages(options(closed, [app], { attempts: 2 })),
      (e) =>
        isErrorCode(e, 'SERVER_UNREACHABLE') &&
        /could not be downloaded from .*Cannot reach the server/.test((e as Error).message),
    );
  });

  it('gives up on a download that takes longer than its limit', async () => {
    const server = await packageServer();
    const app = server.add('app', 'zip', zipSync({ 'a.txt': strToU8('a') }));
    server.faults = [0];
    await assert.rejects(
      fetchPackages(options(server, [app], { downloadTimeoutMs: 300, attempts: 1 })),
      (e) => isErrorCode(e, 'TIMEOUT') && /did not download within 300 ms/.test((e as Error).message),
    );
  });

  it(
    'trusts a server whose certificate comes from the given CA, and only with it',
    { skip: !hasOpenssl() && 'openssl is not installed' },
    async () => {
      const tls = selfSigned();
      const server = await packageServer(tls);
      const app = server.add('app', 'zip', zipSync({ 'a.txt': strToU8('over tls') }));
      const o = options(server, [app], { caPem: tls.cert });
      await fetchPackages(o);
      assert.equal(await readFile(join(o.workDir, 'packages/app/a.txt'), 'utf8'), 'over tls');
      await assert.rejects(
        fetchPackages(options(server, [app], { attempts: 1 })),
        (e) => isErrorCode(e, 'SERVER_CERTIFICATE_UNTRUSTED') && /not trusted/i.test((e as Error).message),
      );
    },
  );
});

describe('readFetchManifest', () => {
  it('reads the manifest the pod spec writes and says what is wrong with a bad one', async () => {
    const dir = tempDir('manifest');
    const good = {
      serverUrl: 'http://longshore:8080',
      packages: [
        { reference: 'app', packageId: 'app', version: '1.0.0', format: 'zip', sha256: 'ab', downloadPath: '/x' },
      ],
    };
    await writeFile(join(dir, 'good.json'), JSON.stringify(good));
    assert.deepEqual(await readFetchManifest(join(dir, 'good.json')), good);
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ serverUrl: 'http://longshore:8080', packages: [{ reference: 'app' }] }),
    );
    await assert.rejects(
      readFetchManifest(join(dir, 'bad.json')),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /bad\.json is not valid: \/packages\/0/.test((e as Error).message),
    );
    await assert.rejects(
      readFetchManifest(join(dir, 'missing.json')),
      (e) => isErrorCode(e, 'CONFIG_INVALID') && /Cannot read the package manifest/.test((e as Error).message),
    );
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1: it is its own CA. */
function selfSigned(): { key: string; cert: string } {
  const dir = tempDir('tls');
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
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
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}
