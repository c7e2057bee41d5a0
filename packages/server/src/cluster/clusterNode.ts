import type { FastifyBaseLogger } from 'fastify';
import type { AdvanceRequests } from './advanceRequests.js';
import type { ScheduledWork } from './scheduledWork.js';
import type { NodeIdentity, ServerNodes } from './serverNodes.js';
import type { TaskLeases } from './taskLeases.js';

/** The task runner's side that the node drives: what it resumes when it takes tasks over. */
export interface ResumableTasks {
  /** The task kinds it advances; the node takes over only those. */
  readonly kinds: readonly string[];
  resume(taskIds: readonly string[]): Promise<void>;
  advance(taskId: string): Promise<void>;
}

export interface ClusterNodeParts {
  nodeId: string;
  log: Pick<FastifyBaseLogger, 'error' | 'info'>;
  heartbeatMs: number;
  /** The one node an SQLite store has: it takes every task and every lease at start. */
  alone: boolean;
  nodes: ServerNodes;
  leases: TaskLeases;
  requests: AdvanceRequests;
  work: ScheduledWork;
  tasks: ResumableTasks;
  /** Ends what a previous run left under way that only memory tracked; when no other node is alive. */
  endLeftOvers: () => Promise<void>;
}

/**
 * This server process as a node of the cluster: it registers, then at every heartbeat marks
 * itself alive, renews the leases of its tasks and scheduled work, and takes over the tasks of
 * nodes that stopped renewing theirs. Between heartbeats it picks up the advances other nodes
 * asked of it. Stopping hands everything back at once.
 */
export class ClusterNode {
  readonly #parts: ClusterNodeParts;
  #identity: NodeIdentity | undefined;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(parts: ClusterNodeParts) {
    this.#parts = parts;
  }

  get id(): string {
    return this.#parts.nodeId;
  }

  /** Registers and resumes what this node takes; called once the server listens, so its URL is known. */
  async start(where: Omit<NodeIdentity, 'id'>): Promise<void> {
    const { nodeId, nodes, leases, requests, work, tasks, alone } = this.#parts;
    this.#identity = { id: nodeId, ...where };
    await nodes.register(this.#identity, { alone });
    if (alone || (await nodes.othersAlive(nodeId)) === 0) await this.#parts.endLeftOvers();
    await tasks.resume(await leases.takeOver(tasks.kinds, { all: alone }));
    // Alone, no other node ever asks this one for anything: no looking for requests twice a second.
    if (!alone) requests.start((taskId) => void tasks.advance(taskId));
    await work.tick();
    this.#timer = setInterval(() => {
      this.#beating ??= this.beat().finally(() => (this.#beating = undefined));
    }, this.#parts.heartbeatMs);
    this.#timer.unref();
  }

  /** One heartbeat; each part on its own, so that one failing does not keep the others from running. */
  async beat(): Promise<void> {
    const { nodeId, nodes, leases, work, tasks, log } = this.#parts;
    const identity = this.#identity;
    if (!identity) return;
    const attempt = async (what: string, part: () => Promise<void>) => {
      try {
        await part();
      } catch (err) {
        log.error({ err, nodeId }, `server node heartbeat: ${what} failed; the next heartbeat tries again`);
      }
    };
    await attempt('marking the node alive', async () => {
      // Its row went (another node tidied it away while this one could not reach the store): write it again.
      if (!(await nodes.heartbeat(nodeId))) await nodes.register(identity, { alone: false });
    });
    await attempt("renewing its tasks' leases", async () => {
      await leases.renew();
    });
    await attempt('scheduled work', () => work.tick());
    await attempt('taking over tasks', async () => {
      const taken = await leases.takeOver(tasks.kinds);
      if (taken.length === 0) return;
      log.info({ tasks: taken }, 'took over tasks whose node stopped renewing their leases');
      void tasks.resume(taken);
    });
  }

  /** Stops the heartbeat, the scheduled work it runs, and hands its tasks and leases to the other nodes. */
  async stop(): Promise<void> {
    const { nodeId, nodes, leases, requests, work, log } = this.#parts;
    clearInterval(this.#timer);
    requests.stop();
    if (!this.#identity) return;
    await this.#beating;
    const attempt = (what: string, part: () => Promise<void>) =>
      part().catch((err: unknown) => log.error({ err, nodeId }, `stopping the server node: ${what} failed`));
    await attempt('stopping scheduled work', () => work.stop());
    await attempt('releasing its tasks', () => leases.release());
    await attempt('marking it stopped', () => nodes.markStopped(nodeId));
    this.#identity = undefined;
  }
}
