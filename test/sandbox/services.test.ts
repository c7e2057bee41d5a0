// Services as a user meets them: kubectl applies a Deployment that serves HTTP and a Service in
// front of it; the Service gets a cluster IP, its Endpoints and EndpointSlice (read with
// @kubernetes/client-node) list the ready pod, and another pod reaches it by every name a
// cluster's DNS gives it. Scaled to zero, the endpoints empty and the name stops answering.
// The same scenario runs on the sandbox and on the reference kube-apiserver with the sandbox's
// controllers, nodes and service proxy attached (they are API clients, so they work there too).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { referenceForSuite, referenceSkip } from '../control-plane/sandboxOnReference.js';
import { freePort } from '../support/cliProcess.js';
import type { ClientEnv } from './support.js';
import { clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

const NS = 'shop';

function manifests(port: number): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: longshore/worker:0.1.0
        command: [node, -e, 'require("http").createServer((q, r) => r.end("hello from " + process.env.HOSTNAME)).listen(${port})']
        ports: [{name: http, containerPort: ${port}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: http}]
`;
}

/** A pod of `namespace` that fetches each URL and prints "<url> <body or error>". */
function fetcher(name: string, namespace: string, urls: string[]): string {
  const script = `for (const u of ${JSON.stringify(urls)}) { try { console.log(u, await (await fetch(u, { signal: AbortSignal.timeout(5000) })).text()); } catch (e) { console.log(u, "failed:", e.cause?.code ?? e.message); } }`;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  restartPolicy: Never
  containers:
  - name: fetch
    image: longshore/worker:0.1.0
    command: [node, --input-type=module, -e, ${JSON.stringify(script)}]
`;
}

/** The scenario, against whichever cluster `target()` gives (a kubeconfig and kubectl for it). */
function servicesScenario(target: () => { kubeconfigPath: string; env: ClientEnv }): void {
  async function runFetcher(name: string, namespace: string, urls: string[]): Promise<string> {
    const { env } = target();
    await succeeded(env.kubectl(['apply', '-f', '-'], { input: fetcher(name, namespace, urls) }));
    await eventually(
      `${name} finished`,
      async () =>
        ['Succeeded', 'Failed'].includes(
          (await env.kubectl(['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status.phase}'])).stdout,
        ),
      30_000,
    );
    return succeeded(env.kubectl(['logs', name, '-n', namespace]));
  }

  test('a Deployment behind a Service is reached by its names; scaled to zero, it is not', async () => {
    const { kubeconfigPath, env } = target();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const port = await freePort();
    await succeeded(env.kubectl(['apply', '-f', '-'], { input: manifests(port) }));
    await succeeded(
      env.kubectl(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=30s'], { timeoutMs: 40_000 }),
    );

    const clusterIP = await succeeded(
      env.kubectl(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']),
    );
    assert.match(clusterIP, /^10\.0\.0\.\d+$/);
    const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items[0]!;
    const endpoints = await eventually('the Endpoints list the ready pod', async () => {
      const e = await core.readNamespacedEndpoints({ name: 'web', namespace: NS }).catch(() => undefined);
      return e?.subsets?.[0]?.addresses?.length ? e : undefined;
    });
    assert.deepEqual(
      endpoints.subsets![0]!.ports!.map((p) => ({ ...p })),
      [{ name: 'http', port, protocol: 'TCP' }],
    );
    assert.equal(endpoints.subsets![0]!.addresses![0]!.targetRef?.name, pod.metadata!.name);
    // The printer's columns, the same on both servers.
    const listed = await succeeded(env.kubectl(['get', 'endpoints', 'web', '-n', NS]));
    assert.match(listed, new RegExp(`^NAME\\s+ENDPOINTS\\s+AGE\\nweb\\s+10\\.244\\.\\d+\\.\\d+:${port}\\s`), listed);
    const listedSlices = await succeeded(env.kubectl(['get', 'endpointslices', '-n', NS]));
    assert.match(
      listedSlices,
      new RegExp(`^NAME\\s+ADDRESSTYPE\\s+PORTS\\s+ENDPOINTS\\s+AGE\\nweb-\\w+\\s+IPv4\\s+${port}\\s+10\\.244\\.`),
      listedSlices,
    );
    const slices = (
      await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' })
    ).items;
    assert.equal(slices.length, 1);
    assert.equal(slices[0]?.endpoints?.[0]?.conditions?.ready, true);
    assert.equal(slices[0]!.ports?.[0]?.port, port);

    const names = ['web', `web.${NS}`, `web.${NS}.svc`, `web.${NS}.svc.cluster.local`];
    const own = await runFetcher(
      'client',
      NS,
      names.map((n) => `http://${n}:8080/`),
    );
    for (const n of names)
      assert.match(
        own,
        new RegExp(`^http://${n.replace(/\./g, '\\.')}:8080/ hello from ${pod.metadata!.name}$`, 'm'),
        own,
      );
    // From another namespace the short name is not the Service (as with a cluster's search path).
    const other = await runFetcher('client', 'default', [`http://web.${NS}.svc:8080/`, 'http://web:8080/']);
    assert.match(other, new RegExp(`^http://web\\.${NS}\\.svc:8080/ hello from`, 'm'), other);
    assert.match(other, /^http:\/\/web:8080\/ failed: ENOTFOUND/m, other);

    await succeeded(env.kubectl(['scale', 'deployment/web', '-n', NS, '--replicas=0']));
    await eventually(
      'the Endpoints are empty',
      async () =>
        (await core.readNamespacedEndpoints({ name: 'web', namespace: NS })).subsets?.length ? undefined : true,
      20_000,
    );
    const gone = await runFetcher('client-after', NS, [`http://web.${NS}.svc:8080/`]);
    assert.match(gone, /failed/, gone);
  });

  test('kubectl delete service: its Endpoints and EndpointSlices go with it', async () => {
    const { env } = target();
    await succeeded(env.kubectl(['delete', 'service', 'web', '-n', NS]));
    await eventually(
      'no Endpoints',
      async () => (await env.kubectl(['get', 'endpoints', 'web', '-n', NS])).code !== 0,
      20_000,
    );
    await eventually(
      'no EndpointSlices',
      async () => (await succeeded(env.kubectl(['get', 'endpointslices', '-n', NS, '-o', 'name']))).trim() === '',
      20_000,
    );
  });
}

describe('Services in the sandbox: cluster IP, endpoints, and names pods resolve', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();
  servicesScenario(() => ({ kubeconfigPath: suite.sb.kubeconfigPath, env: suite.env }));
});

describe(
  "Services on the reference kube-apiserver, with the sandbox's controllers and nodes attached",
  { skip: referenceSkip() },
  () => {
    const suite = referenceForSuite();
    servicesScenario(() => ({ kubeconfigPath: suite.ref.kubeconfigPath, env: suite.env }));
  },
);
