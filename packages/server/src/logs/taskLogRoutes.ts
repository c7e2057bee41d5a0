import { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LogLine, LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { WithDefaults } from '../http/validation.js';
import { isTerminal, loadTask } from '../resources/tasks.js';
import { MAX_CURSOR } from './logCursor.js';
import type { PageEnd } from './logPage.js';
import { pageText } from './pageText.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
/*
 * A page is bounded in bytes as well as lines: 5,000 lines of 64 KiB would be 320 MiB to build,
 * send and parse. 1 MiB is thousands of ordinary lines, and at least fifteen of the longest.
 */
const PageQuery = WithDefaults(
  Type.Object({
    after: Type.Integer({
      minimum: 0,
      maximum: MAX_CURSOR,
      default: 0,
      description: "The previous page's cursor; 0 for the first page",
    }),
    limit: Type.Integer({ minimum: 1, maximum: 50_000, default: 5_000, description: 'The most lines in a page' }),
    maxBytes: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: 1024 * 1024,
      description: "The most bytes of the lines' JSON in a page; a first line larger than this comes alone",
    }),
  }),
);
const KEEPALIVE_MS = 15_000;
// Open objects: the serializer keeps fields added to a page later instead of dropping them silently.
const TaskLogPage = Type.Object(
  {
    lines: Type.Array(
      Type.Composite(
        [
          LogLine,
          Type.Object({
            operationId: Type.Union([Type.String(), Type.Null()]),
            step: Type.Optional(Type.String()),
            target: Type.Optional(Type.String()),
          }),
        ],
        { additionalProperties: true },
      ),
    ),
    cursor: Type.Integer({ description: 'Pass back as `after` for the next page' }),
    taskState: Type.String(),
    complete: Type.Boolean({ description: 'The task has ended and this page holds its last line' }),
  },
  { additionalProperties: true },
);
/** The page as the route sends it: a stream of the page's JSON, written as the lines are read. */
const StreamedPage = Type.Unsafe<Readable>(TaskLogPage);
const EventStream = {
  description: 'Server-sent events until the task has ended',
  content: {
    'text/event-stream': {
      schema: Type.String({ description: '`lines`, `task` and `end` events; the id of a `lines` event is the cursor' }),
    },
  },
};

export async function taskLogRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tasks'];
  /** Streamed as it is read: the server holds a few rows of the log per reader, not the page (the schema documents it). */
  app.get(
    '/api/tasks/:id/log',
    { schema: { tags, params: Params, querystring: PageQuery, response: { 200: StreamedPage } } },
    async (req, reply) => {
      const { id } = req.params;
      const { after, limit, maxBytes } = req.query;
      // Read before the lines: a task that had ended by then has all its lines in this page or before it.
      const task = await loadTask(ctx, id);
      const head = `{"taskState":${JSON.stringify(task.state)},"lines":[`;
      const tail = (end: PageEnd) => `],"cursor":${end.cursor},"complete":${isTerminal(task.state) && end.atEnd}}`;
      async function* body() {
        const end = yield* pageText(ctx.taskLog.page(id, after, { maxLines: limit, maxBytes }), head, tail);
        if (end.lines === 0) yield head + tail(end);
      }
      const pieces = body();
      // Read the first piece before the status goes out, so that a failing store answers an error, not a cut page.
      const first = await pieces.next();
      async function* all() {
        if (!first.done) yield first.value;
        yield* pieces;
      }
      return reply.type('application/json; charset=utf-8').send(Readable.from(all(), { objectMode: false }));
    },
  );

  /**
   * Server-sent events: `lines` events whose id is the cursor (a reconnecting EventSource resumes
   * from Last-Event-ID), `task` events when the task changes, and one `end` event after the last line.
   * Events are written only as fast as the follower reads them.
   */
  app.get(
    '/api/tasks/:id/log/stream',
    { schema: { tags, params: Params, querystring: PageQuery, response: { 200: EventStream } } },
    async (req, reply) => {
      const { id } = req.params;
      const { after, limit, maxBytes } = req.query;
      const lastEventId = Number(req.headers['last-event-id']);
      let cursor = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : after;
      await loadTask(ctx, id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
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
      const event = (name: string, data: unknown) => send(res, `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      // Set while a `lines` event is half written: an error event then would be read as part of it.
      let midEvent = false;
      let lastTask = '';
      try {
        while (!closed) {
          if (!dirty) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, KEEPALIVE_MS).unref();
            });
            wake = undefined;
            if (!dirty && !closed) await send(res, ': keepalive\n\n');
            continue;
          }
          dirty = false;
          const task = await loadTask(ctx, id);
          for (let pageLines = 1; pageLines > 0 && !closed;) {
            const text = pageText(
              ctx.taskLog.page(id, cursor, { maxLines: limit, maxBytes }),
              'event: lines\ndata: {"lines":[',
              (end) => `],"cursor":${end.cursor}}\nid: ${end.cursor}\n\n`,
            );
            for (;;) {
              const piece = await text.next();
              if (piece.done) {
                cursor = piece.value.cursor;
                pageLines = piece.value.lines;
                break;
              }
              midEvent = true;
              await send(res, piece.value);
              if (closed) break;
            }
            midEvent = false;
          }
          const summary = JSON.stringify(task);
          if (summary !== lastTask) await event('task', task);
          lastTask = summary;
          if (isTerminal(task.state) && !dirty) {
            await event('end', { state: task.state, cursor });
            break;
          }
        }
      } catch (err) {
        req.log.error({ err }, 'task log stream failed');
        if (!closed && !midEvent)
          await event('error', new LongshoreError('INTERNAL', 'The log stream failed; reconnect to resume').toBody());
      } finally {
        unsubscribe();
        res.end();
      }
    },
  );
}

/** Writes, then waits until the follower has taken it (or has gone): a slow reader slows the writer. */
async function send(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
