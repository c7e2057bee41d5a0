// exec on a node without a container runtime (the host view, as its containers have): exit
// codes, streams, runc's errors, a terminal with its size, and no process left behind.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startExec } from './containerExec.js';
import { unavailableRuntime } from './containerRuntime.js';
import type { StreamOptions, StreamSession } from './containerStreams.js';

const target = {
  pid: process.pid,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hi' },
  workingDir: '/tmp',
  mounts: [],
  runtime: unavailableRuntime('none here'),
};
const io: StreamOptions = { stdin: false, stdout: true, stderr: true, tty: false };

async function run(s: StreamSession, input?: string): Promise<{ out: string; err: string; exit: unknown }> {
  let out = '';
  let err = '';
  s.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  s.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  if (input !== undefined) s.stdin?.end(input);
  const exit = await s.exited;
  return { out, err, exit };
}

test('exit codes, a signal as 128+n, separate streams, environment and working directory', async () => {
  assert.deepEqual(await run(startExec(target, ['sh', '-c', 'pwd; echo $GREETING; echo e >&2; exit 7'], io)), {
    out: '/tmp\nhi\n',
    err: 'e\n',
    exit: { exitCode: 7 },
  });
  assert.deepEqual((await run(startExec(target, ['sh', '-c', 'kill -KILL $$'], io))).exit, { exitCode: 137 });
  assert.deepEqual(await run(startExec(target, ['cat'], { ...io, stdin: true }), 'x\n'), {
    out: 'x\n',
    err: '',
    exit: { exitCode: 0 },
  });
});

test("a program that cannot run is the exec's error, in runc's words", async () => {
  const words = async (command: string[]): Promise<string> => {
    const { exit } = await run(startExec(target, command, io));
    return (exit as { error: string }).error.replace(/^.*unable to start container process: /, '');
  };
  assert.equal(await words(['nope']), 'exec: "nope": executable file not found in $PATH: unknown');
  assert.equal(await words(['/nope']), 'exec: "/nope": stat /nope: no such file or directory: unknown');
  assert.equal(await words(['/etc/passwd']), 'exec: "/etc/passwd": permission denied: unknown');
});

test('a terminal: the first size before the command, later sizes, EOF at the end of stdin', async () => {
  const s = startExec(target, ['sh', '-c', 'stty size; read x; stty size; cat; echo end'], {
    ...io,
    stdin: true,
    tty: true,
  });
  s.resize(81, 25);
  let out = '';
  s.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  while (!out.includes('25 81')) await new Promise((r) => setTimeout(r, 20));
  s.resize(132, 50);
  await new Promise((r) => setTimeout(r, 200));
  s.stdin!.end('\nline\n');
  assert.deepEqual(await s.exited, { exitCode: 0 });
  assert.match(out, /^25 81\r\n.*50 132\r\n.*line\r\nend\r\n$/s);
});

/** Processes whose arguments include `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('closing a session ends its processes, its terminal session included', async () => {
  for (const [tty, marker] of [
    [false, '0.0051'],
    [true, '0.0052'],
  ] as const) {
    const s = startExec(target, ['sh', '-c', `sleep 600 ${marker} & sleep 600 ${marker}`], { ...io, tty, stdin: tty });
    try {
      while (processesWith(marker).length < 2) await new Promise((r) => setTimeout(r, 20));
    } finally {
      s.close();
    }
    assert.ok('exitCode' in (await s.exited));
    for (let i = 0; i < 50 && processesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesWith(marker), [], `nothing of the exec is left (tty ${String(tty)})`);
  }
});
