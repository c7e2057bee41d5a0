import { Type, type Static } from '@sinclair/typebox';

export const LogStream = Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('system')]);
export type LogStream = Static<typeof LogStream>;

/**
 * One line of an operation's log. `seq` is contiguous from 1 per operation; the server stores
 * lines idempotently by (operationId, seq). `source` is the line number the bootstrap gave the
 * line, where it came from the script: a reader that resumes a broken stream uses it to drop
 * duplicates and to find gaps.
 */
export const LogLine = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  stream: LogStream,
  /** Unix epoch milliseconds. */
  ts: Type.Integer({ minimum: 0 }),
  text: Type.String({ maxLength: 65536 }),
  source: Type.Optional(Type.Integer({ minimum: 1 })),
  level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')])),
});
export type LogLine = Static<typeof LogLine>;

export const MASK = '********';
