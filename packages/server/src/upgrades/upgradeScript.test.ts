import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { upgradeScript, valuesProgram } from './upgradeScript.js';

const jq = (program: string, input: string): unknown =>
  JSON.parse(execFileSync('jq', [program], { input, encoding: 'utf8' }));

const hasJq = (() => {
  try {
    execFileSync('jq', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

test(
  'values migrate by moves and removals in order, a pinned worker tag follows the upgrade, and no values stay none',
  { skip: !hasJq && 'jq is not installed' },
  () => {
    const program = valuesProgram(
      [
        { since: '0.2.0', reason: 'grouped', move: [{ from: 'worker.drainDeadline', to: 'worker.drain.deadline' }] },
        { since: '0.3.0', reason: 'gone', remove: ['worker.legacy'] },
      ],
      '0.3.0',
    );
    assert.deepEqual(
      jq(
        program,
        JSON.stringify({ worker: { drainDeadline: '2m', legacy: true, pools: ['a'] }, image: { tag: '0.1.0' } }),
      ),
      { worker: { drain: { deadline: '2m' }, pools: ['a'] }, image: { tag: '0.3.0' } },
    );
    assert.deepEqual(jq(program, JSON.stringify({ worker: { pools: ['a'] } })), { worker: { pools: ['a'] } });
    assert.deepEqual(jq(program, 'null'), {});
  },
);

test('the script names the release and versions, never prints the values file, and sets the failure reason only after a rollback', () => {
  const script = upgradeScript({
    release: "it's-release",
    namespace: 'ns',
    chartName: 'longshore-worker',
    fromChart: '0.1.0',
    toChart: '0.2.0',
    fromWorker: '0.1.0',
    toWorker: '0.2.0',
    readyTimeoutSeconds: 45,
    migrations: [],
  });
  assert.match(script, /^release='it'\\''s-release'$/m);
  assert.match(
    script,
    /helm upgrade "\$release" "\$chart" --namespace "\$namespace" --values values\.json --wait --timeout "\$timeout" --hide-notes/,
  );
  assert.doesNotMatch(script, /cat values|cat current-values/);
  assert.ok(script.indexOf('helm rollback') < script.indexOf('set_longshore_variable UpgradeFailure'));
  assert.match(script, /timeout='45s'/);
});
