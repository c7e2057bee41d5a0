import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { kubeClientsDir } from '../sandbox/support.js';
import { Lab } from './lab.js';

export const CHART = resolve(fileURLToPath(import.meta.url), '../../../charts/longshore-worker');

/** A cluster (the sandbox), a Longshore server whose install command names this repository's chart, and a shell with helm and kubectl. */
export interface HelmLab {
  sandbox: Sandbox;
  kc: KubeConfig;
  core: CoreV1Api;
  lab: Lab;
  /** A shell line as a user runs it: helm and kubectl on PATH, the sandbox as the current cluster. */
  shell(line: string): Promise<{ code: number; output: string }>;
  /** Uninstalls `release` and stops everything. */
  close(release: string, namespace: string): Promise<void>;
}

/** A shell line as a user runs it: helm and kubectl on PATH, `kubeconfigPath` the current cluster, helm's caches under `home`. */
export function helmShell(home: string, kubeconfigPath: string): HelmLab['shell'] {
  return (line) =>
    new Promise((done) => {
      execFile(
        'sh',
        ['-c', line],
        {
          timeout: 240_000,
          env: {
            PATH: `${kubeClientsDir()}:${process.env.PATH ?? ''}`,
            HOME: home,
            KUBECONFIG: kubeconfigPath,
            HELM_CACHE_HOME: join(home, 'cache'),
            HELM_CONFIG_HOME: join(home, 'config'),
            HELM_DATA_HOME: join(home, 'data'),
          },
        },
        (err, stdout, stderr) =>
          done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
}

export async function startHelmLab(document: string): Promise<HelmLab> {
  const sandbox = await startSandbox();
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const lab = new Lab();
  await lab.startServer({ LONGSHORE_WORKER_CHART: CHART });
  await lab.apply(document);
  const home = mkdtempSync(join(tmpdir(), 'longshore-helm-home-'));
  const shell = helmShell(home, sandbox.kubeconfigPath);
  return {
    sandbox,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    lab,
    shell,
    async close(release, namespace) {
      await shell(`helm uninstall ${release} --namespace ${namespace}`);
      await lab.close();
      await sandbox.stop();
    },
  };
}
