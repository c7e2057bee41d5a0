// helm 3.17 with pods that really run: `helm install --wait` returns once the Deployment's pod
// is Ready on a virtual node, and `helm upgrade --wait` rolls it to a new pod with the new
// configuration (its log shows the new value).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { type RunResult, clientsMissing, eventually, sandboxForSuite, succeeded } from './support.js';

const chart = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'charts', 'sleeper');

describe('helm install --wait and upgrade with running pods', { skip: clientsMissing() }, () => {
  const suite = sandboxForSuite();

  const ok = (r: Promise<RunResult>): Promise<string> => succeeded(r);
  const podNames = async (): Promise<string[]> =>
    (
      await ok(
        suite.env.kubectl([
          'get',
          'pods',
          '-n',
          'hp',
          '-l',
          'app=rel-sleeper',
          '--field-selector=status.phase=Running',
          '-o',
          'name',
        ]),
      )
    )
      .split('\n')
      .filter(Boolean);

  test('install --wait, then upgrade rolls the pod', async () => {
    await ok(
      suite.env.helm(['install', 'rel', chart, '-n', 'hp', '--create-namespace', '--wait', '--timeout=60s'], {
        timeoutMs: 70_000,
      }),
    );
    const [first] = await podNames();
    assert.ok(first, 'a running pod after install --wait');
    assert.equal(
      await ok(
        suite.env.kubectl(['get', first, '-n', 'hp', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']),
      ),
      'True',
    );
    assert.equal(await ok(suite.env.kubectl(['logs', first, '-n', 'hp'])), 'message=first\n');

    await ok(
      suite.env.helm(['upgrade', 'rel', chart, '-n', 'hp', '--set', 'message=second', '--wait', '--timeout=60s'], {
        timeoutMs: 70_000,
      }),
    );
    const second = await eventually(
      'the old pod is gone and one new pod runs',
      async () => {
        const names = await podNames();
        return names.length === 1 && names[0] !== first ? names[0] : undefined;
      },
      30_000,
    );
    await eventually(
      'the new pod logged the new value',
      async () => (await ok(suite.env.kubectl(['logs', second, '-n', 'hp']))) === 'message=second\n',
      10_000,
    );
  });
});
