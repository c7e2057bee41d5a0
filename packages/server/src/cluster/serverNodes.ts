import type { Store } from '../store/database.js';
import { ACTIVE_TASK_STATES } from '../orchestration/taskState.js';

/** This process as a node of the cluster: a new id each start, the name the operator knows it by. */
export interface NodeIdentity {
  id: string;
  name: string;
  url: string;
  version: string;
}

export interface ServerNodeView {
  id: string;
  name: string;
  url: string;
  version: string;
  startedAt: string;
  lastHeartbeatAt: string;
  stoppedAt: string | null;
  /** Heartbeating within the node lease and not stopped. */
  alive: boolean;
  /** The running tasks whose lease it holds, oldest first. */
  tasks: { id: string; kind: string; state: string }[];
}

/** A node stopped or gone for this long, holding no task, is dropped from the list. */
const FORGET_AFTER_MS = 24 * 3_600_000;

/**
 * The server_nodes table: each process registers when it starts listening, heartbeats while it
 * runs and marks itself stopped when it stops cleanly. A node that died keeps its row, shown as
 * not alive, until its tasks have been taken over and it is a day old, or a node of the same name
 * starts.
 */
export class ServerNodes {
  readonly #db: Store;
  readonly #leaseMs: number;

  constructor(db: Store, leaseMs: number) {
    this.#db = db;
    this.#leaseMs = leaseMs;
  }

  /**
   * Writes this node's row and tidies the list: rows of earlier runs under the same name (and
   * any row a day past its end) go once no running task names them. With `alone` (SQLite, which
   * one process serves) every other row goes: their tasks are this node's now.
   */
  async register(node: NodeIdentity, options: { alone: boolean }): Promise<void> {
    const now = Date.now();
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('server_nodes')
        .values({ ...node, started_at: now, heartbeat_at: now, stopped_at: null })
        .execute();
      let others = trx.deleteFrom('server_nodes').where('id', '!=', node.id);
      if (!options.alone)
        others = others
          .where((eb) =>
            eb.and([
              eb.or([eb('stopped_at', 'is not', null), eb('heartbeat_at', '<', now - this.#leaseMs)]),
              eb.or([eb('name', '=', node.name), eb('heartbeat_at', '<', now - FORGET_AFTER_MS)]),
            ]),
          )
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('tasks')
                  .select('tasks.id')
                  .whereRef('tasks.owner_node_id', '=', 'server_nodes.id')
                  .where('tasks.state', 'in', [...ACTIVE_TASK_STATES]),
              ),
            ),
          );
      await others.execute();
    });
  }

  /** Marks the node alive now; false when its row is gone (then it registers again). */
  async heartbeat(nodeId: string): Promise<boolean> {
    const done = await this.#db
      .updateTable('server_nodes')
      .set({ heartbeat_at: Date.now(), stopped_at: null })
      .where('id', '=', nodeId)
      .executeTakeFirst();
    return Number(done.numUpdatedRows) === 1;
  }

  async markStopped(nodeId: string): Promise<void> {
    await this.#db.updateTable('server_nodes').set({ stopped_at: Date.now() }).where('id', '=', nodeId).execute();
  }

  /** Other nodes alive now. */
  async othersAlive(nodeId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('server_nodes')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('id', '!=', nodeId)
      .where('stopped_at', 'is', null)
      .where('heartbeat_at', '>=', Date.now() - this.#leaseMs)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Every node, alive ones first, with the tasks each holds. */
  async list(): Promise<ServerNodeView[]> {
    const now = Date.now();
    const nodes = await this.#db.selectFrom('server_nodes').selectAll().orderBy('started_at').execute();
    const tasks = await this.#db
      .selectFrom('tasks')
      .select(['id', 'kind', 'state', 'owner_node_id'])
      .where('state', 'in', [...ACTIVE_TASK_STATES])
      .where('owner_node_id', 'is not', null)
      .orderBy('created_at')
      .execute();
    const iso = (ms: number) => new Date(ms).toISOString();
    const views = nodes.map((n) => ({
      id: n.id,
      name: n.name,
      url: n.url,
      version: n.version,
      startedAt: iso(n.started_at),
      lastHeartbeatAt: iso(n.heartbeat_at),
      stoppedAt: n.stopped_at === null ? null : iso(n.stopped_at),
      alive: n.stopped_at === null && n.heartbeat_at >= now - this.#leaseMs,
      tasks: tasks.filter((t) => t.owner_node_id === n.id).map((t) => ({ id: t.id, kind: t.kind, state: t.state })),
    }));
    return [...views.filter((v) => v.alive), ...views.filter((v) => !v.alive)];
  }
}
