// The chart's values: helm lint --strict with the CI value sets, values.schema.json describes
// every value and ci/full-values.yaml changes every one, bad values fail `helm template` with a
// message naming the value, and the README's table is generated from the schema.
// Run: node --conditions=source --import tsx --test test/chart/values.test.ts
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, test } from 'node:test';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import { readChartSchema, readDefaultValues, renderChartReadme, valueDocs } from '../../scripts/chartDocs.js';
import { CHART, CI_VALUES, NAMESPACE, RELEASE, noHelm, readYaml, runHelm } from './helmChart.js';

function valueAt(values: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), values);
}

/** Every key path of values.yaml, down to scalars, lists and empty maps. */
function keyPaths(values: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(values).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length
      ? [path, ...keyPaths(v as Record<string, unknown>, path)]
      : [path];
  });
}

const REQUIRED = ['--set', 'server.url=https://longshore.example.com', '--set', 'registration.token=t0ken'];

/** Each of these must fail `helm template` with a message naming the value (and what is wrong with it). */
const BAD_VALUES: { set: string[]; message: RegExp }[] = [
  { set: ['--set', 'registration.token=t0ken'], message: /server\.url: Does not match pattern/ },
  {
    set: ['--set', 'server.url=longshore.example.com', '--set', 'registration.token=t0ken'],
    message: /server\.url: Does not match pattern/,
  },
  {
    set: ['--set', 'server.url=https://longshore.example.com'],
    message:
      /registration\.token or registration\.existingSecret is required: .* no credential to reuse in the Secret rel-credential/,
  },
  {
    set: [...REQUIRED, '--set', 'registration.existingSecret=mine'],
    message: /registration\.token and registration\.existingSecret are both set/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.pendingTimeout=15 minutes'],
    message: /scriptPods\.pendingTimeout: Does not match pattern/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.pendingTimeout=0s'],
    message: /scriptPods\.pendingTimeout \(0s\) must be at least 1s/,
  },
  {
    set: [...REQUIRED, '--set', 'worker.drainDeadline=soon'],
    message: /worker\.drainDeadline: Does not match pattern/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.resources.requests.cpu=lots'],
    message: /scriptPods\.resources\.requests\.cpu: Does not match pattern/,
  },
  {
    set: [...REQUIRED, '--set', 'resources.limits.memory=1 GB'],
    message: /resources\.limits\.memory: Does not match pattern/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.resources.requests.gpu=1'],
    message: /scriptPods\.resources\.requests: Additional property gpu is not allowed/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.nodeSelecter.pool=scripts'],
    message: /scriptPods: Additional property nodeSelecter is not allowed/,
  },
  {
    set: [...REQUIRED, '--set', 'worker.maxPendingPods=100'],
    message: /worker\.maxPendingPods \(100\) is more than worker\.maxConcurrentOperations \(50\)/,
  },
  {
    set: [...REQUIRED, '--set', 'worker.maxConcurrentOperations=0'],
    message: /worker\.maxConcurrentOperations: Must be greater than or equal to 1/,
  },
  { set: [...REQUIRED, '--set', 'worker.name=build cluster'], message: /worker\.name: Does not match pattern/ },
  {
    set: [...REQUIRED, '--set', 'image.pullPolicy=Sometimes'],
    message: /image\.pullPolicy: image\.pullPolicy must be one of the following/,
  },
  {
    set: [...REQUIRED, '--set', 'scriptPods.tolerations[0].operator=Maybe'],
    message: /scriptPods\.tolerations\.0\.operator: scriptPods\.tolerations\.0\.operator must be one of the following/,
  },
  {
    set: [...REQUIRED, '--set-json', 'permissions.scriptPodRules=[{"nonResourceURLs":["/metrics"],"verbs":["get"]}]'],
    message: /permissions\.scriptPodRules\.0: Additional property nonResourceURLs is not allowed/,
  },
  {
    set: [...REQUIRED, '--set', 'upgrader.enabled=yes'],
    message: /upgrader\.enabled: Invalid type\. Expected: boolean, given: string/,
  },
];

describe("the chart's values", () => {
  const schema = readChartSchema();
  const defaults = readDefaultValues();
  const docs = valueDocs(schema).filter((d) => d.path !== 'global');

  test('helm lint --strict passes with every CI value set', { skip: noHelm }, async () => {
    const sets = readdirSync(`${CHART}/ci`).filter((f) => f.endsWith('-values.yaml'));
    assert.deepEqual(sets.sort(), ['default-values.yaml', 'full-values.yaml']);
    for (const f of sets) {
      const r = await runHelm(['lint', '--strict', CHART, '--namespace', NAMESPACE, '-f', `${CHART}/ci/${f}`]);
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
    }
  });

  test('the schema describes every value of values.yaml, and nothing values.yaml lacks', () => {
    const documented = new Set(docs.map((d) => d.path));
    for (const d of docs) assert.ok(d.schema.description, `${d.path} has no description`);
    for (const path of keyPaths(defaults)) {
      const covered = [...documented].some((p) => path === p || path.startsWith(`${p}.`) || p.startsWith(`${path}.`));
      assert.ok(covered, `${path} is in values.yaml but not in values.schema.json`);
    }
    for (const d of docs)
      assert.notEqual(valueAt(defaults, d.path), undefined, `${d.path} has no default in values.yaml`);
  });

  test('ci/full-values.yaml sets every value to something other than its default', () => {
    const full = readYaml(CI_VALUES.full);
    const same = docs
      .filter(
        (d) =>
          isDeepStrictEqual(valueAt(full, d.path), valueAt(defaults, d.path)) && !(d.path === 'registration.token'),
      )
      .map((d) => d.path);
    // registration.token stays empty: full-values uses registration.existingSecret, and both at once is refused.
    assert.deepEqual(same, []);
  });

  test('bad values fail helm template with a message naming the value', { skip: noHelm }, async () => {
    const accepted = await runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...REQUIRED]);
    assert.equal(accepted.code, 0, `the required values alone render: ${accepted.stderr}`);
    for (const { set, message } of BAD_VALUES) {
      const r = await runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...set]);
      assert.notEqual(r.code, 0, `accepted: ${set.join(' ')}`);
      assert.match(r.stderr, message, set.join(' '));
    }
  });

  test("appVersion is the worker's version, and the default image tag", { skip: noHelm }, async () => {
    const chart = readYaml<{ apiVersion: string; appVersion: string }>(`${CHART}/Chart.yaml`);
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.appVersion, LONGSHORE_VERSION);
    const workerPackage = JSON.parse(
      readFileSync(new URL('../../packages/worker/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.equal(chart.appVersion, workerPackage.version);
    const r = await runHelm([
      'template',
      RELEASE,
      CHART,
      '--namespace',
      NAMESPACE,
      ...REQUIRED,
      '--show-only',
      'templates/deployment.yaml',
    ]);
    assert.match(r.stdout, new RegExp(`image: "longshore/worker:${LONGSHORE_VERSION.replaceAll('.', '\\.')}"`));
  });

  test("the README's values table is generated from the schema (node --import tsx scripts/chartDocs.ts)", async () => {
    const readme = readFileSync(`${CHART}/README.md`, 'utf8');
    assert.equal(readme, await renderChartReadme(readme, schema, defaults));
  });
});
