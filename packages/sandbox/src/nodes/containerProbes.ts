// A container's startup and readiness probes, run as the kubelet runs them: `started` once the
// startup probe passed, `ready` only while the readiness probe passes (successThreshold passes
// in a row to turn ready, failureThreshold failures to turn unready). A container with neither is
// started and ready as soon as it runs. Without this a Deployment counts a crash-looping pod
// ready for the moment between its starts, and `helm upgrade --wait` passes on a worker that
// never came up. Pods share the node's network here, so a probe dials the node (127.0.0.1)
// unless it names a host. httpGet and tcpSocket are run; exec and grpc probes pass, as they did
// before probes were run at all.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Obj } from './env.js';

export interface ProbeState {
  started: boolean;
  ready: boolean;
}

interface Probe {
  httpGet?: Obj;
  tcpSocket?: Obj;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

const seconds = (value: unknown, fallback: number): number =>
  typeof value === 'number' && value >= 0 ? value : fallback;

export class ContainerProbes {
  readonly state: ProbeState;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly container: Obj,
    private readonly onChange: (state: ProbeState) => void,
  ) {
    const startup = container.startupProbe as Probe | undefined;
    const readiness = container.readinessProbe as Probe | undefined;
    this.state = { started: !startup, ready: !startup && !readiness };
    if (startup) this.#run(startup, 'startup');
    else if (readiness) this.#run(readiness, 'readiness');
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #run(probe: Probe, kind: 'startup' | 'readiness'): void {
    const period = seconds(probe.periodSeconds, 10) * 1000;
    const successes = Math.max(1, seconds(probe.successThreshold, 1));
    const failures = Math.max(1, seconds(probe.failureThreshold, 3));
    let passed = 0;
    let failed = 0;
    const tick = async (): Promise<void> => {
      const ok = await this.#probe(probe);
      if (this.#stopped) return;
      passed = ok ? passed + 1 : 0;
      failed = ok ? 0 : failed + 1;
      if (kind === 'startup') {
        if (ok) {
          this.#set({ started: true, ready: !this.container.readinessProbe });
          const readiness = this.container.readinessProbe as Probe | undefined;
          if (readiness) this.#run(readiness, 'readiness');
          return;
        }
      } else if (passed >= successes && !this.state.ready) this.#set({ ...this.state, ready: true });
      else if (failed >= failures && this.state.ready) this.#set({ ...this.state, ready: false });
      this.#schedule(tick, period);
    };
    // A probe's first run comes after its initial delay, as the kubelet's does (startup first: readiness waits for it).
    this.#schedule(tick, seconds(probe.initialDelaySeconds, 0) * 1000);
  }

  #schedule(tick: () => Promise<void>, ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void tick(), ms);
    this.#timer.unref();
  }

  #set(state: ProbeState): void {
    if (state.started === this.state.started && state.ready === this.state.ready) return;
    Object.assign(this.state, state);
    this.onChange({ ...this.state });
  }

  #port(port: unknown): number | undefined {
    if (typeof port === 'number') return port;
    if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
    const named = ((this.container.ports ?? []) as Obj[]).find((p) => p.name === port);
    return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
  }

  #probe(probe: Probe): Promise<boolean> {
    const timeoutMs = Math.max(1, seconds(probe.timeoutSeconds, 1)) * 1000;
    const check = probe.httpGet ?? probe.tcpSocket;
    if (!check) return Promise.resolve(true);
    const port = this.#port(check.port);
    if (port === undefined) return Promise.resolve(false);
    const host = typeof check.host === 'string' && check.host ? check.host : '127.0.0.1';
    return new Promise<boolean>((resolve) => {
      if (probe.tcpSocket) {
        const socket = connect({ host, port, timeout: timeoutMs });
        const end = (ok: boolean) => {
          socket.destroy();
          resolve(ok);
        };
        socket.once('connect', () => end(true));
        socket.once('error', () => end(false));
        socket.once('timeout', () => end(false));
        return;
      }
      const headers = Object.fromEntries(
        ((check.httpHeaders ?? []) as Obj[]).map((h) => [String(h.name), String(h.value)]),
      );
      const https = String(check.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
      // The kubelet does not verify a probe's certificate.
      const req = (https ? httpsRequest : httpRequest)(
        { host, port, path: String(check.path ?? '/'), headers, timeout: timeoutMs, rejectUnauthorized: false },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.once('error', () => resolve(false));
      req.once('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
  }
}
