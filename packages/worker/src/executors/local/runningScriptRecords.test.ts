import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLog } from '../../testing/operation.fixture.js';
import { tempDir } from '../../testing/tempDirs.fixture.js';
import { RunningScriptRecords } from './runningScriptRecords.js';
import { stillRunning } from '../../testing/processes.fixture.js';

const started: ChildProcess[] = [];
after(() => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** A process group like a script's: a leader and a background child; resolves with both pids. */
async function scriptGroup(): Promise<{ leader: number; child: number }> {
  const leader = spawn('sh', ['-c', 'sleep 60 & echo $!; wait'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  started.push(leader);
  const child = await new Promise<number>((resolve) =>
    leader.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  return { leader: leader.pid!, child };
}

describe('RunningScriptRecords', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  it('at the next start, ends the process groups an earlier run recorded and forgets them', async () => {
    const dir = tempDir('records');
    const group = await scriptGroup();
    await new RunningScriptRecords(dir, silentLog).add('op-1', group.leader);
    assert.deepEqual(await readdir(dir), ['op-1.json']);

    await new RunningScriptRecords(dir, silentLog).endLeftovers();
    assert.equal(await stillRunning(group.leader), false);
    assert.equal(await stillRunning(group.child), false, 'the whole group ends, not only its leader');
    assert.deepEqual(await readdir(dir), []);
  });

  it('never kills a process that only has the recorded pid (recycled), and drops damaged records', async () => {
    const dir = tempDir('records');
    const group = await scriptGroup();
    const records = new RunningScriptRecords(dir, silentLog);
    await records.add('op-2', group.leader);
    // The same pid, started at another time: what a recycled pid looks like.
    const record = JSON.parse(await readFile(join(dir, 'op-2.json'), 'utf8')) as { startTicks: string };
    await writeFile(
      join(dir, 'op-2.json'),
      JSON.stringify({ ...record, startTicks: String(Number(record.startTicks) - 1) }),
    );
    await writeFile(join(dir, 'op-3.json'), '{"operationId":"op-3","pgid":');

    await new RunningScriptRecords(dir, silentLog).endLeftovers();
    assert.equal(await stillRunning(group.leader), true);
    assert.equal(await stillRunning(group.child), true);
    assert.deepEqual(await readdir(dir), []);
  });

  it('forgets a record once its operation ended', async () => {
    const dir = tempDir('records');
    const records = new RunningScriptRecords(dir, silentLog);
    await records.add('op-4', process.pid);
    await records.remove('op-4');
    assert.deepEqual(await readdir(dir), []);
  });
});
