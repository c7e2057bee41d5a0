/**
 * Where a page of the task log ended: after `linesRead` lines of chunk row `chunkId`, or after the
 * whole row when `linesRead` is 0. A page bounded in bytes may end inside a row.
 */
export interface LogPosition {
  chunkId: number;
  linesRead: number;
}

/*
 * On the wire a position is one integer, because that is what clients already pass back as
 * `after` and what an EventSource resends as Last-Event-ID. The row id takes the low 38 bits,
 * the lines read the 15 above (53 in all, the safe integers). So a position at the end of a row
 * is the row id itself, which is what every cursor was before pages could end inside a row.
 * Row ids stay below 2^38: that is 2.7e11 rows, 8 years of a thousand rows a second. A row holds
 * at most one batch, at most 20,000 lines (the protocol's limit), below 2^15.
 */
const ROW_ID_SPAN = 2 ** 38;

export const MAX_CURSOR = Number.MAX_SAFE_INTEGER;

export function encodeCursor({ chunkId, linesRead }: LogPosition): number {
  return linesRead * ROW_ID_SPAN + chunkId;
}

export function decodeCursor(cursor: number): LogPosition {
  return { chunkId: cursor % ROW_ID_SPAN, linesRead: Math.floor(cursor / ROW_ID_SPAN) };
}
