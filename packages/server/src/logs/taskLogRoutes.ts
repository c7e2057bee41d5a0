import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LogLine, LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { isTerminal, loadTask } from '../resources/tasks.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const PageQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000, default: 5_000 })),
});
const KEEPALIVE_MS = 15_000;
// Open objects: the serializer keeps fields added to a page later instead of dropping them silently.
const TaskLogPage = Type.Object(
  {
    lines: Type.Array(
      Type.Composite([LogLine, Type.Object({ operationId: Type.Union([Type.String(), Type.Null()]), step: Type.Optional(Type.String()), target: Type.Optional(Type.String()) })], { additionalProperties: true }),
    ),
    cursor: Type.Integer({ description: 'Pass back as `after` for the next page' }),
    taskState: Type.String(),
    complete: Type.Boolean({ description: 'The task has ended and this page holds its last line' }),
  },
  { additionalProperties: true },
);
const EventStream = { description: 'Server-sent events until the task has ended', content: { 'text/event-stream': { schema: Type.String({ description: '`lines`, `task` and `end` events; the id of a `lines` event is the cursor' }) } } };

export async function taskLogRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const tags = ['tasks'];
  app.get('/api/tasks/:id/log', { schema: { tags, params: Params, querystring: PageQuery, response: { 200: TaskLogPage } } }, async (req) => {
    const { id } = req.params as { id: string };
    const { after, limit } = req.query as { after: number; limit: number };
    const task = await loadTask(ctx, id);
    const page = await ctx.taskLog.page(id, after, limit);
    return { ...page, taskState: task.state, complete: isTerminal(task.state) && page.lines.length < limit };
  });

  /**
   * Server-sent events: `lines` events whose id is the cursor (a reconnecting EventSource resumes
   * from Last-Event-ID), `task` events when the task changes, and one `end` event after the last line.
   */
  app.get('/api/tasks/:id/log/stream', { schema: { tags, params: Params, querystring: PageQuery, response: { 200: EventStream } } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const lastEventId = Number(req.headers['last-event-id']);
    let cursor = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : (req.query as { after: number }).after;
    await loadTask(ctx, id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    let wake: (() => void) | undefined;
    let dirty = true;
    const unsubscribe = ctx.taskLog.onChange(id, () => {
      dirty = true;
      wake?.();
    });
    res.on('close', () => {
      closed = true;
      wake?.();
    });
    const write = (event: string, data: unknown, eventId?: number) =>
      res.write(`${eventId !== undefined ? `id: ${eventId}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let lastTask = '';
    try {
      while (!closed) {
        if (!dirty) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, KEEPALIVE_MS).unref();
          });
          wake = undefined;
          if (!dirty && !closed) res.write(': keepalive\n\n');
          continue;
        }
        dirty = false;
        const task = await loadTask(ctx, id);
        for (;;) {
          const page = await ctx.taskLog.page(id, cursor, 5_000);
          if (page.lines.length === 0) break;
          cursor = page.cursor;
          write('lines', page, cursor);
        }
        const summary = JSON.stringify(task);
        if (summary !== lastTask) write('task', task);
        lastTask = summary;
        if (isTerminal(task.state) && !dirty) {
          write('end', { state: task.state, cursor });
          break;
        }
      }
    } catch (err) {
      req.log.error({ err }, 'task log stream failed');
      if (!closed) write('error', new LongshoreError('INTERNAL', 'The log stream failed; reconnect to resume').toBody());
    } finally {
      unsubscribe();
      res.end();
    }
  });
}
