import { type HealthCheckRequest, type HealthCheckResult, type HealthReport } from '@longshore/protocol';
import { WORKER_VERSION } from '../workerVersion.js';
import type { Logger } from 'pino';
import type { Executor } from '../executors/executor.js';
import type { AgentChannel } from '../serverClient.js';
import { hostHealth, systemCgroup, type CgroupFiles } from './hostHealth.js';
import { timeLimit } from '@longshore/protocol';

export interface HealthCheckRunnerOptions {
  channel: Pick<AgentChannel, 'healthReport'>;
  /** The executor whose health() adds its own checks; undefined before it is made. */
  executor: () => Executor | undefined;
  /** Where operations' workspaces are: its free disk is reported. */
  workspaceDir: string;
  /** The last poll's round trip: the channel's latency as the worker sees it. */
  lastPollMs: () => number | undefined;
  /** Ends every check under way (the worker's shutdown). */
  signal: AbortSignal;
  log: Logger;
  cgroup?: CgroupFiles;
}

/** The share of a check's timeout spent looking; the rest is left for the report to reach the server. */
const LOOKING_SHARE = 0.8;
/** The contract's limits (HealthReport): a report past them would be refused whole. */
const LIMITS = { checks: 200, name: 200, detail: 4096, facts: 32, factKey: 64, factValue: 512 };

/**
 * Runs the health checks the server hands out in poll answers, beside the operations and not
 * counted against their capacity, at most one at a time per check id. Each looks at what every
 * worker has (channel, version, disk, memory) and then at what the executor adds; a part that
 * throws or overruns becomes a failed check with its message, never a failed worker. The report
 * is sent within the check's timeout, or not at all (the server then counts the worker unavailable).
 */
export class HealthCheckRunner {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: HealthCheckRunnerOptions) {}

  /** Starts each check not already running; returns at once. */
  run(requests: readonly HealthCheckRequest[]): void {
    for (const request of requests) {
      if (this.running.has(request.id) || this.options.signal.aborted) continue;
      const check = this.check(request)
        .catch((err: unknown) =>
          this.options.log.warn({ err, healthCheckId: request.id }, 'the health report did not reach the server'),
        )
        .finally(() => this.running.delete(request.id));
      this.running.set(request.id, check);
    }
  }

  /** Resolves once no check is under way. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async check(request: HealthCheckRequest): Promise<void> {
    const timeoutMs = request.timeoutSeconds * 1000;
    const whole = timeLimit(timeoutMs, 'The health check timed out');
    const looking = timeLimit(timeoutMs * LOOKING_SHARE, 'The health check timed out');
    try {
      const deadline = AbortSignal.any([this.options.signal, whole.signal]);
      const report = await this.gather(AbortSignal.any([deadline, looking.signal]));
      await this.options.channel.healthReport(request.id, fit(report), deadline);
    } finally {
      whole.clear();
      looking.clear();
    }
  }

  /** What this worker finds now; nothing here throws. */
  async gather(signal: AbortSignal): Promise<HealthReport> {
    const { executor: currentExecutor, lastPollMs, workspaceDir, cgroup = systemCgroup } = this.options;
    const facts: Record<string, string> = { version: WORKER_VERSION };
    const checks: HealthCheckResult[] = [];
    const pollMs = lastPollMs();
    checks.push(
      pollMs === undefined
        ? { name: 'server channel', ok: false, detail: 'no poll has been answered yet' }
        : { name: 'server channel', ok: true, detail: `the last poll was answered in ${pollMs} ms` },
    );
    if (pollMs !== undefined) facts.pollRoundTripMs = String(pollMs);
    const host = await bounded('host', signal, () => hostHealth(workspaceDir, cgroup));
    if ('failed' in host) checks.push(host.failed);
    else {
      checks.push(...host.value.checks);
      Object.assign(facts, host.value.facts);
    }
    const executor = currentExecutor();
    if (executor?.health) {
      const found = await bounded(`${executor.kind} executor`, signal, (s) => executor.health!(s));
      if ('failed' in found) checks.push(found.failed);
      else {
        checks.push(...found.value.checks);
        Object.assign(facts, found.value.facts);
      }
    }
    return { checks, facts };
  }
}

/**
 * The part's result, or a failed check when it throws or outlasts the signal: a part that
 * ignores its signal cannot hold the report back.
 */
async function bounded<T>(
  name: string,
  signal: AbortSignal,
  part: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T } | { failed: HealthCheckResult }> {
  let onAbort: (() => void) | undefined;
  const overrun = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('did not finish within the health check’s timeout'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return { value: await Promise.race([part(signal), overrun]) };
  } catch (error) {
    return { failed: { name, ok: false, detail: error instanceof Error ? error.message : String(error) } };
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    overrun.catch(() => {});
  }
}

/** The report cut to the contract's limits, so that an executor with much to say is still heard. */
function fit(report: HealthReport): HealthReport {
  const checks = report.checks.slice(0, LIMITS.checks).map((c) => ({
    name: c.name.slice(0, LIMITS.name),
    ok: c.ok,
    detail: c.detail.slice(0, LIMITS.detail),
  }));
  const facts = Object.fromEntries(
    Object.entries(report.facts)
      .slice(0, LIMITS.facts)
      .map(([key, value]) => [key.slice(0, LIMITS.factKey), value.slice(0, LIMITS.factValue)]),
  );
  return { checks, facts };
}
