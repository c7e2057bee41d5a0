import { LongshoreError, makeMasker, type LogLine } from '@longshore/protocol';
import type { Store } from '../store/database.js';
import { lockTask } from '../store/lockOrder.js';
import { lockedForUpdate } from '../store/sqlDialect.js';
import type { SecretBox } from '../crypto/secretBox.js';
import { encodeChunks, type EncodedChunk } from './chunkFormat.js';
import { readPage, type PageEnd, type PageLimits } from './logPage.js';
import { TaskLogChanges } from './taskLogChanges.js';

const MASKER_CACHE = 256;

/**
 * The task log, stored as chunks: rows of lines, a few per accepted batch. A batch is accepted
 * only when it continues the operation's acknowledged sequence, which makes storage idempotent
 * by (operationId, seq) at a few inserts per batch instead of one per line.
 */
export class TaskLog {
  readonly #db: Store;
  readonly #box: SecretBox;
  readonly #changes: TaskLogChanges;
  readonly #maskers = new Map<string, (text: string) => string>();

  /** `changes`: who hears of new lines; by default followers on this node only. */
  constructor(db: Store, box: SecretBox, changes: TaskLogChanges = new TaskLogChanges()) {
    this.#db = db;
    this.#box = box;
    this.#changes = changes;
  }

  /** Stores the new lines of a batch; answers the acknowledged sequence. */
  async appendOperationLines(
    operationId: string,
    lines: readonly LogLine[],
  ): Promise<{ ackedSeq: number; lastSource: number; cancelRequested: boolean; taskId: string }> {
    for (let i = 1; i < lines.length; i++) {
      if (lines[i]!.seq !== lines[0]!.seq + i) {
        throw new LongshoreError(
          'VALIDATION_FAILED',
          `lines[${i}].seq is ${lines[i]!.seq}; a batch must be contiguous (expected ${lines[0]!.seq + i})`,
        );
      }
    }
    const result = await this.#db.transaction().execute(async (trx) => {
      // Locks held until commit, the task's first (store/lockOrder.ts): two batches of
      // one operation (a retry racing its original, on any node) take turns, and the log rows of one
      // task get their ids in the order they commit, so a follower reading on by id never passes one
      // still to come. (SQLite runs one write transaction at a time; there this locks nothing.)
      const { task_id } = await trx
        .selectFrom('operations')
        .select('task_id')
        .where('id', '=', operationId)
        .executeTakeFirstOrThrow();
      await lockTask(trx, task_id);
      const op = await lockedForUpdate(
        trx,
        trx
          .selectFrom('operations')
          .select(['task_id', 'acked_seq', 'last_source', 'state', 'cancel_requested', 'payload'])
          .where('id', '=', operationId),
      ).executeTakeFirstOrThrow();
      const first = lines[0]?.seq ?? op.acked_seq + 1;
      if (first > op.acked_seq + 1) {
        throw new LongshoreError(
          'LOG_GAP',
          `Log lines ${op.acked_seq + 1}..${first - 1} of operation ${operationId} were never received; resend from ${op.acked_seq + 1}`,
          {
            expectedSeq: op.acked_seq + 1,
          },
        );
      }
      const fresh = lines.filter((l) => l.seq > op.acked_seq);
      if (fresh.length === 0 && op.state === 'leased') {
        // Any batch, even without lines, says the worker has the operation and works on it: it must
        // not be handed out again should the worker restart (its script may already run).
        await trx
          .updateTable('operations')
          .set((eb) => ({ state: 'running', started_at: eb.fn.coalesce('started_at', eb.val(Date.now())) }))
          .where('id', '=', operationId)
          .execute();
      }
      if (fresh.length === 0 || op.state === 'finished') {
        return {
          ackedSeq: op.acked_seq,
          lastSource: op.last_source,
          cancelRequested: op.cancel_requested === 1,
          taskId: op.task_id,
        };
      }
      const mask = this.#masker(operationId, op.payload);
      const last = fresh[fresh.length - 1]!;
      const lastSource = fresh.reduce(
        (m, l) => (l.source !== undefined && l.source > m ? l.source : m),
        op.last_source,
      );
      await insertChunks(trx, op.task_id, operationId, encodeChunks(fresh, mask));
      const t = Date.now();
      await trx
        .updateTable('operations')
        .set((eb) => ({
          acked_seq: last.seq,
          last_source: lastSource,
          state: op.state === 'leased' ? 'running' : op.state,
          started_at: eb.fn.coalesce('started_at', eb.val(t)),
        }))
        .where('id', '=', operationId)
        .execute();
      return { ackedSeq: last.seq, lastSource, cancelRequested: op.cancel_requested === 1, taskId: op.task_id };
    });
    this.#changes.changed(result.taskId);
    return result;
  }

  /** A line the server writes into the task's own log. */
  async system(taskId: string, text: string, level: LogLine['level'] = 'info'): Promise<void> {
    await this.#db.transaction().execute((trx) => this.systemWithin(trx, taskId, text, level));
    this.#changes.changed(taskId);
  }

  /**
   * The same line, written in the caller's transaction with the change it tells of: both or
   * neither. The caller calls notify() once it has committed.
   */
  async systemWithin(trx: Store, taskId: string, text: string, level: LogLine['level'] = 'info'): Promise<void> {
    // The update locks the task's row until commit: its log rows get their ids in commit order.
    const task = await trx
      .updateTable('tasks')
      .set((eb) => ({ log_seq: eb('log_seq', '+', 1) }))
      .where('id', '=', taskId)
      .returning('log_seq')
      .executeTakeFirstOrThrow();
    const line: LogLine = { seq: task.log_seq, stream: 'system', ts: Date.now(), text, level };
    await insertChunks(
      trx,
      taskId,
      null,
      encodeChunks([line], (t) => t),
    );
  }

  /** One page of the log after `after`: each line's JSON as it is read, then where the page ended. */
  page(taskId: string, after: number, limits: PageLimits): AsyncGenerator<string, PageEnd> {
    return readPage(this.#db, taskId, after, limits);
  }

  /** Calls back whenever the task's log or state changes; returns the unsubscribe. */
  onChange(taskId: string, listener: () => void): () => void {
    return this.#changes.onChange(taskId, listener);
  }

  /** The task changed (its state): its followers, on any node, read it again. */
  notify(taskId: string): void {
    this.#changes.changed(taskId);
  }

  forgetOperation(operationId: string): void {
    this.#maskers.delete(operationId);
  }

  /** Defence in depth: the worker masks too, but the server knows every secret of the operation. */
  #masker(operationId: string, payload: string): (text: string) => string {
    let m = this.#maskers.get(operationId);
    if (!m) {
      const op = this.#box.openJson<{ variables: { value: string; sensitive: boolean }[] }>(payload);
      m = makeMasker(op.variables.filter((v) => v.sensitive).map((v) => v.value));
      if (this.#maskers.size >= MASKER_CACHE) this.#maskers.delete(this.#maskers.keys().next().value!);
      this.#maskers.set(operationId, m);
    }
    return m;
  }
}

/** One statement a row: a batch of lines wider than the rows splits into several (see CHUNK_ROW_BYTES). */
async function insertChunks(
  trx: Store,
  taskId: string,
  operationId: string | null,
  chunks: EncodedChunk[],
): Promise<void> {
  for (const c of chunks) {
    await trx
      .insertInto('log_chunks')
      .values({
        task_id: taskId,
        operation_id: operationId,
        first_seq: c.firstSeq,
        last_seq: c.lastSeq,
        lines: c.lines,
      })
      .execute();
  }
}
