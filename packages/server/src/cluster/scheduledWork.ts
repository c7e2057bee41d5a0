import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';

/** A sweeper or periodic job that must run on one node of the cluster at a time. */
export interface ScheduledJob {
  /** Its lease's name in cluster_leases; stable across versions, since nodes of two versions may share it. */
  name: string;
  start(): void;
  stop(): void | Promise<void>;
}

/**
 * Runs each job on the node that holds its named lease (cluster_leases): every heartbeat a node
 * takes or renews the leases of the jobs it may run, starts the jobs whose lease it got, and stops
 * those whose lease it lost. A lease is taken over once it expires (its node died) or at once when
 * its node released it (a clean stop). On SQLite the one node always holds them all.
 */
export class ScheduledWork {
  readonly #db: Store;
  readonly #nodeId: string;
  readonly #leaseMs: number;
  readonly #log: Pick<FastifyBaseLogger, 'error' | 'info'>;
  readonly #jobs: readonly ScheduledJob[];
  readonly #running = new Set<string>();
  /** By job name: when this node's lease of it runs out, as last renewed. */
  readonly #leaseEnds = new Map<string, number>();

  constructor(parts: {
    db: Store;
    nodeId: string;
    leaseMs: number;
    log: Pick<FastifyBaseLogger, 'error' | 'info'>;
    jobs: readonly ScheduledJob[];
  }) {
    this.#db = parts.db;
    this.#nodeId = parts.nodeId;
    this.#leaseMs = parts.leaseMs;
    this.#log = parts.log;
    this.#jobs = parts.jobs;
  }

  /** The jobs this node runs now, by name. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  /** One round: take or renew each lease, start and stop jobs to match. */
  async tick(): Promise<void> {
    for (const job of this.#jobs) {
      const now = Date.now();
      let held: boolean;
      try {
        held = await this.#acquire(job.name, now);
        if (held) this.#leaseEnds.set(job.name, now + this.#leaseMs);
      } catch (err) {
        // Unsure whether it renewed: a job keeps running only while its last known lease lasts.
        this.#log.error({ err, job: job.name }, 'renewing the lease of scheduled work failed');
        held = (this.#leaseEnds.get(job.name) ?? 0) > Date.now();
      }
      if (held && !this.#running.has(job.name)) {
        this.#running.add(job.name);
        job.start();
        this.#log.info({ job: job.name }, 'this node runs the scheduled work now');
      }
      if (!held && this.#running.has(job.name)) await this.#stopJob(job);
    }
  }

  /** Stops every job and hands their leases back, for another node to take at its next heartbeat. */
  async stop(): Promise<void> {
    for (const job of this.#jobs) if (this.#running.has(job.name)) await this.#stopJob(job);
    await this.#db.deleteFrom('cluster_leases').where('node_id', '=', this.#nodeId).execute();
  }

  /** Takes the lease if it is free, expired or already this node's; true when this node holds it now. */
  async #acquire(name: string, now: number): Promise<boolean> {
    const row = await this.#db
      .insertInto('cluster_leases')
      .values({ name, node_id: this.#nodeId, expires_at: now + this.#leaseMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ node_id: this.#nodeId, expires_at: now + this.#leaseMs })
          .where((eb) =>
            eb.or([eb('cluster_leases.node_id', '=', this.#nodeId), eb('cluster_leases.expires_at', '<', now)]),
          ),
      )
      .returning('node_id')
      .executeTakeFirst();
    return row?.node_id === this.#nodeId;
  }

  async #stopJob(job: ScheduledJob): Promise<void> {
    this.#running.delete(job.name);
    this.#leaseEnds.delete(job.name);
    try {
      await job.stop();
    } catch (err) {
      this.#log.error({ err, job: job.name }, 'stopping scheduled work failed');
    }
    this.#log.info({ job: job.name }, 'this node no longer runs the scheduled work');
  }
}
