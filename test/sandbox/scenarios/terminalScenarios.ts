// kubectl with -t, as a user at a terminal runs it: kubectl itself runs on a pseudo-terminal that
// util-linux `script` allocates (kubectl refuses -t, or drops it, when its stdin is no terminal),
// 100 columns by 30 rows, and what the user types is written once kubectl shows it is connected.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventually, kubectlPath } from '../support.js';
import { marker, sleepers, type StreamClients } from './streamScenarios.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TerminalRun {
  code: number;
  /** Everything the terminal showed (kubectl's stdout and stderr both go to it). */
  screen: string;
}

/** Starts kubectl on a terminal; once the screen matches `ready`, types `typed` (stdin stays open,
 *  so no end-of-file reaches the remote side before the command has done its part). `hangUp()`
 *  is the terminal closing under kubectl, as closing its window does. */
export function kubectlOnTerminal(
  k: StreamClients,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  typed: string,
  timeoutMs = 60_000,
): { done: Promise<TerminalRun>; hangUp(): void } {
  const command = `stty cols 100 rows 30; exec ${[kubectlPath(), ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env: k.environment(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let typedYet = false;
  const onOutput = (c: Buffer): void => {
    screen += c.toString();
    if (!typedYet && ready.test(screen)) {
      typedYet = true;
      child.stdin.write(typed);
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const done = new Promise<TerminalRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} did not end on its terminal:\n${screen}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), screen });
    });
  });
  // `script` itself ignores SIGHUP: the hang-up goes to kubectl, its child, as the kernel sends it
  // to a terminal's session leader.
  const hangUp = (): void => {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ');
    for (const pid of kids.filter(Boolean)) process.kill(Number(pid), 'SIGHUP');
  };
  return { done, hangUp };
}

/** `kubectl exec -it POD -- sh`: the shell has a terminal of kubectl's size and its exit status
 *  is kubectl's. A terminal closed under it takes its command along (the kernel hangs up the
 *  session's foreground when a real runtime closes the terminal). */
export async function execTerminalScenario(k: StreamClients, pod: string, env: Record<string, string>): Promise<void> {
  const prompt = /[#$] $/;
  const run = await kubectlOnTerminal(k, ['exec', '-it', pod, '--', 'sh'], env, prompt, 'tty; stty size; exit 5\n')
    .done;
  assert.equal(run.code, 5, run.screen);
  assert.match(run.screen, /\/dev\/pts\/\d+\r?\n/, run.screen);
  assert.match(run.screen, /^30 100\r?$/m, run.screen);
  assert.match(run.screen, /command terminated with exit code 5/);

  const n = marker();
  const session = kubectlOnTerminal(k, ['exec', '-it', pod, '--', 'sh'], env, prompt, `sleep ${n}\n`);
  try {
    await eventually(`sleep ${n} running in ${pod}`, async () => (await sleepers(k, pod, n)).length > 0, 20_000);
  } finally {
    session.hangUp();
  }
  await session.done;
  await eventually(`sleep ${n} gone with the terminal`, async () => (await sleepers(k, pod, n)).length === 0, 10_000);
}

/** `kubectl run -it --rm`: the pod's terminal gets what is typed, and the pod is deleted after. */
export async function runInteractiveScenario(
  k: StreamClients,
  name: string,
  env: Record<string, string>,
): Promise<void> {
  const run = await kubectlOnTerminal(
    k,
    ['run', '-it', '--rm', '--image=busybox', '--restart=Never', name, '--', 'sh', '-c', 'read l; echo got $l'],
    env,
    /If you don't see a command prompt, try pressing enter\./,
    'hello\n',
  ).done;
  assert.equal(run.code, 0, run.screen);
  assert.match(run.screen, /got hello/);
  assert.match(run.screen, new RegExp(`pod "${name}" deleted`));
  const left = await k.kubectl(['get', 'pod', name]);
  assert.match(left.stderr, /NotFound/, `${name} should be gone:\n${left.stdout}`);
}
