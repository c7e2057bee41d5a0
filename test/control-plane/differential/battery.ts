// The differential battery's machinery: a step runs scripted requests against one endpoint in
// its own namespace and records one normalized record per request, together with the values
// the step EXPECTS (proven against the reference). The steps themselves are in steps*.ts.
import { isDeepStrictEqual } from 'node:util';
import {
  apiRequest,
  openWatch,
  type ApiResponse,
  type ClusterEndpoint,
  type RequestOptions,
  type WatchEvent,
} from './cluster.js';
import {
  CONTROLLER_MADE_NAMES,
  RvTracker,
  getPath,
  substituteNames,
  watchFields,
  type Fields,
  type Normalizer,
} from './normalize.js';

export interface RequestRecord {
  step: string;
  /** Unique within the step; the key records are matched by across runs. */
  request: string;
  method: string;
  /** Path with namespace names replaced by placeholders. */
  path: string;
  fields: Fields;
  /** A subset of `fields` with the values a conforming server must produce. */
  expect: Fields;
}

export interface BatteryRun {
  label: string;
  records: RequestRecord[];
  stepErrors: { step: string; error: string }[];
  durationMs: number;
}

export interface Step {
  /** Short kebab-case; part of namespace names, so both runs use the same names. */
  name: string;
  run(ctx: StepContext): Promise<void>;
}

export type BatteryErrorCode = 'SETUP_FAILED' | 'SETTLE_TIMEOUT' | 'DUPLICATE_REQUEST';

export class BatteryError extends Error {
  override readonly name = 'BatteryError';
  constructor(
    readonly code: BatteryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface WatchCall {
  path: string;
  /** Stop once this many events (ignoring CONTROLLER_MADE_NAMES) arrived. */
  count: number;
  /** Default 5 000 ms; a step that expects no more events sets it short. */
  timeLimitMs?: number;
  token?: string | null;
}

export class StepContext {
  readonly ns: string;
  private readonly names = new Map<string, string>();
  private readonly rv = new RvTracker();
  private readonly seenRequests = new Set<string>();

  constructor(
    readonly endpoint: ClusterEndpoint,
    readonly step: string,
    private readonly prefix: string,
    private readonly out: RequestRecord[],
  ) {
    this.ns = this.nsName();
  }

  /** The step's namespace name (or a sibling's, e.g. 'b'), registered for placeholder substitution. */
  nsName(suffix?: string): string {
    const name = `${this.prefix}-${this.step}${suffix ? `-${suffix}` : ''}`;
    this.names.set(name, suffix ? `{ns-${suffix}}` : '{ns}');
    return name;
  }

  /** A request that prepares state and is not compared; anything but `ok` fails the step. */
  async setup(what: string, opts: RequestOptions, ok: readonly number[] = [200, 201]): Promise<ApiResponse> {
    const res = await apiRequest(this.endpoint, opts);
    if (!ok.includes(res.status)) {
      throw new BatteryError(
        'SETUP_FAILED',
        `${this.step}: setup "${what}" answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`,
      );
    }
    return res;
  }

  /** Creates the namespace and its ServiceAccount `default`: the reference runs no ServiceAccount
   *  controller and admission refuses Pods without it; a server that has one answers 409, fine. */
  async namespace(suffix?: string): Promise<string> {
    const ns = this.nsName(suffix);
    await this.setup(`namespace ${ns}`, {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    await this.setup(
      `serviceaccount ${ns}/default`,
      {
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/serviceaccounts`,
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
      },
      [201, 409],
    );
    return ns;
  }

  /** Polls until `check` holds (e.g. RBAC caches caught up with a new binding); not compared. */
  async settle(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline)
        throw new BatteryError('SETTLE_TIMEOUT', `${this.step}: "${what}" did not hold within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One compared request. */
  async call(request: string, opts: RequestOptions, normalize: Normalizer, expect: Fields): Promise<ApiResponse> {
    const res = await apiRequest(this.endpoint, opts);
    this.record(request, opts.method ?? 'GET', opts.path, normalize(res, { rv: this.rv }), expect);
    return res;
  }

  /** A compared watch. `started` resolves once the server answered the request head, so writes
   *  made after it are seen live; `done` records the events and returns them. */
  watch(request: string, w: WatchCall, expect: Fields): { started: Promise<number>; done: Promise<WatchEvent[]> } {
    const relevant = (evs: WatchEvent[]): number =>
      evs.filter((e) => !CONTROLLER_MADE_NAMES.has(String(getPath(e.object, 'metadata.name')))).length;
    const h = openWatch(this.endpoint, {
      path: w.path,
      token: w.token,
      timeLimitMs: w.timeLimitMs,
      until: (evs) => relevant(evs) >= w.count,
    });
    const done = h.done.then((res) => {
      this.record(request, 'WATCH', w.path, watchFields(res, { rv: this.rv }), expect);
      return res.events;
    });
    return { started: h.started, done };
  }

  /** A compared run of a real client (kubectl): `run` returns what is compared of its outcome. */
  async client(request: string, what: string, run: () => Promise<Fields>, expect: Fields): Promise<Fields> {
    const fields = await run();
    this.record(request, 'CLIENT', what, fields, expect);
    return fields;
  }

  private record(request: string, method: string, path: string, fields: Fields, expect: Fields): void {
    if (this.seenRequests.has(request))
      throw new BatteryError('DUPLICATE_REQUEST', `${this.step}: request name "${request}" used twice`);
    this.seenRequests.add(request);
    this.out.push({
      step: this.step,
      request,
      method,
      path: substituteNames(path, this.names) as string,
      fields: substituteNames(fields, this.names) as Fields,
      expect: substituteNames(expect, this.names) as Fields,
    });
  }
}

/** Runs the steps one after another (the history-compaction step must not race the others). */
export async function runBattery(
  endpoint: ClusterEndpoint,
  steps: readonly Step[],
  opts: { prefix?: string; label?: string } = {},
): Promise<BatteryRun> {
  const t0 = Date.now();
  const records: RequestRecord[] = [];
  const stepErrors: BatteryRun['stepErrors'] = [];
  for (const step of steps) {
    try {
      await step.run(new StepContext(endpoint, step.name, opts.prefix ?? 'dt', records));
    } catch (err) {
      // Keep going: one broken step must not hide the answers of the others.
      stepErrors.push({ step: step.name, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  }
  return { label: opts.label ?? endpoint.server, records, stepErrors, durationMs: Date.now() - t0 };
}

export interface ExpectationMismatch {
  step: string;
  request: string;
  field: string;
  expected: unknown;
  actual: unknown;
}

/** Every declared expectation that the run's records do not meet. */
export function checkExpectations(run: BatteryRun): ExpectationMismatch[] {
  const out: ExpectationMismatch[] = [];
  for (const r of run.records) {
    for (const [field, expected] of Object.entries(r.expect)) {
      if (!isDeepStrictEqual(r.fields[field], expected))
        out.push({ step: r.step, request: r.request, field, expected, actual: r.fields[field] });
    }
  }
  return out;
}
