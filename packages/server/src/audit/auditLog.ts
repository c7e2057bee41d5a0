import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import type { Change } from './auditChanges.js';

export type AuditOutcome = 'ok' | 'denied' | 'failed';

/** One thing done, or tried, through the API. */
export interface AuditEntry {
  at: number;
  /** The user (or, for a sign-in that failed, the name tried). */
  actor: string;
  actorUserId: string | null;
  /** How they came: `apiKey <id>`, `session`, `password`, `single sign-on`. */
  via: string;
  address: string;
  /** `POST /api/deployments`, `sign-in`. */
  action: string;
  objectKind: string | null;
  object: string | null;
  outcome: AuditOutcome;
  status: number;
  /** What changed, secrets out; or what was refused and why. */
  changes: Change[] | null;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  actor?: string;
  object?: string;
  objectKind?: string;
  since?: number;
  until?: number;
  /** Entries older than this id (paging back through the log). */
  before?: number;
  limit: number;
}

const TRIM_INTERVAL_MS = 3_600_000;

/** The audit log: appended to, read newest first, and trimmed by age only. */
export class AuditLog {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Store,
    private readonly retentionDays: number,
    private readonly log: Pick<FastifyBaseLogger, 'error'>,
  ) {}

  /** Trims now and then hourly: the log keeps auditRetentionDays. */
  start(): void {
    const trim = () =>
      void this.trim(this.retentionDays).catch((err: unknown) =>
        this.log.error({ err }, 'trimming the audit log failed'),
      );
    trim();
    this.#timer = setInterval(trim, TRIM_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        at: entry.at,
        actor: entry.actor,
        actor_user_id: entry.actorUserId,
        via: entry.via,
        address: entry.address,
        action: entry.action,
        object_kind: entry.objectKind,
        object: entry.object,
        outcome: entry.outcome,
        status: entry.status,
        changes: entry.changes && JSON.stringify(entry.changes),
        detail: entry.detail && JSON.stringify(entry.detail),
      })
      .execute();
  }

  async query(q: AuditQuery): Promise<(AuditEntry & { id: number })[]> {
    let select = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(q.limit);
    if (q.actor !== undefined) select = select.where('actor', '=', q.actor);
    if (q.object !== undefined) select = select.where('object', '=', q.object);
    if (q.objectKind !== undefined) select = select.where('object_kind', '=', q.objectKind);
    if (q.since !== undefined) select = select.where('at', '>=', q.since);
    if (q.until !== undefined) select = select.where('at', '<', q.until);
    if (q.before !== undefined) select = select.where('id', '<', q.before);
    const rows = await select.execute();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      actorUserId: r.actor_user_id,
      via: r.via,
      address: r.address,
      action: r.action,
      objectKind: r.object_kind,
      object: r.object,
      outcome: r.outcome as AuditOutcome,
      status: r.status,
      changes: r.changes === null ? null : (JSON.parse(r.changes) as Change[]),
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    }));
  }

  /** Removes entries older than the retention; the only way anything leaves the log. */
  async trim(retentionDays: number, now = Date.now()): Promise<number> {
    const gone = await this.db
      .deleteFrom('audit_events')
      .where('at', '<', now - retentionDays * 86_400_000)
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }
}
