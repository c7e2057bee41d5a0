// charts/longshore-server rendered by the real helm: valid Kubernetes objects, the server started
// to its contract (flags the CLI takes, settings from Secrets only, probes on /livez and /readyz),
// and values the chart would run badly with refused with a message naming the value. The install
// into the sandbox is test/e2e/serverChartInstall.test.ts.
// Run: node --conditions=source --import tsx --test test/chart/serverChart.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import {
  SERVER_CHART_DIR,
  readChartSchema,
  readDefaultValues,
  renderChartReadme,
  valueDocs,
} from '../../scripts/chartDocs.js';
import {
  NAMESPACE,
  RELEASE,
  SERVER_CHART,
  find,
  noHelm,
  readYaml,
  renderChart,
  runHelm,
  schemaProblems,
  selects,
  type LabelSelector,
  type Manifest,
} from './helmChart.js';

const VALUES = { default: `${SERVER_CHART}/ci/default-values.yaml`, full: `${SERVER_CHART}/ci/full-values.yaml` };
const DATABASE_URL = readYaml<{ database: { url: string } }>(VALUES.default).database.url;
const REQUIRED = ['--set', `database.url=${DATABASE_URL}`];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string; scheme: string };
  periodSeconds: number;
  timeoutSeconds?: number;
  failureThreshold: number;
}
interface ServerDeployment {
  spec: {
    replicas: number;
    selector: LabelSelector;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        securityContext: Record<string, unknown>;
        containers: {
          image: string;
          args: string[];
          env: EnvVar[];
          securityContext: Record<string, unknown>;
          readinessProbe: Probe;
          livenessProbe: Probe;
          volumeMounts: { name: string; mountPath: string }[];
        }[];
        volumes: { name: string; emptyDir?: object; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

const render = (file: string, extra: string[] = []) => renderChart(file, extra, SERVER_CHART);
const deployment = (docs: Manifest[]) => find<ServerDeployment>(docs, 'Deployment', RELEASE);
const server = (docs: Manifest[]) => deployment(docs).spec.template.spec.containers[0]!;
const envVar = (docs: Manifest[], name: string) => server(docs).env.find((e) => e.name === name);
const flag = (docs: Manifest[], name: string) => {
  const args = server(docs).args;
  return args.includes(name) ? (args[args.indexOf(name) + 1] ?? true) : undefined;
};

describe('charts/longshore-server rendered', { skip: noHelm }, () => {
  const rendered: Record<'default' | 'full', Manifest[]> = { default: [], full: [] };
  before(async () => {
    rendered.default = await render(VALUES.default);
    rendered.full = await render(VALUES.full);
  });

  test('helm lint --strict passes with each CI value set', async () => {
    for (const file of Object.values(VALUES)) {
      const r = await runHelm(['lint', '--strict', SERVER_CHART, '-f', file]);
      assert.equal(r.code, 0, `${file}: ${r.stdout}${r.stderr}`);
    }
  });

  test('every document validates against the Kubernetes schema, in the release namespace', () => {
    for (const docs of Object.values(rendered))
      for (const doc of docs) {
        assert.deepEqual(schemaProblems(doc), []);
        assert.equal(doc.metadata.namespace, NAMESPACE, `${doc.kind}/${doc.metadata.name}`);
      }
    const kinds = rendered.default.map((d) => `${d.kind}/${d.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      `Deployment/${RELEASE}`,
      `Pod/${RELEASE}-test`,
      `PodDisruptionBudget/${RELEASE}`,
      `Secret/${RELEASE}-database`,
      `Secret/${RELEASE}-master-key`,
      `Service/${RELEASE}`,
    ]);
  });

  test('replicaCount nodes of the server image run `longshore server` on all addresses, plain HTTP behind the Service', () => {
    const docs = rendered.default;
    assert.equal(deployment(docs).spec.replicas, 2);
    assert.equal(server(docs).image, `longshore/server:${LONGSHORE_VERSION}`);
    assert.equal(server(docs).args[0], 'server');
    assert.equal(flag(docs, '--host'), '0.0.0.0');
    assert.equal(flag(docs, '--port'), '8080');
    assert.equal(flag(docs, '--data'), '/var/lib/longshore');
    assert.equal(flag(docs, '--insecure-http'), true);
    assert.equal(envVar(docs, 'LONGSHORE_PACKAGE_STORAGE')?.value, 'database');
  });

  test('the database URL and the master key reach the nodes from Secrets only; the password is nowhere else', () => {
    const docs = rendered.default;
    assert.deepEqual(envVar(docs, 'LONGSHORE_DATABASE_URL')?.valueFrom?.secretKeyRef, {
      name: `${RELEASE}-database`,
      key: 'url',
    });
    const secret = find<{ data: Record<string, string> }>(docs, 'Secret', `${RELEASE}-database`);
    assert.equal(Buffer.from(secret.data.url!, 'base64').toString(), DATABASE_URL);
    for (const doc of docs.filter((d) => d.kind !== 'Secret'))
      assert.doesNotMatch(JSON.stringify(doc), /s3cret/, `${doc.kind}/${doc.metadata.name} holds the password`);
    assert.deepEqual(envVar(docs, 'LONGSHORE_MASTER_KEY')?.valueFrom?.secretKeyRef, {
      name: `${RELEASE}-master-key`,
      key: 'master-key',
    });
    const key = find<{ data: Record<string, string>; metadata: { annotations: Record<string, string> } }>(
      docs,
      'Secret',
      `${RELEASE}-master-key`,
    );
    // What the server's masterKey setting accepts: base64 of 32 bytes.
    assert.match(Buffer.from(key.data['master-key']!, 'base64').toString(), /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(key.metadata.annotations['helm.sh/resource-policy'], 'keep');
  });

  test('Secrets of yours are used as they are, and the chart makes none of its own', () => {
    const docs = rendered.full;
    assert.deepEqual(envVar(docs, 'LONGSHORE_DATABASE_URL')?.valueFrom?.secretKeyRef, {
      name: 'longshore-database',
      key: 'connection-string',
    });
    assert.deepEqual(envVar(docs, 'LONGSHORE_MASTER_KEY')?.valueFrom?.secretKeyRef, {
      name: 'longshore-master-key',
      key: 'key',
    });
    assert.deepEqual(
      docs.filter((d) => d.kind === 'Secret' || d.kind === 'PersistentVolumeClaim'),
      [],
    );
  });

  test('readiness is /readyz (a write to the database), failing within about 10 s; liveness is /livez', () => {
    const { readinessProbe, livenessProbe } = server(rendered.default);
    assert.equal(readinessProbe.httpGet.path, '/readyz');
    assert.ok(readinessProbe.periodSeconds * readinessProbe.failureThreshold <= 10);
    // Under the server's 10 s connection timeout: a database that never answers fails the probe too.
    assert.ok(readinessProbe.timeoutSeconds! < 10);
    assert.equal(livenessProbe.httpGet.path, '/livez');
    assert.equal(server(rendered.full).readinessProbe.httpGet.scheme, 'HTTPS', 'with tlsSecret');
  });

  test('non-root on a read-only root filesystem, writing only to emptyDir volumes', () => {
    const { spec } = deployment(rendered.default).spec.template;
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.equal(server(rendered.default).securityContext.readOnlyRootFilesystem, true);
    for (const mount of server(rendered.default).volumeMounts) {
      const volume = spec.volumes.find((v) => v.name === mount.name);
      assert.ok(volume?.emptyDir, `${mount.mountPath} is writable and not an emptyDir`);
    }
  });

  test('packageStorage directory mounts a ReadWriteMany claim on every node, the chart’s or yours', async () => {
    const made = await render(VALUES.default, ['--set', 'packageStorage.type=directory']);
    const claim = find<{ spec: { accessModes: string[] } }>(made, 'PersistentVolumeClaim', `${RELEASE}-packages`);
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
    assert.equal(envVar(made, 'LONGSHORE_PACKAGE_DIRECTORY')?.value, '/var/lib/longshore-packages');
    const volume = deployment(made).spec.template.spec.volumes.find((v) => v.name === 'packages');
    assert.equal(volume?.persistentVolumeClaim?.claimName, `${RELEASE}-packages`);
    const yours = deployment(rendered.full).spec.template.spec.volumes.find((v) => v.name === 'packages');
    assert.equal(yours?.persistentVolumeClaim?.claimName, 'longshore-packages-nfs');
  });

  test('the Service and the PodDisruptionBudget select the server pods, and the budget leaves nodes up', () => {
    const docs = rendered.default;
    const podLabels = deployment(docs).spec.template.metadata.labels;
    const service = find<{ spec: { selector: Record<string, string> } }>(docs, 'Service', RELEASE);
    assert.ok(selects({ matchLabels: service.spec.selector }, podLabels));
    const pdb = find<{ spec: { selector: LabelSelector; maxUnavailable: number } }>(
      docs,
      'PodDisruptionBudget',
      RELEASE,
    );
    assert.ok(selects(pdb.spec.selector, podLabels));
    assert.ok(pdb.spec.maxUnavailable < deployment(docs).spec.replicas);
    assert.ok(selects(deployment(docs).spec.selector, podLabels));
  });
});

const BAD_VALUES: { set: string[]; message: RegExp }[] = [
  { set: [], message: /database\.url or database\.existingSecret is required/ },
  {
    set: [...REQUIRED, '--set', 'database.existingSecret=mine'],
    message: /database\.url and database\.existingSecret are both set/,
  },
  { set: ['--set', 'database.url=mysql://db/longshore'], message: /database\.url: Does not match pattern/ },
  { set: [...REQUIRED, '--set', 'replicaCount=0'], message: /replicaCount/ },
  { set: [...REQUIRED, '--set', 'packageStorage.type=s3'], message: /packageStorage\.type: .*must be one of/ },
  {
    set: [...REQUIRED, '--set', 'podDisruptionBudget.maxUnavailable=2'],
    message: /podDisruptionBudget\.maxUnavailable \(2\) lets a drain take all 2 server nodes/,
  },
  {
    set: [...REQUIRED, '--set', 'server.extraEnv[0].name=LONGSHORE_MASTER_KEY', '--set', 'server.extraEnv[0].value=x'],
    message: /server\.extraEnv sets LONGSHORE_MASTER_KEY/,
  },
  { set: [...REQUIRED, '--set', 'server.replicas=3'], message: /replicas/ },
];

describe('charts/longshore-server values', () => {
  const schema = readChartSchema(SERVER_CHART_DIR);
  const defaults = readDefaultValues(SERVER_CHART_DIR);
  // `global` is helm's, for subcharts: no default of ours.
  const docs = valueDocs(schema).filter((d) => d.path !== 'global');
  const valueAt = (values: unknown, path: string): unknown =>
    path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as never)[k] : undefined), values);

  test('the schema describes every value of values.yaml, each with a default', () => {
    for (const d of docs) {
      assert.ok(d.schema.description, `${d.path} has no description`);
      assert.notEqual(valueAt(defaults, d.path), undefined, `${d.path} has no default in values.yaml`);
    }
  });

  test('ci/full-values.yaml sets every value to something other than its default', () => {
    const full = readYaml(VALUES.full);
    // database.url stays empty there: full-values uses database.existingSecret, and both at once is refused.
    const same = docs
      .filter((d) => d.path !== 'database.url' && isDeepStrictEqual(valueAt(full, d.path), valueAt(defaults, d.path)))
      .map((d) => d.path);
    assert.deepEqual(same, []);
  });

  test('bad values fail helm template with a message naming the value', { skip: noHelm }, async () => {
    const accepted = await runHelm(['template', RELEASE, SERVER_CHART, '--namespace', NAMESPACE, ...REQUIRED]);
    assert.equal(accepted.code, 0, `the required values alone render: ${accepted.stderr}`);
    for (const { set, message } of BAD_VALUES) {
      const r = await runHelm(['template', RELEASE, SERVER_CHART, '--namespace', NAMESPACE, ...set]);
      assert.notEqual(r.code, 0, `accepted: ${set.join(' ')}`);
      assert.match(r.stderr, message, set.join(' '));
    }
  });

  test("the README's values table is generated from the schema (node --import tsx scripts/chartDocs.ts)", async () => {
    const readme = readFileSync(`${SERVER_CHART}/README.md`, 'utf8');
    assert.equal(readme, await renderChartReadme(readme, schema, defaults, SERVER_CHART_DIR));
  });
});
