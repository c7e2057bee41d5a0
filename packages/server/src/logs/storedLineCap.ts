/**
 * The most UTF-8 bytes of text one stored log line keeps. The wire contract allows 65,536
 * characters a line, and the worker already splits longer output into lines of that many
 * characters, each with its own seq; a line of wide characters is still up to three times the
 * cap. Capping in bytes bounds what one line adds to a page beyond the page's byte limit.
 *
 * The rest of an over-long line is dropped behind a visible marker, not kept in continuation
 * lines: only the worker numbers lines, and a continuation the server made would either need a
 * seq of its own (renumbering every later line, breaking idempotency by (operationId, seq) when
 * the worker resends) or share its line's seq (two lines with one identity for every client).
 * ASCII output never reaches the cap, because the worker's split comes first.
 */
export const MAX_STORED_LINE_BYTES = 64 * 1024;

/** Room for the marker, so that the kept text plus the marker stay within the cap. */
const MARKER_RESERVE_BYTES = 64;
// Below this many UTF-16 units a line cannot exceed the cap (three bytes a unit at most).
const ALWAYS_FITS = Math.floor(MAX_STORED_LINE_BYTES / 3);

/** Text to mask before capping: a secret cut in two by the cap would otherwise leave its head. */
export function capStoredLine(text: string): string {
  if (text.length <= ALWAYS_FITS) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_STORED_LINE_BYTES) return text;
  let cut = MAX_STORED_LINE_BYTES - MARKER_RESERVE_BYTES;
  // Back up to the first byte of a character, so that none is cut in half.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return `${bytes.toString('utf8', 0, cut)} … [line truncated: ${bytes.length - cut} more bytes not stored]`;
}
