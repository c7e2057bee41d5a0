import assert from 'node:assert/strict';
import type { LogStream, Operation } from '@longshore/protocol';
import type { OperationSink } from '../executor.js';
import { silentLog } from '../../testing/operation.fixture.js';
import { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { KubernetesExecutor } from './kubernetesExecutor.js';
import { scriptPodNames } from './kubeNames.js';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';

/** A KubernetesExecutor over the fake API, and what its tests wait for. */

export class Sink implements OperationSink {
  readonly lines: { stream: LogStream; text: string }[] = [];
  line(stream: LogStream, text: string): void {
    this.lines.push({ stream, text });
  }
  progress(): void {}
  scriptStartedAt: number | undefined;
  scriptPodName: string | undefined;
  scriptPod(name: string): void {
    this.scriptPodName = name;
  }
  scriptStarted(ts: number): void {
    this.scriptStartedAt ??= ts;
  }
  backpressure(): undefined {
    return undefined;
  }
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}

export function setup(overrides: Record<string, unknown> = {}) {
  const api = new FakeKubeApi();
  const config = parseScriptPodsConfig({ namespace: api.namespace, workerName: 'k8s-1', ...overrides });
  const executor = new KubernetesExecutor({
    api,
    config,
    workspace: { workerName: 'k8s-1', serverUrl: 'https://longshore.example' },
    server: { url: 'https://longshore.example' },
    log: silentLog,
    now: () => api.now(),
  });
  return { api, executor };
}

export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

export async function started(api: FakeKubeApi, operation: Operation): Promise<string> {
  const pod = scriptPodNames(operation.id).pod;
  await until(() => api.pods.has(pod), 'the pod');
  return pod;
}
