export interface ServerSentEvent {
  type: string;
  data: string;
}

/**
 * The events of a text/event-stream body as they arrive. An event arrives in many pieces, and
 * its end is looked for only in what is new, so a large one is not scanned again per piece.
 * Read with a reader, not async iteration: not every browser iterates a ReadableStream.
 */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      let from = Math.max(0, buffer.length - 1);
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf('\n\n', from)) >= 0) {
        const event = parseEvent(buffer.slice(0, split));
        buffer = buffer.slice(split + 2);
        from = 0;
        if (event) yield event;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A comment-only block (a keep-alive) is no event. */
function parseEvent(block: string): ServerSentEvent | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length ? { type, data: data.join('\n') } : undefined;
}
