// Script pod resources the worker would refuse at start (CONFIG_INVALID) stop `helm template`, and
// so `helm upgrade`, before the Recreate strategy has stopped the running worker: the chart's
// quantity comparison agrees with the worker's own parse of what the chart renders.
// Run: node --conditions=source --import tsx --test test/chart/resourceChecks.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import { parseScriptPodsConfig } from '@longshore/worker';
import { parse as parseYaml } from 'yaml';
import { CHART, NAMESPACE, RELEASE, noHelm, runHelm } from './helmChart.js';

const REQUIRED = ['--set', 'server.url=https://longshore.example.com', '--set', 'registration.token=t0ken'];

/** `helm template` of the script pods' ConfigMap with these --set pairs: its settings, or helm's error. */
async function render(sets: string[]): Promise<{ settings?: unknown; error?: string }> {
  const args = sets.flatMap((s) =>
    s.startsWith('{')
      ? ['--set-json', `scriptPods.resources.${s.slice(1, -1)}`]
      : ['--set', `scriptPods.resources.${s}`],
  );
  const r = await runHelm([
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    ...REQUIRED,
    ...args,
    '--show-only',
    'templates/configmap.yaml',
  ]);
  if (r.code !== 0) return { error: r.stderr };
  const doc = parseYaml(r.stdout) as { data: Record<string, string> };
  return { settings: parseYaml(doc.data['script-pods.yaml']!) };
}

/** The worker's verdict on the same values, as the chart would render them were it to accept them. */
function workerProblems(sets: string[]): string | undefined {
  const resources: Record<string, Record<string, string>> = {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { memory: '1Gi' },
    maxAllowed: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '20Gi' },
  };
  for (const s of sets) {
    if (s.startsWith('{')) {
      const [list, json] = s.slice(1, -1).split('=') as [string, string];
      // The chart leaves an emptied list out, and the worker then uses its own default for it.
      if (json === '{}') delete resources[list];
      continue;
    }
    const [path, value] = s.split('=') as [string, string];
    const [list, name] = path.split('.') as [string, string];
    resources[list]![name] = value;
  }
  try {
    parseScriptPodsConfig({ namespace: NAMESPACE, workerName: 'w', resources });
    return undefined;
  } catch (error) {
    assert.ok(isErrorCode(error, 'CONFIG_INVALID'), String(error));
    return (error as Error).message;
  }
}

const CASES: string[][] = [
  ['requests.cpu=750m', 'maxAllowed.cpu=500m'],
  ['requests.cpu=500m', 'maxAllowed.cpu=500m'],
  ['requests.cpu=4', 'limits.cpu=3999m'],
  ['requests.cpu=4000m', 'limits.cpu=4'],
  ['requests.cpu=0.5', 'limits.cpu=500m'],
  ['requests.cpu=0.5001', 'limits.cpu=500m'],
  ['requests.cpu=1e3', 'limits.cpu=999', 'maxAllowed.cpu=2k'],
  ['requests.cpu=1k', 'limits.cpu=1000', 'maxAllowed.cpu=1e3'],
  ['requests.memory=1Gi', 'limits.memory=1073741824'],
  ['requests.memory=1Gi', 'limits.memory=1G'],
  ['requests.memory=1G', 'limits.memory=1Gi'],
  ['requests.memory=512Mi', 'limits.memory=0.5Gi'],
  ['requests.memory=2Gi', '{limits={}}'],
  ['limits.memory=9Gi'],
  ['limits.memory=8Gi'],
  ['limits.ephemeral-storage=21Gi'],
  ['requests.ephemeral-storage=20000000001', 'maxAllowed.ephemeral-storage=20G'],
  ['requests.cpu=100000n', 'limits.cpu=100u'],
  ['requests.cpu=100001n', 'limits.cpu=100u'],
  ['requests.memory=3Ti', 'limits.memory=4Ti', 'maxAllowed.memory=3Pi'],
  ['requests.memory=2Ei', 'limits.memory=2E', 'maxAllowed.memory=3E'],
];

describe('script pod resources across values', { skip: noHelm }, () => {
  test('the chart refuses exactly what the worker would refuse at start', async () => {
    for (const sets of CASES) {
      const [chart, worker] = [await render(sets), workerProblems(sets)];
      if (worker === undefined) {
        assert.equal(chart.error, undefined, `${sets.join(' ')}: the worker accepts these, the chart refused them`);
        assert.doesNotThrow(
          () => parseScriptPodsConfig({ ...(chart.settings as object), namespace: NAMESPACE, workerName: 'w' }),
          sets.join(' '),
        );
      } else {
        assert.ok(chart.error, `${sets.join(' ')}: the worker refuses these (${worker}), the chart rendered them`);
      }
    }
  });

  test("a request above maxAllowed (the issue's upgrade) is refused with the values and what to do", async () => {
    const { error } = await render(['requests.cpu=750m', 'maxAllowed.cpu=500m']);
    assert.match(
      error ?? '',
      /scriptPods\.resources\.requests\.cpu \(750m\) is more than scriptPods\.resources\.maxAllowed\.cpu \(500m\): the default would break the cap steps are held to, so raise maxAllowed or lower the request/,
    );
  });

  test('every problem is named at once, each with its consequence', async () => {
    const { error } = await render(['requests.cpu=2', 'limits.cpu=1', 'limits.memory=16Gi']);
    assert.match(
      error ?? '',
      /requests\.cpu \(2\) is more than scriptPods\.resources\.limits\.cpu \(1\): Kubernetes rejects a pod whose request exceeds its limit/,
    );
    assert.match(
      error ?? '',
      /limits\.memory \(16Gi\) is more than scriptPods\.resources\.maxAllowed\.memory \(8Gi\): .* lower the limit/,
    );
  });
});
