// Container logs as the kubelet keeps them: one log per container run, the current and the
// previous (for `previous=true`), each line stamped when read from the process (RFC 3339 with
// nanoseconds, as the CRI log format has it). Followers get new lines until the run ends.
// Memory is bounded: the oldest lines go first once a run passes its byte cap.
export interface LogLine {
  ts: string;
  ms: number;
  text: string;
}

export interface LogReadOptions {
  follow?: boolean;
  timestamps?: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
  previous?: boolean;
}

export interface LogSink {
  write(chunk: string): boolean;
  end(): void;
  onClose(fn: () => void): void;
}

class Run {
  /** Lines from `head` on are kept; dropping from the front moves `head` (an array shift per line would copy the whole log). */
  private kept: LogLine[] = [];
  private head = 0;
  bytes = 0;
  closed = false;
  /** Each gets the lines of one chunk of output at once, and undefined when the run ends. */
  readonly followers = new Set<(batch: LogLine[] | undefined) => void>();
  /** Each gets every chunk as the process wrote it (a prompt has no newline), and undefined at the end. */
  readonly taps = new Set<(stream: string, chunk: string | undefined) => void>();
  private partial = new Map<string, string>();
  private lastNanos = 0n;

  constructor(private readonly capBytes: number) {}

  get lines(): LogLine[] {
    return this.kept.slice(this.head);
  }

  append(stream: string, chunk: string): void {
    for (const t of this.taps) t(stream, chunk);
    const text = (this.partial.get(stream) ?? '') + chunk;
    const parts = text.split('\n');
    this.partial.set(stream, parts.pop() ?? '');
    if (parts.length) this.publish(parts.map((p) => this.push(p)));
  }

  private publish(batch: LogLine[]): void {
    for (const f of this.followers) f(batch);
  }

  private push(text: string): LogLine {
    // Nanoseconds that only go forward, as a kubelet's log file has them: readers resume by
    // timestamp, and the sub-millisecond part from hrtime alone would wrap within a millisecond.
    const candidate = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    this.lastNanos = candidate > this.lastNanos ? candidate : this.lastNanos + 1n;
    const ms = Number(this.lastNanos / 1_000_000n);
    const iso = new Date(ms).toISOString();
    const line = { ms, ts: `${iso.slice(0, 23)}${(this.lastNanos % 1_000_000n).toString().padStart(6, '0')}Z`, text };
    this.kept.push(line);
    this.bytes += text.length + 1;
    while (this.bytes > this.capBytes && this.kept.length - this.head > 1)
      this.bytes -= this.kept[this.head++]!.text.length + 1;
    if (this.head > 4096 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
    return line;
  }

  /** The last lines, at most `maxBytes` of them (the kubelet's FallbackToLogsOnError message). */
  tail(maxLines: number, maxBytes: number): string {
    const text = this.kept
      .slice(Math.max(this.head, this.kept.length - maxLines))
      .map((l) => `${l.text}\n`)
      .join('');
    return text.length > maxBytes ? text.slice(-maxBytes) : text;
  }

  close(): void {
    if (this.closed) return;
    const rests = [...this.partial.values()].filter((rest) => rest);
    if (rests.length) this.publish(rests.map((rest) => this.push(rest)));
    this.partial.clear();
    this.closed = true;
    for (const f of this.followers) f(undefined);
    this.followers.clear();
    for (const t of this.taps) t('', undefined);
    this.taps.clear();
  }
}

export class LogStore {
  private readonly runs = new Map<string, { current: Run; previous?: Run }>();

  constructor(private readonly capBytes = 4 * 1024 * 1024) {}

  private key = (ns: string, pod: string, container: string): string => `${ns}/${pod}/${container}`;

  /** A new run of a container; the last one becomes `previous`. */
  start(
    ns: string,
    pod: string,
    container: string,
  ): { append(stream: string, chunk: string): void; close(): void; tail(maxLines: number, maxBytes: number): string } {
    const k = this.key(ns, pod, container);
    const old = this.runs.get(k);
    old?.current.close();
    const run = new Run(this.capBytes);
    this.runs.set(k, { current: run, ...(old ? { previous: old.current } : {}) });
    return {
      append: (s, c) => run.append(s, c),
      close: () => run.close(),
      tail: (lines, bytes) => run.tail(lines, bytes),
    };
  }

  has(ns: string, pod: string, container: string, previous = false): boolean {
    const e = this.runs.get(this.key(ns, pod, container));
    return previous ? e?.previous !== undefined : e !== undefined;
  }

  /** Forget a pod's logs (after the pod is deleted). */
  forget(ns: string, pod: string): void {
    for (const [k, e] of this.runs)
      if (k.startsWith(`${ns}/${pod}/`)) {
        e.current.close();
        this.runs.delete(k);
      }
  }

  /** The current run's output from now on, chunk by chunk as the container writes it (attach);
   *  `chunk` undefined once the run has ended. Returns how to stop, or undefined without a run. */
  tap(
    ns: string,
    pod: string,
    container: string,
    fn: (stream: string, chunk: string | undefined) => void,
  ): (() => void) | undefined {
    const run = this.runs.get(this.key(ns, pod, container))?.current;
    if (!run || run.closed) return undefined;
    run.taps.add(fn);
    return () => run.taps.delete(fn);
  }

  /** Writes the selected lines to `sink`; with follow, keeps writing until the run ends or the sink closes. */
  read(ns: string, pod: string, container: string, o: LogReadOptions, sink: LogSink): boolean {
    const e = this.runs.get(this.key(ns, pod, container));
    const run = o.previous ? e?.previous : e?.current;
    if (!run) return false;
    const since = o.sinceTime
      ? Date.parse(o.sinceTime)
      : o.sinceSeconds !== undefined
        ? Date.now() - o.sinceSeconds * 1000
        : undefined;
    let lines = since !== undefined && Number.isFinite(since) ? run.lines.filter((l) => l.ms >= since) : run.lines;
    if (o.tailLines !== undefined && o.tailLines >= 0) lines = o.tailLines === 0 ? [] : lines.slice(-o.tailLines);
    let budget = o.limitBytes ?? Infinity;
    let done = false;
    const format = (l: LogLine): string => (o.timestamps ? `${l.ts} ${l.text}\n` : `${l.text}\n`);
    // One write per batch: a chunk per line would cost a syscall and an HTTP chunk each.
    const emit = (batch: readonly LogLine[]): void => {
      if (done || batch.length === 0) return;
      let s = batch.map(format).join('');
      if (s.length >= budget) {
        s = s.slice(0, budget);
        done = true;
      }
      budget -= s.length;
      sink.write(s);
    };
    emit(lines);
    if (!o.follow || run.closed || done) {
      sink.end();
      return true;
    }
    const follower = (batch: LogLine[] | undefined): void => {
      if (!batch) {
        sink.end();
        return;
      }
      emit(batch);
      if (done) {
        run.followers.delete(follower);
        sink.end();
      }
    };
    run.followers.add(follower);
    sink.onClose(() => run.followers.delete(follower));
    return true;
  }
}
