// Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf), for the
// kinds kubectl's typed clients send that way: `kubectl create namespace|configmap|secret|
// serviceaccount|role|rolebinding|deployment|job|cronjob|token`, `kubectl auth can-i`. The body is the "k8s\0"
// magic and a runtime.Unknown envelope around the typed message; each message is mapped to the
// JSON object the JSON codec would have produced. Answers stay JSON (clients accept both).
// kubectl has no JSON fallback for a 415 to protobuf (client-go falls back only from CBOR), so a
// kind it sends this way must be decoded here. The message schemas are in protobufSchemas.ts.
//
// The Go marshaller writes every non-pointer field, zero or not, where JSON omits empty ones: a
// zero scalar is dropped unless the field is a pointer (`int*`, `bool*`, `string*`), whose zero
// is a value (`replicas: 0`, `automountServiceAccountToken: false`).
import { errors } from '../errors.js';
import { SCHEMAS } from './protobufSchemas.js';

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
  ) {}
  varint(): bigint {
    let result = 0n,
      shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (n < 0 || this.pos + n > this.end) throw new Error('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

type Obj = Record<string, unknown>;

function decodeMessage(buf: Buffer, type: string): Obj {
  const schema = SCHEMAS[type];
  if (!schema) throw new Error(`no schema for ${type}`);
  const r = new Reader(buf);
  const out: Obj = {};
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const field = tag >>> 3,
      wire = tag & 7;
    const spec = schema[field];
    let raw: bigint | Buffer;
    if (wire === 0) raw = r.varint();
    else if (wire === 2) raw = r.bytes();
    else if (wire === 1) {
      r.pos += 8;
      continue;
    } else if (wire === 5) {
      r.pos += 4;
      continue;
    } else throw new Error(`wire type ${wire}`);
    if (!spec) continue; // a field this decoder does not know: dropped, as an old server would
    const [name, ft] = spec;
    const pointer = ft.endsWith('*');
    const scalar = pointer ? ft.slice(0, -1) : ft;
    if (scalar === 'string' || scalar === 'int' || scalar === 'bool') {
      const v =
        scalar === 'string'
          ? (raw as Buffer).toString('utf8')
          : scalar === 'int'
            ? Number(BigInt.asIntN(64, raw as bigint))
            : raw !== 0n;
      if (pointer || (v !== '' && v !== 0 && v !== false)) out[name] = v;
      else delete out[name];
    } else if (ft === 'bytes') out[name] = raw;
    else if (ft === 'time') {
      // A zero metav1.Time is left out, as kube-apiserver 1.34 writes a pod template's creationTimestamp.
      const seconds = Number(decodeMessage(raw as Buffer, 'Timestamp').seconds ?? 0);
      if (seconds !== 0) out[name] = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    } else if (ft === 'intstr') {
      const v = decodeMessage(raw as Buffer, 'IntOrString');
      out[name] = v.type === 1 ? String(v.strVal ?? '') : Number(v.intVal ?? 0);
    } else if (ft.startsWith('msg:')) out[name] = decodeMessage(raw as Buffer, ft.slice(4));
    else if (ft.startsWith('rep:')) {
      const item = ft.slice(4);
      const v = item === 'string' ? (raw as Buffer).toString('utf8') : decodeMessage(raw as Buffer, item);
      ((out[name] ??= []) as unknown[]).push(v);
    } else if (ft.startsWith('map:')) {
      const e = decodeMessage(raw as Buffer, 'MapEntry');
      const value = (e.value as Buffer | undefined) ?? Buffer.alloc(0);
      ((out[name] ??= {}) as Obj)[String(e.key ?? '')] =
        ft === 'map:bytes'
          ? value.toString('base64')
          : ft === 'map:quantity'
            ? String(decodeMessage(value, 'Quantity').string ?? '')
            : value.toString('utf8');
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf request body into the equivalent JSON object (415 for kinds not known here). */
export function decodeProtobufBody(body: Buffer): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw errors.badRequest('protobuf body without the k8s envelope');
  let env: Obj;
  try {
    env = decodeMessage(body.subarray(4), 'Unknown');
  } catch (err) {
    throw errors.badRequest(`invalid protobuf envelope: ${String(err)}`);
  }
  const tm = (env.typeMeta ?? {}) as Obj;
  const kind = String(tm.kind ?? '');
  if (!SCHEMAS[kind] || kind === 'Unknown' || kind === 'TypeMeta') {
    throw errors.unsupportedMediaType();
  }
  let obj: Obj;
  try {
    obj = decodeMessage((env.raw as Buffer | undefined) ?? Buffer.alloc(0), kind);
  } catch (err) {
    throw errors.badRequest(`invalid protobuf ${kind}: ${String(err)}`);
  }
  return { apiVersion: tm.apiVersion, kind, ...obj };
}
