/**
 * Service messages let a script talk to Longshore through its output, one per line:
 *
 *   ##longshore[setVariable name='<base64>' value='<base64>' sensitive='true']
 *   ##longshore[progress percentage='40' message='<base64>']
 *   ##longshore[warning message='<base64>']
 *
 * Text attributes are base64 so any value survives a line-oriented log; flags and numbers are
 * plain. This is the only parser of them.
 */
export type ServiceMessage =
  | { kind: 'setVariable'; name: string; value: string; sensitive: boolean }
  | { kind: 'progress'; percentage: number; message: string }
  | { kind: 'warning'; message: string };

export type ServiceMessageParse = { ok: true; message: ServiceMessage } | { ok: false; error: string } | undefined;

const PREFIX = '##longshore[';
const ATTRIBUTE = /\s*([A-Za-z]+)='([^']*)'/y;

export function isServiceMessage(line: string): boolean {
  return line.startsWith(PREFIX);
}

/** undefined when the line is not a service message; an error when it is one but malformed. */
export function parseServiceMessage(line: string): ServiceMessageParse {
  if (!line.startsWith(PREFIX)) return undefined;
  const body = line.trimEnd();
  if (!body.endsWith(']')) return { ok: false, error: 'service message is not closed with ]' };
  const inner = body.slice(PREFIX.length, -1);
  const nameEnd = inner.search(/\s|$/);
  const kind = inner.slice(0, nameEnd);
  const attrs = new Map<string, string>();
  ATTRIBUTE.lastIndex = nameEnd;
  for (let m = ATTRIBUTE.exec(inner); m; m = ATTRIBUTE.exec(inner)) attrs.set(m[1]!, m[2]!);
  if (ATTRIBUTE.lastIndex !== 0 && inner.slice(ATTRIBUTE.lastIndex).trim() !== '') {
    return { ok: false, error: `unexpected text in service message: ${inner.slice(ATTRIBUTE.lastIndex)}` };
  }
  const text = (attr: string): string | undefined => {
    const raw = attrs.get(attr);
    if (raw === undefined) return undefined;
    return decodeBase64(raw);
  };
  switch (kind) {
    case 'setVariable': {
      const name = text('name');
      const value = text('value');
      if (!name) return { ok: false, error: "setVariable needs a base64 name='...'" };
      if (value === undefined) return { ok: false, error: "setVariable needs a base64 value='...'" };
      return { ok: true, message: { kind, name, value, sensitive: attrs.get('sensitive') === 'true' } };
    }
    case 'progress': {
      const percentage = Number(attrs.get('percentage') ?? '');
      if (!Number.isInteger(percentage) || percentage < 0 || percentage > 100) {
        return { ok: false, error: "progress needs percentage='0..100'" };
      }
      return { ok: true, message: { kind, percentage, message: text('message') ?? '' } };
    }
    case 'warning':
      return { ok: true, message: { kind, message: text('message') ?? '' } };
    default:
      return { ok: false, error: `unknown service message '${kind}'` };
  }
}

function decodeBase64(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64').toString('utf8');
}

export function formatServiceMessage(message: ServiceMessage): string {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  switch (message.kind) {
    case 'setVariable':
      return `##longshore[setVariable name='${b64(message.name)}' value='${b64(message.value)}'${message.sensitive ? " sensitive='true'" : ''}]`;
    case 'progress':
      return `##longshore[progress percentage='${message.percentage}' message='${b64(message.message)}']`;
    case 'warning':
      return `##longshore[warning message='${b64(message.message)}']`;
  }
}
