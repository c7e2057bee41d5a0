import type { PageEnd } from './logPage.js';

/**
 * Lines are written in pieces of about this size: one write per line would be thousands of
 * writes a page, and the whole page in one string would hold the page in memory. With a line of
 * 64 KiB on top, a piece stays below V8's large-object size (see CHUNK_ROW_BYTES).
 */
const WRITE_BYTES = 32 * 1024;

/**
 * A page's text as it is read, in pieces: `head`, the lines' JSON separated by commas, then
 * `tail(end)`. An empty page yields nothing, so that a follower sends no empty event.
 */
export async function* pageText(
  lines: AsyncGenerator<string, PageEnd>,
  head: string,
  tail: (end: PageEnd) => string,
): AsyncGenerator<string, PageEnd> {
  let pending = '';
  let separator = head;
  for (;;) {
    const next = await lines.next();
    if (next.done) {
      if (next.value.lines > 0) yield pending + tail(next.value);
      return next.value;
    }
    pending += separator + next.value;
    separator = ',';
    if (pending.length >= WRITE_BYTES) {
      yield pending;
      pending = '';
    }
  }
}
