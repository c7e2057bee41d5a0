import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { LIFELINE_FD, withLifeline } from './scriptLifeline.js';
import { stillRunning } from '../../testing/processes.fixture.js';

/** As the local executor spawns the bootstrap. */
function spawnGuarded(command: string[]): ChildProcess {
  const [sh, ...args] = withLifeline(command);
  return spawn(sh!, args, { detached: true, stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
}

describe('withLifeline', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  it('keeps the command, its pid and its output, and hides the lifeline from it', async () => {
    const child = spawnGuarded([
      'sh',
      '-c',
      'echo "$$ $0 $1"; [ -e /proc/self/fd/3 ] && echo holds-lifeline; exit 3',
      'name',
      'arg',
    ]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const output = (await child.stdout!.toArray()).join('');
    const code = await exited;
    child.stdio[LIFELINE_FD]!.destroy();
    assert.equal(output, `${child.pid} name arg\n`);
    assert.equal(code, 3);
  });

  it('kills the whole process group once the lifeline closes', async () => {
    const child = spawnGuarded(['sh', '-c', 'sleep 60 & echo $!; sleep 60']);
    const background = await new Promise<number>((resolve) =>
      child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    assert.equal(await stillRunning(background), true, 'the lifeline alone ends nothing');
    // What the kernel does to the worker's end when the worker dies, however it dies.
    child.stdio[LIFELINE_FD]!.destroy();
    const signal = await new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    assert.equal(signal, 'SIGKILL');
    assert.equal(await stillRunning(background), false);
  });
});
