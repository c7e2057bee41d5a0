import type { Harness } from './serverHarness.js';

/** A hand-driven worker: the raw agent routes, for tests of the server's side of the channel. */
export interface FakeAgent {
  name: string;
  credential: string;
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: T }>;
  /** An abort hangs up, as a worker that goes away mid-poll does. */
  poll(running?: string[], free?: number, waitMs?: number, signal?: AbortSignal): Promise<any>;
  /** Reports an operation's end (succeeded, exit code 0, no lines, unless `result` says otherwise). */
  complete(operationId: string, result?: Record<string, unknown>): Promise<{ status: number; body: any }>;
}

export async function registerFakeAgent(
  h: Pick<Harness, 'url' | 'api'>,
  name: string,
  pools?: string[],
  as: { executor?: 'local' | 'kubernetes'; version?: string; metadata?: Record<string, string> } = {},
): Promise<FakeAgent> {
  const token = (await h.api('POST', '/api/registration-tokens', pools ? { pools } : {})).body.token as string;
  const res = await fetch(h.url + '/api/agent/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      name,
      executor: as.executor ?? 'local',
      version: as.version ?? '0.1.0',
      capacity: 10,
      ...(as.metadata ? { metadata: as.metadata } : {}),
    }),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const { credential } = (await res.json()) as { credential: string };
  const call = async (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const r = await fetch(h.url + path, {
      method,
      ...(signal ? { signal } : {}),
      headers: {
        authorization: `Bearer ${credential}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    name,
    credential,
    call,
    complete: (operationId, result = {}) =>
      call('POST', `/api/agent/operations/${operationId}/complete`, {
        outcome: 'succeeded',
        exitCode: 0,
        message: '',
        outputVariables: [],
        finalSeq: 0,
        ...result,
      }),
    async poll(running = [], free = 10, waitMs = 0, signal) {
      const r = await call('POST', '/api/agent/poll', { free, running, waitMs }, signal);
      if (r.status !== 200) throw new Error(`poll failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
