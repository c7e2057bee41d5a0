// bench/sandbox-api: object creates per second against the sandbox (HTTPS, auth, RBAC,
// validation, storage, audit) beside a bare node:https echo server's requests per second on
// the same machine (the limit), and watch latency: with 1,000 objects stored and 20 watchers
// open, the time from a write's answer to each watcher's event (p50/p99).
// Goal: creates/s >= 0.3 of echo; watch p99 <= 20 ms.
import { createServer } from 'node:https';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateCertificates, startSandbox } from '@longshore/sandbox';
import { percentile, report } from './stats.js';

interface Target {
  url: string;
  caPem: string;
  token: string;
}

function post(agent: Agent, t: Target, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      t.url + path,
      {
        method: 'POST',
        agent,
        headers: {
          Authorization: `Bearer ${t.token}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `total` POSTs over `concurrency` keep-alive connections; returns requests per second. */
async function rate(
  t: Target,
  total: number,
  concurrency: number,
  body: (i: number) => string,
  path: string,
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: t.caPem });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const code = await post(agent, t, path, body(i));
        if (code >= 300) throw new Error(`POST ${path} answered ${code}`);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  return total / s;
}

export async function sandboxApiBench(
  opts: { creates?: number; concurrency?: number; watchers?: number; objects?: number; writes?: number } = {},
): Promise<Record<string, number | boolean>> {
  const creates = opts.creates ?? 3_000;
  const concurrency = opts.concurrency ?? 16;
  const sb = await startSandbox({
    controllers: {
      deployments: false,
      replicaSets: false,
      replicationControllers: false,
      daemonSets: false,
      podGarbageCollector: false,
      apiServiceAvailability: false,
      serviceAccounts: false,
      garbageCollector: false,
      namespaces: false,
      rootCaPublisher: false,
      endpoints: false,
      jobs: false,
      cronJobs: false,
    },
  });
  try {
    // The limit: a bare HTTPS server with the same certificate that answers 201 with the body it got.
    const certs = await generateCertificates([]);
    const echo = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const b = Buffer.concat(chunks);
        res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': b.length });
        res.end(b);
      });
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoTarget = {
      url: `https://127.0.0.1:${(echo.address() as AddressInfo).port}`,
      caPem: certs.caPem,
      token: 'x',
    };
    const sbTarget = { url: sb.server, caPem: sb.caPem, token: sb.adminToken };
    const cm = (prefix: string) => (i: number) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${prefix}-${i}`, labels: { bench: 'yes' } },
        data: { i: String(i) },
      });
    await rate(echoTarget, 500, concurrency, cm('warm'), '/');
    await rate(sbTarget, 500, concurrency, cm('warm'), '/api/v1/namespaces/default/configmaps');
    const echoRate = await rate(echoTarget, creates, concurrency, cm('e'), '/');
    const createRate = await rate(sbTarget, creates, concurrency, cm('c'), '/api/v1/namespaces/kube-public/configmaps');
    echo.close();

    // Watch latency: `objects` ConfigMaps in one namespace, `watchers` watches on it, then writes one at a time.
    const watchers = opts.watchers ?? 20,
      objects = opts.objects ?? 1_000,
      writes = opts.writes ?? 200;
    await rate(sbTarget, objects, concurrency, cm('w'), '/api/v1/namespaces/kube-node-lease/configmaps');
    const agent = new Agent({ keepAlive: true, ca: sb.caPem });
    const pending = new Map<string, { t0: number; left: number; resolve: () => void }>();
    const latencies: number[] = [];
    const streams = await Promise.all(
      Array.from(
        { length: watchers },
        () =>
          new Promise<() => void>((resolve, reject) => {
            const req = request(
              `${sb.server}/api/v1/namespaces/kube-node-lease/configmaps?watch=1`,
              {
                agent: new Agent({ ca: sb.caPem }),
                headers: { Authorization: `Bearer ${sb.adminToken}` },
              },
              (res) => {
                let buf = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => {
                  buf += c;
                  let nl: number;
                  while ((nl = buf.indexOf('\n')) >= 0) {
                    const line = buf.slice(0, nl);
                    buf = buf.slice(nl + 1);
                    const name = /"name":"(lat-\d+)"/.exec(line)?.[1];
                    const p = name ? pending.get(name) : undefined;
                    if (p) {
                      latencies.push(performance.now() - p.t0);
                      if (--p.left === 0) p.resolve();
                    }
                  }
                });
                resolve(() => req.destroy());
              },
            );
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300)); // initial ADDED events drained
    for (let i = 0; i < writes; i++) {
      const name = `lat-${i}`;
      const done = new Promise<void>((resolve) =>
        pending.set(name, { t0: performance.now(), left: watchers, resolve }),
      );
      await post(agent, sbTarget, '/api/v1/namespaces/kube-node-lease/configmaps', cm('lat')(i));
      await done;
    }
    for (const stop of streams) stop();
    agent.destroy();
    return {
      'echo requests/s (limit)': Math.round(echoRate),
      'sandbox creates/s': Math.round(createRate),
      'creates / echo (goal >= 0.3)': Number((createRate / echoRate).toFixed(2)),
      [`watch latency p50 ms (${objects} objects, ${watchers} watchers)`]: Number(percentile(latencies, 50).toFixed(2)),
      'watch latency p99 ms (goal <= 20)': Number(percentile(latencies, 99).toFixed(2)),
      'goals met': createRate / echoRate >= 0.3 && percentile(latencies, 99) <= 20,
    };
  } finally {
    await sb.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) report('sandbox-api', await sandboxApiBench());
