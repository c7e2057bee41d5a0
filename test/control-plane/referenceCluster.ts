// Starts the reference control plane (embedded etcd + a real kube-apiserver built by
// test/control-plane/build.sh) on free loopback ports, for tests. See README.md here.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import 'reflect-metadata'; // @peculiar/x509 (via tsyringe) needs the Reflect metadata polyfill loaded first
import * as x509 from '@peculiar/x509';

export type ReferenceClusterErrorCode =
  | 'BINARIES_NOT_BUILT'
  | 'PORT_ALLOCATION_FAILED'
  | 'ETCD_START_FAILED'
  | 'APISERVER_EXITED'
  | 'APISERVER_NOT_READY'
  | 'SETUP_FAILED';

export class ReferenceClusterError extends Error {
  override readonly name = 'ReferenceClusterError';
  constructor(
    readonly code: ReferenceClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ReferenceCluster {
  kubeconfigPath: string;
  /** kubeconfig YAML text (admin token, CA data inline). */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** http://127.0.0.1:<port> — etcd's client URL (v3 gRPC gateway), e.g. to force a compaction. */
  etcdServer: string;
  /** Bearer token of user `admin` in group `system:masters`. */
  adminToken: string;
  caPem: string;
  /** Temporary directory holding certificates, etcd data and logs; removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

export interface ReferenceClusterOptions {
  /** Milliseconds to wait for etcd and then /readyz. Default 90 000. */
  readyTimeoutMs?: number;
  /** Create ServiceAccount default/default as the (not running) ServiceAccount controller would,
   *  so that Pods in namespace `default` pass the ServiceAccount admission plugin. Default true. */
  defaultServiceAccount?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=Foo=true']. */
  extraApiserverArgs?: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const BINARIES = ['kube-apiserver', 'etcd'] as const;

/** Kubernetes version pinned in go.mod (the cache key used by build.sh). */
export function kubernetesVersion(): string {
  const m = /^\s*k8s\.io\/kubernetes (v1\.\S+)/m.exec(readFileSync(join(here, 'go.mod'), 'utf8'));
  if (!m?.[1])
    throw new ReferenceClusterError('SETUP_FAILED', `no k8s.io/kubernetes version in ${join(here, 'go.mod')}`);
  return m[1];
}

/** The cache root shared with build.sh and scripts/install-kube-clients.sh. */
export function longshoreCacheDir(): string {
  return process.env.LONGSHORE_CACHE || join(homedir(), '.cache', 'longshore');
}

function binDir(): string {
  return (
    process.env.LONGSHORE_CONTROL_PLANE_BIN || join(longshoreCacheDir(), 'control-plane', kubernetesVersion(), 'bin')
  );
}

/** The bin dir when the control plane is built, else undefined (tests skip with a reason). */
export function referenceClusterAvailable(): string | undefined {
  const dir = binDir();
  return BINARIES.every((b) => existsSync(join(dir, b))) ? dir : undefined;
}

// Every process group still running, killed synchronously if the test process exits first.
const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooked = false;
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const c of live) killGroup(c, 'SIGKILL');
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      // Nobody else handles it: die of the signal as Node would have without this hook.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  live.delete(child);
}

async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } catch (err) {
    throw new ReferenceClusterError('PORT_ALLOCATION_FAILED', `cannot bind a free loopback port: ${String(err)}`, {
      cause: err,
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const pem = (tag: string, der: ArrayBuffer): string =>
  `-----BEGIN ${tag}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END ${tag}-----\n`;

async function writeCertificates(dir: string): Promise<string> {
  const crypto = webcrypto;
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const [caKeys, serverKeys, saKeys] = await Promise.all(
    [0, 1, 2].map(() => crypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>),
  );
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=longshore-reference-ca',
    keys: caKeys!,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys!.publicKey),
    ],
  });
  const serving = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    publicKey: serverKeys!.publicKey,
    signingKey: caKeys!.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: 'kubernetes' },
        { type: 'dns', value: 'kubernetes.default' },
        { type: 'dns', value: 'kubernetes.default.svc' },
        { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys!.publicKey),
    ],
  });
  const exportKey = async (k: webcrypto.CryptoKey) => pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', k));
  const caPem = ca.toString('pem') + '\n';
  writeFileSync(join(dir, 'ca.crt'), caPem);
  writeFileSync(join(dir, 'apiserver.crt'), serving.toString('pem') + '\n' + caPem);
  writeFileSync(join(dir, 'apiserver.key'), await exportKey(serverKeys!.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.key'), await exportKey(saKeys!.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), pem('PUBLIC KEY', await crypto.subtle.exportKey('spki', saKeys!.publicKey)));
  return caPem;
}

interface HttpResult {
  status: number;
  body: string;
}
function httpsRequest(
  url: string,
  caPem: string,
  opts: { token?: string; method?: string; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const req = request(
      url,
      { method: opts.method ?? 'GET', ca: caPem, headers, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout requesting ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
export { httpsRequest as referenceRequest };

function launch(bin: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true });
    child.on('error', () => {
      /* surfaced via exit checks and the log */
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

export async function startReferenceCluster(opts: ReferenceClusterOptions = {}): Promise<ReferenceCluster> {
  const bin = referenceClusterAvailable();
  if (!bin) {
    throw new ReferenceClusterError(
      'BINARIES_NOT_BUILT',
      `reference control plane binaries not found in ${binDir()}; run \`bash test/control-plane/build.sh\` (or set LONGSHORE_CONTROL_PLANE_BIN)`,
    );
  }
  hookExit();
  const timeoutMs = opts.readyTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const dir = mkdtempSync(join(tmpdir(), 'longshore-refcluster-'));
  liveDirs.add(dir);
  const procs: ChildProcess[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const p of [...procs].reverse()) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  try {
    const caPem = await writeCertificates(dir);
    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const [etcdPort, peerPort, apiPort] = await freePorts(3);

    const etcdLog = join(dir, 'etcd.log');
    const etcdServer = `http://127.0.0.1:${etcdPort}`;
    const etcd = launch(
      join(bin, 'etcd'),
      [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-url=${etcdServer}`,
        `--listen-peer-url=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=error',
      ],
      etcdLog,
    );
    procs.push(etcd);
    while (!/^etcd ready/m.test(tail(etcdLog, 200))) {
      if (exited(etcd) || Date.now() > deadline) {
        throw new ReferenceClusterError(
          'ETCD_START_FAILED',
          `etcd ${exited(etcd) ? `exited (${etcd.exitCode ?? etcd.signalCode})` : `not ready within ${timeoutMs}ms`}; log tail:\n${tail(etcdLog)}`,
        );
      }
      await sleep(50);
    }

    const apiLog = join(dir, 'kube-apiserver.log');
    const server = `https://127.0.0.1:${apiPort}`;
    const api = launch(
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--bind-address=127.0.0.1`,
        `--advertise-address=127.0.0.1`,
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'certs')}`,
        `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
        `--client-ca-file=${join(dir, 'ca.crt')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        '--profiling=false',
        '--enable-priority-and-fairness=false',
        ...(opts.extraApiserverArgs ?? []),
      ],
      apiLog,
    );
    procs.push(api);

    let last = '';
    for (;;) {
      if (exited(api)) {
        throw new ReferenceClusterError(
          'APISERVER_EXITED',
          `kube-apiserver exited (${api.exitCode ?? api.signalCode}); log tail:\n${tail(apiLog)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new ReferenceClusterError(
          'APISERVER_NOT_READY',
          `kube-apiserver not ready within ${timeoutMs}ms (last /readyz: ${last}); log tail:\n${tail(apiLog)}`,
        );
      }
      try {
        const r = await httpsRequest(`${server}/readyz`, caPem, { token: adminToken, timeoutMs: 2000 });
        if (r.status === 200) break;
        last = `${r.status} ${r.body.slice(-300)}`;
      } catch (err) {
        last = String(err);
      }
      await sleep(200);
    }

    if (opts.defaultServiceAccount ?? true) {
      const r = await httpsRequest(`${server}/api/v1/namespaces/default/serviceaccounts`, caPem, {
        token: adminToken,
        method: 'POST',
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }),
      });
      if (r.status !== 201 && r.status !== 409) {
        throw new ReferenceClusterError(
          'SETUP_FAILED',
          `creating ServiceAccount default/default failed: ${r.status} ${r.body}`,
        );
      }
    }

    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: reference',
      'clusters:',
      '- name: reference',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${adminToken}`,
      'contexts:',
      '- name: reference',
      '  context:',
      '    cluster: reference',
      '    user: admin',
      '    namespace: default',
      '',
    ].join('\n');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    return { kubeconfigPath, kubeconfig, server, etcdServer, adminToken, caPem, dir, stop };
  } catch (err) {
    await stop();
    if (err instanceof ReferenceClusterError) throw err;
    throw new ReferenceClusterError('SETUP_FAILED', `starting the reference cluster failed: ${String(err)}`, {
      cause: err,
    });
  }
}
