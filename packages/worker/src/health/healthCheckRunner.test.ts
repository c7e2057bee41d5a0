import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { LONGSHORE_VERSION, type HealthReport } from '@longshore/protocol';
import type { Executor } from '../executors/executor.js';
import { silentLog } from '../testing/operation.fixture.js';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { HealthCheckRunner } from './healthCheckRunner.js';
import type { CgroupFiles } from './hostHealth.js';

function executorWith(health: Executor['health']): Executor {
  return { kind: 'kubernetes', start: () => Promise.reject(new Error('no operations here')), cancel() {}, health };
}

function setup(options: { executor?: Executor; cgroup?: Record<string, string>; lastPollMs?: number } = {}) {
  const reports: { checkId: string; report: HealthReport; at: number }[] = [];
  const shutdown = new AbortController();
  const cgroup: CgroupFiles = { read: async (path) => options.cgroup?.[path] };
  const runner = new HealthCheckRunner({
    channel: {
      healthReport: async (checkId, report) => void reports.push({ checkId, report, at: Date.now() }),
    },
    executor: () => options.executor,
    workspaceDir: tempDir('health'),
    lastPollMs: () => ('lastPollMs' in options ? options.lastPollMs : 12),
    signal: shutdown.signal,
    log: silentLog,
    cgroup,
  });
  return { runner, reports, shutdown };
}

const byName = (report: HealthReport, name: string) => report.checks.find((c) => c.name === name);

describe('HealthCheckRunner', () => {
  it("reports what every worker has: the channel's round trip, its version, free disk and memory, the container's limit", async () => {
    const { runner, reports } = setup({
      cgroup: { 'memory.max': '536870912\n', 'memory.current': '104857600\n' },
    });
    runner.run([{ id: 'hc-1', timeoutSeconds: 10 }]);
    await runner.idle();
    assert.equal(reports.length, 1);
    const { checkId, report } = reports[0]!;
    assert.equal(checkId, 'hc-1');
    assert.equal(report.facts.version, LONGSHORE_VERSION);
    assert.equal(report.facts.pollRoundTripMs, '12');
    assert.match(report.facts.freeDiskBytes ?? '', /^\d+$/);
    assert.match(report.facts.freeMemoryBytes ?? '', /^\d+$/);
    assert.equal(report.facts.memoryLimitBytes, '536870912');
    assert.equal(report.facts.memoryUsageBytes, '104857600');
    assert.deepEqual(byName(report, 'server channel'), {
      name: 'server channel',
      ok: true,
      detail: 'the last poll was answered in 12 ms',
    });
    assert.equal(byName(report, 'free disk')?.ok, true);
    assert.deepEqual(byName(report, 'container memory'), {
      name: 'container memory',
      ok: true,
      detail: '100 MiB used of the 512 MiB limit',
    });
  });

  it('a container at its memory limit is a failed check; no limit ("max") is no check', async () => {
    const full = setup({ cgroup: { 'memory.max': '104857600', 'memory.current': '104000000' } });
    full.runner.run([{ id: 'a', timeoutSeconds: 5 }]);
    await full.runner.idle();
    assert.equal(byName(full.reports[0]!.report, 'container memory')?.ok, false);
    const unlimited = setup({ cgroup: { 'memory.max': 'max\n', 'memory.current': '104000000' } });
    unlimited.runner.run([{ id: 'b', timeoutSeconds: 5 }]);
    await unlimited.runner.idle();
    assert.equal(byName(unlimited.reports[0]!.report, 'container memory'), undefined);
    assert.equal(unlimited.reports[0]!.report.facts.memoryLimitBytes, undefined);
  });

  it("adds the executor's checks and facts", async () => {
    const { runner, reports } = setup({
      executor: executorWith(async () => ({
        checks: [{ name: 'pods/create in namespace ns', ok: false, detail: 'pods/create denied in namespace ns' }],
        facts: { apiServerVersion: 'v1.34.0' },
      })),
    });
    runner.run([{ id: 'hc', timeoutSeconds: 5 }]);
    await runner.idle();
    const { report } = reports[0]!;
    assert.equal(report.facts.apiServerVersion, 'v1.34.0');
    assert.equal(report.facts.version, LONGSHORE_VERSION);
    assert.deepEqual(byName(report, 'pods/create in namespace ns')?.detail, 'pods/create denied in namespace ns');
  });

  it("an executor check that throws becomes a failed check with the error's message", async () => {
    const { runner, reports } = setup({
      executor: executorWith(async () => {
        throw new Error('the API server is on fire');
      }),
    });
    runner.run([{ id: 'hc', timeoutSeconds: 5 }]);
    await runner.idle();
    const { report } = reports[0]!;
    assert.deepEqual(byName(report, 'kubernetes executor'), {
      name: 'kubernetes executor',
      ok: false,
      detail: 'the API server is on fire',
    });
    assert.equal(byName(report, 'server channel')?.ok, true, 'the rest is still reported');
  });

  it('a check that outlasts its timeout is reported as failed within the timeout, and its signal is aborted', async () => {
    let aborted = false;
    const { runner, reports } = setup({
      executor: executorWith(async (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        await sleep(60_000, undefined, { ref: false }); // ignores its signal
        return { checks: [], facts: {} };
      }),
    });
    const started = Date.now();
    runner.run([{ id: 'slow', timeoutSeconds: 1 }]);
    await runner.idle();
    const elapsed = reports[0]!.at - started;
    assert.ok(elapsed < 1000, `reported after ${elapsed} ms, within the 1 s timeout`);
    assert.ok(elapsed >= 700, `looked for most of the timeout (${elapsed} ms)`);
    assert.ok(aborted);
    const failed = byName(reports[0]!.report, 'kubernetes executor');
    assert.equal(failed?.ok, false);
    assert.match(failed?.detail ?? '', /timeout/);
  });

  it('runs one check at a time per id; another id runs beside it', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { runner, reports } = setup({
      executor: executorWith(async () => {
        calls++;
        await gate;
        return { checks: [], facts: {} };
      }),
    });
    runner.run([{ id: 'same', timeoutSeconds: 10 }]);
    runner.run([
      { id: 'same', timeoutSeconds: 10 },
      { id: 'other', timeoutSeconds: 10 },
    ]);
    await sleep(50);
    assert.equal(calls, 2, "'same' once, 'other' once");
    release();
    await runner.idle();
    assert.deepEqual(reports.map((r) => r.checkId).sort(), ['other', 'same']);
  });

  it('with no poll answered yet the channel check fails; an oversized report is cut to the contract', async () => {
    const { runner, reports } = setup({
      lastPollMs: undefined,
      executor: executorWith(async () => ({
        checks: Array.from({ length: 250 }, (_, i) => ({
          name: `c${i}`.padEnd(300, 'x'),
          ok: true,
          detail: 'y'.repeat(5000),
        })),
        facts: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`.padEnd(80, 'k'), 'v'.repeat(600)])),
      })),
    });
    runner.run([{ id: 'big', timeoutSeconds: 5 }]);
    await runner.idle();
    const { report } = reports[0]!;
    assert.equal(byName(report, 'server channel')?.ok, false);
    assert.equal(report.checks.length, 200);
    assert.ok(report.checks.every((c) => c.name.length <= 200 && c.detail.length <= 4096));
    assert.ok(Object.keys(report.facts).length <= 32);
    assert.ok(Object.entries(report.facts).every(([k, v]) => k.length <= 64 && v.length <= 512));
  });
});
