// Runs the real kubectl against a battery endpoint, for requests only kubectl makes as it makes
// them (`kubectl create deployment` sends protobuf, `kubectl apply --server-side` an apply patch).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatteryError } from './battery.js';
import type { ClusterEndpoint } from './cluster.js';

const KUBE_CLIENTS_VERSION = '2.1.0'; // keep in step with scripts/install-kube-clients.sh

export function kubectlPath(): string {
  const dir =
    process.env.LONGSHORE_KUBE_CLIENTS_BIN ||
    join(process.env.LONGSHORE_CACHE || join(homedir(), '.cache', 'longshore'), 'kube-clients', KUBE_CLIENTS_VERSION);
  return join(dir, 'kubectl');
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl with a kubeconfig for `endpoint` (admin token) and its own cache; never rejects on a non-zero exit. */
export async function kubectl(endpoint: ClusterEndpoint, args: string[], input?: string): Promise<KubectlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-differential-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'battery',
      clusters: [
        {
          name: 'battery',
          cluster: {
            server: endpoint.server,
            'certificate-authority-data': Buffer.from(endpoint.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user: { token: endpoint.adminToken } }],
      contexts: [{ name: 'battery', context: { cluster: 'battery', user: 'admin' } }],
    }),
    { mode: 0o600 },
  );
  try {
    return await new Promise((resolve, reject) => {
      const child = execFile(
        kubectlPath(),
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err && typeof (err as { code?: unknown }).code !== 'number') {
            reject(
              new BatteryError(
                'SETUP_FAILED',
                `kubectl ${args[0] ?? ''} could not run (${err.message}): run \`bash scripts/install-kube-clients.sh\``,
              ),
            );
            return;
          }
          resolve({ code: err ? (err as { code: number }).code : 0, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
