// The differential API suite: the scripted battery runs against the reference kube-apiserver
// (which must meet every expectation the battery declares), a second time against the reference
// (which proves the normalizers strip everything nondeterministic, so a comparison fails only on
// real differences), and, once it exists, against the sandbox, compared record by record.
// Run: node scripts/run-tests.mjs differential
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from '../referenceCluster.js';
import { ALLOWLIST } from './allowlist.js';
import { checkExpectations, runBattery, type BatteryRun, type RequestRecord } from './battery.js';
import { REFERENCE_APISERVER_ARGS, referenceEndpoint, type ClusterEndpoint } from './cluster.js';
import { AllowlistError, compareRuns, fidelityReport } from './compare.js';
import { optionalSandbox } from './sandboxEndpoint.js';
import { BATTERY } from './steps.js';

const skip = referenceClusterAvailable()
  ? false
  : 'reference control plane not built: run `bash test/control-plane/build.sh`';

function unmet(run: BatteryRun): string {
  return checkExpectations(run)
    .map(
      (m) =>
        `${m.step} / ${m.request} / ${m.field}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`,
    )
    .join('\n');
}

describe('differential API battery', { skip }, () => {
  let cluster: ReferenceCluster;
  let reference: ClusterEndpoint;
  let run: BatteryRun;

  before(async () => {
    const t0 = Date.now();
    cluster = await startReferenceCluster({ extraApiserverArgs: [...REFERENCE_APISERVER_ARGS] });
    reference = referenceEndpoint(cluster);
    const t1 = Date.now();
    run = await runBattery(reference, BATTERY, { prefix: 'dt', label: 'reference' });
    console.log(`reference ready in ${t1 - t0} ms; battery: ${run.records.length} requests in ${run.durationMs} ms`);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('every step runs to completion against the reference', () => {
    assert.deepEqual(run.stepErrors, []);
    for (const step of BATTERY)
      assert.ok(
        run.records.some((r) => r.step === step.name),
        `step ${step.name} recorded nothing`,
      );
  });

  test('the reference meets every expectation the battery declares', () => {
    assert.ok(run.records.length >= 100, `only ${run.records.length} requests`);
    assert.ok(
      run.records.every((r) => Object.keys(r.expect).length > 0),
      'every request declares what it expects',
    );
    const problems = unmet(run);
    assert.equal(problems, '', `unmet expectations:\n${problems}`);
  });

  test('a second run against the reference compares equal (the normalizers are deterministic)', async () => {
    // A different name prefix on purpose: namespace names must not leak into compared fields.
    const again = await runBattery(reference, BATTERY, { prefix: 'dt2', label: 'reference (second run)' });
    const cmp = compareRuns(run, again, []);
    console.log(
      fidelityReport(
        cmp,
        [
          { label: run.label, requests: run.records.length, mismatches: checkExpectations(run) },
          { label: again.label, requests: again.records.length, mismatches: checkExpectations(again) },
        ],
        'the sandbox does not exist yet (sandboxEndpoint.ts): the reference is compared with itself',
      ),
    );
    assert.equal(cmp.requestsCompared, run.records.length);
    assert.deepEqual(cmp.differences, []);
    assert.deepEqual(cmp.stepErrors, []);
  });

  test('the sandbox answers as the reference does', async (t) => {
    const sandbox = await optionalSandbox();
    if (!sandbox) {
      t.skip('no sandbox yet: optionalSandbox() in sandboxEndpoint.ts returns undefined');
      return;
    }
    try {
      const candidate = await runBattery(sandbox, BATTERY, { prefix: 'dt', label: 'sandbox' });
      const cmp = compareRuns(run, candidate, ALLOWLIST);
      console.log(
        fidelityReport(cmp, [
          { label: run.label, requests: run.records.length, mismatches: checkExpectations(run) },
          { label: candidate.label, requests: candidate.records.length, mismatches: checkExpectations(candidate) },
        ]),
      );
      assert.deepEqual(cmp.stepErrors, [], 'battery steps failed');
      assert.deepEqual(
        cmp.differences,
        [],
        'differences from the reference not on the allowlist (see the fidelity report above)',
      );
    } finally {
      await sandbox.stop();
    }
  });
});

describe('compareRuns', () => {
  const rec = (request: string, fields: Record<string, unknown>): RequestRecord => ({
    step: 's',
    request,
    method: 'GET',
    path: '/p',
    fields,
    expect: {},
  });
  const runOf = (label: string, records: RequestRecord[]): BatteryRun => ({
    label,
    records,
    stepErrors: [],
    durationMs: 0,
  });
  const ref = runOf('reference', [
    rec('a', { http: 200, items: ['x', 'y'] }),
    rec('b', { http: 404, message: 'm' }),
    rec('c', { http: 201 }),
  ]);
  const cand = runOf('sandbox', [
    rec('a', { http: 200, items: ['y', 'x'] }),
    rec('b', { http: 404, message: 'other', extra: undefined }),
  ]);

  test('reports each differing field and a missing request, and honours the allowlist', () => {
    const allow = [
      { step: 's', request: 'b', field: 'message', reason: 'wording' },
      { step: 'zz', request: '*', field: '*', reason: 'stale' },
    ];
    const cmp = compareRuns(ref, cand, allow);
    assert.equal(cmp.requestsCompared, 2);
    assert.deepEqual(
      cmp.differences.map((d) => `${d.request}/${d.field}`),
      ['a/items', 'c/(record)'],
    );
    assert.deepEqual(
      cmp.allowlisted.map((d) => `${d.request}/${d.field}/${d.allowedBy?.reason}`),
      ['b/message/wording'],
    );
    assert.deepEqual(
      cmp.unusedAllowlist.map((e) => e.step),
      ['zz'],
    );
    const report = fidelityReport(cmp, []);
    assert.match(report, /requests compared: 2/);
    assert.match(report, /differences: 2/);
    assert.match(report, /allowlisted: 1[\s\S]*wording/);
  });

  test('an allowlist entry without a reason is refused', () => {
    assert.throws(() => compareRuns(ref, cand, [{ step: '*', request: '*', field: '*', reason: ' ' }]), AllowlistError);
  });
});
