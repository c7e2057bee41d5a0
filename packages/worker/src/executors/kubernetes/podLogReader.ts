import { setTimeout as sleep } from 'node:timers/promises';
import { LineSplitter, type BootstrapOutput } from '../../bootstrapOutput.js';
import { Backoff } from '../../retry.js';
import type { KubeApi } from './kubeApi.js';

export type ContainerState = 'waiting' | 'running' | 'terminated' | 'gone';

/** Why reading ended: the bootstrap's end marker, the container ended without one, the pod vanished, or the caller stopped it. */
export type LogReadEnd = 'marker' | 'terminated' | 'gone' | 'aborted';

export interface PodLogReaderOptions {
  api: Pick<KubeApi, 'streamPodLog'>;
  podName: string;
  container: string;
  /** Takes the lines; it drops line numbers it already has and reports gaps as system lines. */
  output: BootstrapOutput;
  /** Asked when a stream ends without the end marker: resume, or is it over? */
  containerState(): Promise<ContainerState>;
  signal: AbortSignal;
  /** Where a re-adopted operation's log continues (the last timestamp seen before the restart). */
  sinceTime?: string;
  /** For the worker's own log: a stream broke and was resumed. Not the task log: a resume without a gap is invisible to users. */
  diagnostic?(message: string, error?: unknown): void;
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * A terminated container's log is complete; a stream that keeps breaking on it this often is
 * given up on, and whatever lines were never read show up as a gap before the end, or as a
 * missing end marker.
 */
const MAX_TRIES_AFTER_TERMINATION = 5;

/**
 * Reads the script container's log through the log API (follow, timestamps) into the bootstrap
 * output parser. A stream that breaks (API server restart, proxy timeout, kubelet hiccup) is
 * resumed with sinceTime = the last timestamp seen. The API server honours whole seconds, so
 * the resumed stream repeats lines: those with an earlier timestamp, and as many with the same
 * timestamp as were already read, are dropped here; the bootstrap's line numbers catch the
 * rest. Lines the kubelet lost (log rotation) show up as a numbered gap, which the parser reports.
 */
export class PodLogReader {
  private lastTs = -1n;
  private atLastTs = 0;
  private lastTsText: string | undefined;

  constructor(private readonly options: PodLogReaderOptions) {
    this.lastTsText = options.sinceTime;
    const stamp = options.sinceTime === undefined ? undefined : parseTimestamp(options.sinceTime);
    if (stamp) this.lastTs = stamp.nanos;
  }

  /** RFC 3339 time of the last line read: where a restarted worker resumes. */
  get sinceTime(): string | undefined {
    return this.lastTsText;
  }

  async read(): Promise<LogReadEnd> {
    const { signal } = this.options;
    const backoff = new Backoff(this.options.backoff ?? { initialMs: 200, maxMs: 5000 });
    let triesAfterTermination = 0;
    let readAfterTermination = false;
    for (;;) {
      if (signal.aborted) return 'aborted';
      let broken: unknown;
      let received = false;
      try {
        received = await this.stream();
      } catch (error) {
        broken = error;
      }
      if (this.options.output.exitCode !== undefined) return 'marker';
      if (signal.aborted) return 'aborted';
      if (received) backoff.reset();
      const state = await this.state();
      if (state === 'gone') return 'gone';
      if (state === 'terminated') {
        // A clean end is the whole log only if the container had already ended when the stream
        // began: a stream that ended while it ran, just before it exited, misses its last lines.
        // So once the container is seen terminated, one more read must add nothing.
        if (
          (broken === undefined && !received && readAfterTermination) ||
          ++triesAfterTermination > MAX_TRIES_AFTER_TERMINATION
        )
          return 'terminated';
        readAfterTermination = true;
        continue;
      }
      this.options.diagnostic?.(
        broken === undefined
          ? 'the log stream ended while the container runs; resuming'
          : 'the log stream broke; resuming',
        broken,
      );
      try {
        await sleep(backoff.next(), undefined, { signal });
      } catch {
        return 'aborted';
      }
    }
  }

  private async state(): Promise<ContainerState> {
    try {
      return await this.options.containerState();
    } catch {
      // Unknown: keep trying, as if it still ran; the executor's watch decides the outcome.
      return 'running';
    }
  }

  /** One stream, from the last timestamp seen; true if it delivered anything new. */
  private async stream(): Promise<boolean> {
    const { api, podName, container, output, signal } = this.options;
    let skipAtLast = this.lastTsText === undefined ? 0 : this.atLastTs;
    // Only a resumed stream's start repeats lines; past it, every line is new whatever its
    // timestamp says (clocks step back, and two pipes are read at slightly different times).
    let caughtUp = this.lastTsText === undefined;
    let received = false;
    // A new splitter per stream: the partial line of a broken stream comes again whole.
    const splitter = new LineSplitter((raw) => {
      const space = raw.indexOf(' ');
      const stamp = space > 0 ? parseTimestamp(raw.slice(0, space)) : undefined;
      if (!stamp) {
        output.line(raw, Date.now());
        return;
      }
      if (!caughtUp) {
        if (stamp.nanos < this.lastTs) return;
        if (stamp.nanos === this.lastTs && skipAtLast > 0) {
          skipAtLast--;
          return;
        }
        caughtUp = true;
      }
      if (stamp.nanos === this.lastTs) {
        this.atLastTs++;
      } else if (stamp.nanos > this.lastTs) {
        this.lastTs = stamp.nanos;
        this.lastTsText = raw.slice(0, space);
        this.atLastTs = 1;
      }
      received = true;
      output.line(raw.slice(space + 1), stamp.ms);
    });
    const sinceTime = this.lastTsText === undefined ? undefined : wholeSecond(this.lastTsText);
    for await (const chunk of api.streamPodLog(
      podName,
      container,
      { follow: true, timestamps: true, ...(sinceTime ? { sinceTime } : {}) },
      { signal },
    )) {
      splitter.write(chunk);
      if (output.exitCode !== undefined) return true;
    }
    splitter.end();
    return received;
  }
}

/** RFC 3339 with up to nanoseconds, as the kubelet writes it; undefined for anything else. */
export function parseTimestamp(text: string): { ms: number; nanos: bigint } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0'));
  return { ms: seconds + Number(fraction / 1_000_000n), nanos: BigInt(seconds) * 1_000_000n + fraction };
}

/** sinceTime rounded down to its second: the API server drops the fraction anyway, and rounding down never skips a line. */
function wholeSecond(text: string): string {
  const stamp = parseTimestamp(text);
  return stamp ? new Date(Math.floor(stamp.ms / 1000) * 1000).toISOString().replace('.000Z', 'Z') : text;
}
