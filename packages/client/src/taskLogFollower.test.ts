import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isErrorCode } from '@longshore/protocol';
import { LongshoreClient } from './longshoreClient.js';

/** A stream that hands out the text in the given pieces, then fails if `drop` (a lost connection). */
function eventStream(pieces: string[], drop: boolean): Response {
  const encoder = new TextEncoder();
  const queue = [...pieces];
  // Pulled one piece at a time: an error while pieces wait in the queue would discard them.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = queue.shift();
      if (piece !== undefined) controller.enqueue(encoder.encode(piece));
      else if (drop) controller.error(new TypeError('terminated'));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const line = (seq: number) => ({ operationId: 'op', seq, stream: 'stdout', ts: 0, text: `line ${seq}` });
const lines = (cursor: number, ...seqs: number[]) =>
  `event: lines\ndata: ${JSON.stringify({ lines: seqs.map(line), cursor })}\n\n`;

describe('following a task log', () => {
  it('reads events split anywhere, and resumes a dropped stream from the cursor of the last whole event', async () => {
    const afters: (string | null)[] = [];
    const first = lines(2, 1, 2) + lines(3, 3);
    const client = new LongshoreClient({
      url: 'http://server',
      apiKey: 'key',
      fetch: async (url) => {
        afters.push(new URL(url).searchParams.get('after'));
        // The first connection drops inside the second event: its line must come again, once.
        if (afters.length === 1) return eventStream([first.slice(0, 7), first.slice(7, first.length - 5)], true);
        return eventStream([': keep-alive\n\n', lines(4, 3, 4), 'event: end\ndata: {"state":"succeeded"}\n\n'], false);
      },
    });
    const seen: number[] = [];
    assert.equal(await client.tasks.follow('t', { onLine: (l) => seen.push(l.seq) }), 'succeeded');
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(afters, ['0', '2']);
  });

  it('does not ask again when the server refuses (an unknown task)', async () => {
    let calls = 0;
    const client = new LongshoreClient({
      url: 'http://server',
      apiKey: 'key',
      fetch: async () => {
        calls++;
        return new Response(JSON.stringify({ code: 'NOT_FOUND', message: "Task 't' does not exist" }), { status: 404 });
      },
    });
    await assert.rejects(client.tasks.follow('t', { onLine: () => {} }), (e) => isErrorCode(e, 'NOT_FOUND'));
    assert.equal(calls, 1);
  });
});
