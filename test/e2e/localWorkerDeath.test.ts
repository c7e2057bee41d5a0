import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliProcess } from '../support/cliProcess.js';
import { Lab } from '../support/lab.js';

// A local worker killed with SIGKILL runs no code of its own afterwards: whatever ends its
// scripts must already be in place, or be the worker's next start.

let lab: Lab;
before(async () => {
  lab = new Lab();
  await lab.startServer();
  await lab.apply('environments: [ { name: Test } ]');
});
after(() => lab.close());

interface ScriptProcess {
  pid: number;
  pgrp: number;
}

/** Live processes whose environment carries the marker: the script's shell and everything it started. */
function scriptProcesses(marker: string): ScriptProcess[] {
  const found: ScriptProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`MARKER=${marker}`)) continue;
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (fields[0] !== 'Z') found.push({ pid: Number(entry), pgrp: Number(fields[2]) });
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

/** Processes of a process group, with their command lines. */
function groupMembers(pgrp: number): { pid: number; cmdline: string[] }[] {
  const found: { pid: number; cmdline: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[2]) !== pgrp || fields[0] === 'Z') continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

const size = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** A worker of its own pool, and a project whose one step there appends to `file` every 200 ms for 30 s. */
async function deployWriter(
  name: string,
  file: string,
  marker: string,
): Promise<{ worker: CliProcess; taskId: string }> {
  await lab.apply(`workerPools: [ { name: ${name}Pool } ]`);
  const worker = await lab.startWorker(`${name.toLowerCase()}-worker`, { pools: [`${name}Pool`] });
  await lab.apply(`
projects:
  - name: ${name}
    process:
      steps:
        - name: Write
          runOn: { pool: ${name}Pool }
          script: { body: 'export MARKER=${marker}; echo writing; i=0; while [ $i -lt 150 ]; do echo tick >> ${file}; i=$((i+1)); sleep 0.2; done' }
`);
  const taskId = JSON.parse((await lab.cli(['deploy', name, '--to', 'Test', '--output', 'json'])).output)
    .taskId as string;
  return { worker, taskId };
}

/** Asserts the file does not grow for a second, and no process of the script is left. */
async function assertScriptEnded(file: string, marker: string, pgrp: number): Promise<void> {
  const stopped = size(file);
  await sleep(1000);
  assert.equal(size(file), stopped, 'the file stopped growing');
  assert.deepEqual(scriptProcesses(marker), [], 'no process of the script is left');
  assert.deepEqual(groupMembers(pgrp), [], "nothing of the script's process group is left");
}

test("a local worker killed with SIGKILL takes its script's processes with it", async () => {
  const file = join(lab.dir, 'killed-worker.txt');
  const marker = `killed-worker-${process.pid}`;
  const { worker, taskId } = await deployWriter('Dying', file, marker);
  await until('the script writes', 20_000, () => size(file) > 0);
  const [script] = scriptProcesses(marker);
  assert.ok(script, 'the script runs');

  await worker.kill('SIGKILL');
  await until(
    "the script's processes are gone, within 2 s of the kill",
    2000,
    () => scriptProcesses(marker).length === 0,
  );
  await assertScriptEnded(file, marker, script.pgrp);

  const task = await lab.waitForTask(taskId, ['failed'], 20_000);
  assert.equal(task.steps[0].operations[0].outcome, 'lost');
  const atLost = size(file);
  await sleep(1000);
  assert.equal(size(file), atLost, 'nothing writes after the server marked the operation lost');
});

test('a restarted local worker ends what its last run left running before it takes work', async () => {
  const file = join(lab.dir, 'restarted-worker.txt');
  const marker = `restarted-worker-${process.pid}`;
  const { worker } = await deployWriter('Restarted', file, marker);
  await until('the script writes', 20_000, () => size(file) > 0);
  const [script] = scriptProcesses(marker);
  assert.ok(script, 'the script runs');

  // What ends the scripts when their worker dies can itself be killed (by the script, by an
  // operator); the next start of the worker is the second line of defence.
  const guards = groupMembers(script.pgrp).filter(
    (p) => p.cmdline[1] === '-c' && p.cmdline[3] === 'longshore-lifeline',
  );
  assert.equal(
    guards.length,
    1,
    `one process watches for the worker's death: ${JSON.stringify(groupMembers(script.pgrp))}`,
  );
  process.kill(guards[0]!.pid, 'SIGKILL');
  await worker.kill('SIGKILL');
  await sleep(1000);
  assert.ok(scriptProcesses(marker).length > 0, 'with its guard gone, the script outlived its worker');

  // It ends them before it polls, so by the time it runs they are gone.
  const restarted = await lab.startWorker('restarted-worker');
  await assertScriptEnded(file, marker, script.pgrp);
  assert.match(restarted.output(), /ended the processes of operation .* left running by the last run of this worker/);
});
