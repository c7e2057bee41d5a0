// bench/sandbox-pods: 500 pods running `true` go through the whole path — created over HTTPS,
// scheduled (pods/binding), run by a virtual node as real processes (ServiceAccount token
// staged, bwrap mount, cgroup where available), their status written back, then deleted
// (reaped) — and the rate in pods/s, beside the share of wall time during which no container
// process was alive (the machinery's own cost, as opposed to process spawn and run).
import { containerProcessStats, KubeClient, startSandbox } from '@longshore/sandbox';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function sandboxPodsBench(
  total = 500,
  concurrency = 16,
): Promise<Record<string, number | boolean | string>> {
  const sb = await startSandbox({
    controllers: {
      deployments: false,
      replicaSets: false,
      replicationControllers: false,
      daemonSets: false,
      podGarbageCollector: false,
      apiServiceAvailability: false,
      serviceAccounts: true,
      garbageCollector: false,
      namespaces: false,
      rootCaPublisher: true,
      endpoints: false,
      jobs: false,
      cronJobs: false,
    },
    cluster: {
      nodeGroups: [
        {
          name: 'bench',
          min: 1,
          max: 1,
          cpu: '1000',
          memory: '1000Gi',
          pods: 1000,
          labels: {},
          taints: [],
          provisioningDelayMs: 0,
        },
      ],
    },
  });
  const client = new KubeClient({ server: sb.server, caPem: sb.caPem, token: sb.adminToken, timeoutMs: 60_000 });
  try {
    const before = containerProcessStats();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const r = await client.request('POST', '/api/v1/namespaces/default/pods', {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `p-${i}` },
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] },
          });
          if (r.status !== 201) throw new Error(`create pod: ${r.status}`);
        }
      }),
    );
    const created = performance.now();
    const phases = async (): Promise<string[]> => {
      const r = await client.request<{ items: { status?: { phase?: string } }[] }>(
        'GET',
        '/api/v1/namespaces/default/pods',
      );
      return r.body.items.map((p) => p.status?.phase ?? '');
    };
    const deadline = Date.now() + 300_000;
    while ((await phases()).filter((p) => p === 'Succeeded').length < total) {
      if (Date.now() > deadline) throw new Error('pods did not finish within 5 minutes');
      await sleep(100);
    }
    const finished = performance.now();
    const del = await client.request('DELETE', '/api/v1/namespaces/default/pods');
    if (del.status !== 200) throw new Error(`delete pods: ${del.status}`);
    while ((await phases()).length) await sleep(100);
    const reaped = performance.now();
    const after = containerProcessStats();
    const wall = reaped - t0;
    const busy = after.busyMs - before.busyMs;
    return {
      pods: total,
      processes: after.processes - before.processes,
      'create s': Number(((created - t0) / 1000).toFixed(2)),
      'all Succeeded s': Number(((finished - t0) / 1000).toFixed(2)),
      'reaped s': Number(((reaped - t0) / 1000).toFixed(2)),
      'pods/s (create to reaped)': Number((total / (wall / 1000)).toFixed(1)),
      'share of wall time outside process spawn/run': Number((1 - busy / wall).toFixed(2)),
      cgroups: sb.cluster?.cgroups.kind ?? 'none',
    };
  } finally {
    client.close();
    await sb.stop();
  }
}
