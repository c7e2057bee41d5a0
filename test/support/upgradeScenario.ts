// The server-driven upgrade of a helm-installed Kubernetes worker, as a scenario that runs against
// any cluster with the sandbox's nodes (the sandbox's own API server, or the reference control
// plane): chart and worker A installed by hand, the server ships B, `longshore workers upgrade`
// → helm upgrade in the task log → the worker back at B with the same id, while a deployment that
// was running finishes with its whole log; then the server ships a C whose worker exits at start,
// and the upgrade is rolled back. Versions are copies of the chart at another version, and the
// cluster's images of those tags (UPGRADE_IMAGES): one of another LONGSHORE_VERSION, one broken.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { clientsMissing, eventually, kubeClientsDir } from '../sandbox/support.js';
import { freePort } from './cliProcess.js';
import { CHART, helmShell } from './helmLab.js';
import { Lab } from './lab.js';

const BROKEN_OUTPUT = 'worker 0.3.0 cannot start: this build is broken';
const NAMESPACE = 'longshore-upgrade';
const WORKER = 'upgraded';
const RELEASE = `longshore-worker-${WORKER}`;

/** The cluster's images of B and C: the worker build reporting 0.2.0, and one that exits at start. */
export const UPGRADE_IMAGES = {
  'longshore/worker:0.2.0': { from: 'longshore/worker', env: { LONGSHORE_VERSION: '0.2.0' } },
  'longshore/worker:0.3.0': {
    from: 'longshore/worker',
    entrypoint: ['sh', '-c', `echo "${BROKEN_OUTPUT}" >&2; exit 1`],
  },
};

/** Why the scenario cannot run here, or false. */
export function upgradeToolsMissing(): string | false {
  const clients = clientsMissing();
  if (clients) return clients;
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'jq')))
    ? false
    : 'jq is not installed (the upgrade script filters helm values with it, as the worker-tools image does)';
}

/**
 * The upgrade pod runs the worker-tools image, which on the sandbox's nodes is the host's shell:
 * it finds helm and kubectl on the PATH the nodes started with, as the image has them. Call
 * before starting the cluster.
 */
export function putKubeClientsOnPath(): void {
  process.env.PATH = `${kubeClientsDir()}${delimiter}${process.env.PATH ?? ''}`;
}

interface WorkerView {
  id: string;
  status: string;
  version: string;
  upgradeAvailable: boolean;
  upgradeCommand: string | null;
  metadata: Record<string, string>;
}

/** A copy of the chart at another chart version and appVersion (its default worker image tag). */
function chartAt(dir: string, version: string): string {
  const copy = join(dir, `chart-${version}`, 'longshore-worker');
  cpSync(CHART, copy, { recursive: true });
  const file = join(copy, 'Chart.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .replace(/^version: .*$/m, `version: ${version}`)
      .replace(/^appVersion: .*$/m, `appVersion: "${version}"`),
  );
  return copy;
}

export class UpgradeScenario {
  readonly dir = mkdtempSync(join(tmpdir(), 'longshore-upgrade-'));
  readonly lab = new Lab();
  readonly #charts = { a: CHART, b: chartAt(this.dir, '0.2.0'), broken: chartAt(this.dir, '0.3.0') };
  readonly #core: CoreV1Api;

  constructor(kubeconfigPath: string) {
    this.shell = helmShell(this.dir, kubeconfigPath);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.#core = kc.makeApiClient(CoreV1Api);
  }

  readonly shell: (line: string) => Promise<{ code: number; output: string }>;

  async #worker(): Promise<WorkerView> {
    return (await this.lab.api<WorkerView>('GET', `/api/workers/${WORKER}`)).body;
  }

  /** The server, shipping `chart`, with leases that outlast a worker's restart. */
  async #serve(chart: string): Promise<void> {
    await this.lab.server?.kill('SIGTERM');
    await this.lab.startServer({
      LONGSHORE_WORKER_CHART: chart,
      LONGSHORE_UPGRADE_READY_TIMEOUT_SECONDS: '30',
      LONGSHORE_LEASE_MS: '30000',
      LONGSHORE_WORKER_OFFLINE_AFTER_MS: '30000',
    });
  }

  /** The server ships B; chart A is installed by hand, as before this server's version. */
  async installA(): Promise<void> {
    await this.#serve(this.#charts.b);
    await this.lab.apply(`
environments: [ { name: Cluster } ]
projects:
  - name: Counting
    process:
      steps:
        - name: Count
          script: { body: 'i=1; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.25; done' }
  - name: Hello
    process:
      steps:
        - name: Hello
          script: { body: 'echo "hello from the upgraded worker"' }
`);
    const install = await this.lab.api('POST', '/api/workers/install-command', {
      pools: ['default'],
      name: WORKER,
      namespace: NAMESPACE,
      // Pods share the host's network on the sandbox's nodes: the worker's health port must be free there.
      // A drain deadline that outlasts the step running through the upgrade, and adds to the wait for the new worker.
      values: {
        'worker.healthPort': String(await freePort()),
        'worker.maxPendingPods': '7',
        'worker.drainDeadline': '15s',
      },
    });
    assert.equal(install.status, 201, JSON.stringify(install.body));
    const installed = await this.shell((install.body.command as string).replace(this.#charts.b, this.#charts.a));
    assert.equal(installed.code, 0, installed.output);
  }

  async upgradesToB(): Promise<void> {
    const installed = await eventually(
      'the worker is online at A',
      async () => {
        const w = await this.#worker();
        return w.status === 'online' && w.version === '0.1.0' ? w : undefined;
      },
      90_000,
    );
    assert.equal(installed.metadata.chartVersion, '0.1.0');
    assert.equal(installed.metadata.helmRelease, RELEASE);
    assert.equal(installed.upgradeAvailable, true);
    assert.equal(installed.upgradeCommand, `longshore workers upgrade ${WORKER}`);

    const deployment = await this.lab.api('POST', '/api/deployments', { project: 'Counting', environment: 'Cluster' });
    assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
    const deployTask = deployment.body.taskId as string;
    await eventually(
      'the deployment is running',
      async () => ((await this.#logText(deployTask)).includes('line 2') ? true : undefined),
      60_000,
    );

    const upgrade = await this.lab.cli(['workers', 'upgrade', WORKER, '--follow']);
    assert.equal(upgrade.code, 0, `${upgrade.output}\n${await this.diagnostics()}`);
    assert.match(
      upgrade.output,
      /Upgrading Helm release longshore-worker-upgraded in namespace longshore-upgrade: chart 0\.1\.0 -> 0\.2\.0, worker 0\.1\.0 -> 0\.2\.0/,
    );
    assert.match(upgrade.output, /Running helm upgrade/);
    assert.match(upgrade.output, /The worker restarted; resuming script pod/, 'the new worker resumed the upgrade pod');
    assert.match(upgrade.output, /Release "longshore-worker-upgraded" has been upgraded/);
    assert.match(upgrade.output, /back with the same identity at version 0\.2\.0 on chart 0\.2\.0: upgraded/);

    const upgraded = await this.#worker();
    assert.equal(upgraded.id, installed.id, 'the same worker, by its kept credential');
    assert.equal(upgraded.version, '0.2.0');
    assert.equal(upgraded.metadata.chartVersion, '0.2.0');
    assert.equal(upgraded.upgradeAvailable, false);
    const configMap = await this.#core.readNamespacedConfigMap({
      namespace: NAMESPACE,
      name: `${RELEASE}-script-pods`,
    });
    assert.match(configMap.data!['script-pods.yaml']!, /maxPendingPods: 7/, 'the release kept its own values');

    const counted = await this.lab.waitForTask(deployTask, ['succeeded', 'failed'], 120_000);
    assert.equal(counted.state, 'succeeded', JSON.stringify(counted));
    const lines = (await this.lab.taskLog(deployTask)).filter((l: { text: string }) => /^line \d+$/.test(l.text));
    assert.deepEqual(
      lines.map((l: { text: string }) => l.text),
      Array.from({ length: 40 }, (_, i) => `line ${i + 1}`),
      'every line of the step that ran through the upgrade, once and in order',
    );

    const hello = await this.lab.cli(['deploy', 'Hello', '--to', 'Cluster', '--follow']);
    assert.equal(hello.code, 0, hello.output);
    assert.match(hello.output, /hello from the upgraded worker/);
  }

  async brokenIsRolledBack(): Promise<void> {
    await this.#serve(this.#charts.broken);
    const behind = await eventually(
      'the worker is back online with the restarted server',
      async () => {
        const w = await this.#worker();
        return w.status === 'online' && w.upgradeAvailable ? w : undefined;
      },
      60_000,
    );
    assert.equal(behind.version, '0.2.0');

    const upgrade = await this.lab.cli(['workers', 'upgrade', WORKER, '--follow']);
    assert.equal(upgrade.code, 2, `${upgrade.output}\n${await this.diagnostics()}`);
    assert.match(upgrade.output, /did not become ready within 45s/, await this.diagnostics());
    assert.match(upgrade.output, new RegExp(BROKEN_OUTPUT));
    assert.match(upgrade.output, /Rolling back release longshore-worker-upgraded/);
    assert.match(
      upgrade.output,
      /The upgrade of worker upgraded failed: the worker on chart 0\.3\.0 did not become ready within 45s \(.*restarts.*\); rolled back to chart 0\.2\.0/,
    );
    assert.equal((await this.#worker()).version, '0.2.0');
    const history = await this.shell(`helm history ${RELEASE} --namespace ${NAMESPACE} -o json`);
    const revisions = JSON.parse(history.output) as { chart: string; status: string }[];
    assert.deepEqual(
      revisions.map((r) => [r.chart, r.status]),
      [
        ['longshore-worker-0.1.0', 'superseded'],
        ['longshore-worker-0.2.0', 'superseded'],
        ['longshore-worker-0.3.0', 'failed'],
        ['longshore-worker-0.2.0', 'deployed'],
      ],
    );
    const check = await this.lab.cli(['workers', 'check', WORKER, '--follow']);
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /The worker is healthy/);
  }

  /** What a person would look at when an upgrade went wrong: the namespace's pods, their logs, helm's history. */
  async diagnostics(): Promise<string> {
    const ns = `--namespace ${NAMESPACE}`;
    const parts = await Promise.all([
      this.shell(`kubectl get pods ${ns} -o wide`),
      this.shell(`kubectl logs ${ns} -l app.kubernetes.io/component=worker --tail 40 --prefix`),
      this.shell(`kubectl logs ${ns} -l longshore.io/worker=${WORKER} --tail 40 --prefix --all-containers`),
      this.shell(`helm history ${RELEASE} ${ns}`),
    ]);
    return parts.map((p) => p.output).join('\n----\n');
  }

  async #logText(taskId: string): Promise<string> {
    return (await this.lab.taskLog(taskId)).map((l: { text: string }) => l.text).join('\n');
  }

  async close(): Promise<void> {
    await this.shell(`helm uninstall ${RELEASE} --namespace ${NAMESPACE}`);
    await this.lab.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
