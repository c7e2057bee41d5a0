// The resize stream carries JSON objects {"Width":80,"Height":24} one after another (client-go
// encodes each size with a json.Encoder; the kubelet reads them with a json.Decoder), so an
// object may be split across frames or several may share one. Anything that is not such an
// object ends the reading, as a decode error ends the kubelet's loop.
import type { Readable } from 'node:stream';

/** More than this without a complete object is not a terminal size. */
const MAX_PENDING = 4096;

export class TerminalSizeReader {
  private pending = '';
  private stopped = false;

  constructor(
    source: Readable,
    private readonly onSize: (width: number, height: number) => void,
  ) {
    source.setEncoding('utf8');
    source.on('data', (text: string) => this.push(text));
    source.on('error', () => undefined);
  }

  private push(text: string): void {
    if (this.stopped) return;
    this.pending += text;
    for (;;) {
      const end = objectEnd(this.pending);
      if (end === undefined) break;
      const raw = this.pending.slice(0, end).trim();
      this.pending = this.pending.slice(end);
      if (!raw) continue;
      const size = parseSize(raw);
      if (!size) {
        this.stopped = true;
        return;
      }
      this.onSize(size.width, size.height);
    }
    if (this.pending.length > MAX_PENDING) this.stopped = true;
  }
}

/** The index just past the first complete top-level JSON object, if there is one. */
export function objectEnd(s: string): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return undefined;
}

function parseSize(raw: string): { width: number; height: number } | undefined {
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    // Go's decoder matches field names case-insensitively.
    const get = (k: string): unknown => Object.entries(o).find(([n]) => n.toLowerCase() === k)?.[1];
    const width = get('width');
    const height = get('height');
    if (typeof width !== 'number' || typeof height !== 'number') return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}
