import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recommendResources, type MeasuredRun, type RecommendationOptions } from './recommendation.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const options: RecommendationOptions = {
  minSamples: 3,
  cpuFloorMillis: 10,
  memoryFloorBytes: 32 * Mi,
  maxAllowed: { cpuMillis: 4000, memoryBytes: 8 * Gi },
};
const run = (peakCpuMillis: number, peakMemoryBytes: number, extra: Partial<MeasuredRun> = {}): MeasuredRun => ({
  peakCpuMillis,
  meanCpuMillis: peakCpuMillis / 3,
  peakMemoryBytes,
  durationSeconds: 60,
  oomKilled: false,
  throttled: false,
  requests: { cpuMillis: 250, memoryBytes: 256 * Mi },
  ...extra,
});

test('no runs and too few runs: learning, with the method saying the pool default applies', () => {
  const none = recommendResources([], options);
  assert.equal(none.state, 'learning');
  assert.equal(none.samples, 0);
  assert.match(none.method, /pool default applies until 3 runs/);
  const two = recommendResources([run(100, 100 * Mi), run(120, 110 * Mi)], options);
  assert.equal(two.state, 'learning');
  assert.equal(two.samples, 2);
  assert.match(two.method, /2 so far/);
});

test("CPU is the 90th percentile of the runs' needs, memory the highest peak plus 20%", () => {
  // Steady runs (mean = peak) of 100..1000m need peak / 1.1; the 90th percentile by nearest rank
  // of ten is the ninth, 900m, so 818m.
  const runs = Array.from({ length: 10 }, (_, i) => ({
    ...run((i + 1) * 100, (200 + i) * Mi),
    meanCpuMillis: (i + 1) * 100,
  }));
  const r = recommendResources(runs, options);
  assert.equal(r.state, 'ready');
  assert.equal(r.samples, 10);
  assert.equal(r.cpuMillis, 818);
  assert.equal(r.memoryBytes, Math.round(209 * Mi * 1.2));
  assert.equal(r.memoryLimitBytes, undefined);
  assert.match(r.method, /90th percentile of each run's need, the least request that keeps it within 10% of its time/);
  assert.match(r.method, /: 818m\./);
  assert.match(r.method, /highest peak, 209Mi, plus 20%: 251Mi/);
});

test('a burst is paid for by how long it lasts: a rollout that spikes then waits needs far less than its peak, a build most of it', () => {
  // Peak 600m, mean 60m: at most a tenth of the run at the peak; 600·60 / (60 + 60) = 300m.
  const rollout = Array.from({ length: 5 }, () => ({ ...run(600, 200 * Mi), meanCpuMillis: 60 }));
  assert.equal(recommendResources(rollout, options).cpuMillis, 300);
  // Peak 1600m, mean 900m: 1600·900 / (900 + 160) = 1358m.
  const build = Array.from({ length: 5 }, () => ({ ...run(1600, 800 * Mi), meanCpuMillis: 900 }));
  assert.equal(recommendResources(build, options).cpuMillis, 1358);
});

test('only the newest runs count: a step that shrank is followed once the window has moved on', () => {
  const old = Array.from({ length: 20 }, () => run(2000, 2 * Gi));
  const recent = Array.from({ length: 20 }, () => run(200, 300 * Mi));
  const r = recommendResources([...old, ...recent], options);
  assert.equal(r.samples, 20);
  assert.equal(r.cpuMillis, recommendResources(recent, options).cpuMillis);
  assert.ok(r.cpuMillis < 200);
  assert.equal(r.memoryBytes, Math.round(300 * Mi * 1.2));
  assert.equal(recommendResources([...old, ...recent.slice(0, 19)], options).memoryBytes, Math.round(2 * Gi * 1.2));
  assert.equal(recommendResources(recent, { ...options, windowRuns: 5 }).samples, 5);
});

test('an OOM kill: ready at once, request at least 1.5 times the limit hit, and a limit of twice the request', () => {
  const killed = run(300, 1 * Gi, { oomKilled: true, limits: { memoryBytes: 1 * Gi } });
  const r = recommendResources([killed], options);
  assert.equal(r.state, 'ready');
  assert.equal(r.memoryBytes, 1.5 * Gi);
  assert.equal(r.memoryLimitBytes, 3 * Gi);
  assert.match(r.method, /1\.5 times the limit the 1 OOM-killed run hit/);
  // Evicted for node pressure with no limit: the peak it reached stands in for the limit.
  assert.equal(recommendResources([run(300, 800 * Mi, { oomKilled: true })], options).memoryBytes, 1200 * Mi);
  // A later run that shows a higher real peak raises the request above the bump.
  const after = recommendResources([killed, run(300, 2 * Gi)], options);
  assert.equal(after.memoryBytes, Math.round(2 * Gi * 1.2));
  assert.equal(after.memoryLimitBytes, after.memoryBytes * 2);
  // Once the killed run has left the window, the limit goes with it.
  const later = recommendResources([killed, ...Array.from({ length: 20 }, () => run(300, 2 * Gi))], options);
  assert.equal(later.memoryLimitBytes, undefined);
});

test("a throttled run's need counts 25% higher: its figures are what it was given, not what it wanted", () => {
  const steady = { meanCpuMillis: 800 };
  const plain = recommendResources(
    [run(800, 100 * Mi, steady), run(800, 100 * Mi, steady), run(800, 100 * Mi, steady)],
    options,
  );
  const throttled = recommendResources(
    [run(800, 100 * Mi, { ...steady, throttled: true }), run(800, 100 * Mi, steady), run(800, 100 * Mi, steady)],
    options,
  );
  assert.equal(plain.cpuMillis, 727);
  assert.equal(throttled.cpuMillis, 909);
  assert.match(throttled.method, /the 1 throttled run's counted 25% higher/);
});

test('a run that outgrew the pool default makes the step ready at once; one that fitted does not', () => {
  assert.equal(recommendResources([run(200, 200 * Mi, { meanCpuMillis: 150 })], options).state, 'learning');
  assert.equal(recommendResources([run(1500, 200 * Mi, { meanCpuMillis: 1200 })], options).state, 'ready');
  assert.equal(recommendResources([run(100, 600 * Mi, { meanCpuMillis: 50 })], options).state, 'ready');
});

test('held between the floors and maxAllowed, and the limit never above maxAllowed', () => {
  const tiny = recommendResources([run(1, 1 * Mi), run(1, 1 * Mi), run(1, 1 * Mi)], options);
  assert.equal(tiny.cpuMillis, 10);
  assert.equal(tiny.memoryBytes, 32 * Mi);
  const huge = recommendResources([run(9000, 7 * Gi, { oomKilled: true, limits: { memoryBytes: 7 * Gi } })], options);
  assert.equal(huge.cpuMillis, 4000);
  assert.equal(huge.memoryBytes, 8 * Gi);
  assert.equal(huge.memoryLimitBytes, 8 * Gi);
});
