// Shared by the tests of a node's ContainerStreams: pods made with kubectl, the node that runs
// them, and a session read to its end.
import { readdirSync, readFileSync } from 'node:fs';
import type { ContainerStreams, Sandbox, StreamExit, StreamSession } from '@longshore/sandbox';
import { type ClientEnv, eventually, succeeded } from './support.js';

/** Applies a pod and waits until all its containers run; returns the streams of its node. */
export async function runningPod(sb: Sandbox, env: ClientEnv, name: string, yaml: string): Promise<ContainerStreams> {
  await succeeded(env.kubectl(['apply', '-f', '-'], { input: yaml }));
  const nodeName = await eventually(
    `${name} running`,
    async () => {
      const r = await env.kubectl([
        'get',
        'pod',
        name,
        '-o',
        'jsonpath={.status.phase} {.spec.nodeName} {.status.containerStatuses[*].state.running.startedAt}',
      ]);
      const [phase, node, started] = r.stdout.split(' ');
      return phase === 'Running' && started ? node : undefined;
    },
    30_000,
  );
  const node = sb.cluster?.node(nodeName!);
  if (!node) throw new Error(`no virtual node ${nodeName!}`);
  return node.streams;
}

export interface SessionResult {
  stdout: string;
  stderr: string;
  exit: StreamExit;
}

/** Collects a session's output until it ends; `input` goes to stdin, which then closes. */
export async function finish(session: StreamSession, input?: string): Promise<SessionResult> {
  let stdout = '';
  let stderr = '';
  const outEnded = new Promise<void>((r) => (session.stdout ? session.stdout.on('end', r) : r()));
  session.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  session.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  if (input !== undefined) session.stdin?.end(input);
  const exit = await session.exited;
  await outEnded;
  return { stdout, stderr, exit };
}

/** Resolves with the output so far once it matches `re`. */
export function outputUntil(session: StreamSession, re: RegExp, timeoutMs = 10_000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(re)} in ${JSON.stringify(text)}`)), timeoutMs);
    const on = (c: Buffer | string): void => {
      text += c.toString();
      if (re.test(text)) {
        clearTimeout(timer);
        session.stdout?.off('data', on);
        resolve(text);
      }
    };
    session.stdout?.on('data', on);
  });
}

/** Processes whose command line holds `marker` (an argument no other process has). */
export function processesWith(marker: string): number[] {
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
