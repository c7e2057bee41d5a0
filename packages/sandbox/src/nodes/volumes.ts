// Volume staging: each of a pod's volumes becomes a host directory under the pod's directory
// (emptyDir, secret, configMap, downwardAPI, projected with the ServiceAccount token from
// TokenRequest), which the container runner then bind-mounts at the mount paths. Objects are
// read through the API as the kubelet reads them, so RBAC and admission are the real ones.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fieldRef, type Obj, type ObjectGetter } from './env.js';

export class VolumeError extends Error {
  override readonly name = 'VolumeError';
  readonly code = 'FailedMount';
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VolumeContext {
  pod: Obj;
  podDir: string;
  hostIP: string;
  get: ObjectGetter;
  /** Issues a token for the pod's ServiceAccount, bound to the pod (TokenRequest). */
  requestToken(audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** The cluster CA, used when a namespace has no kube-root-ca.crt yet (no publisher running). */
  caPem: string;
}

/** A staged volume: the host path to bind (hostPath volumes point at the host directly). */
export type StagedVolumes = Map<string, string>;

function writeItem(dir: string, path: string, content: string | Buffer, mode: number): void {
  const target = normalize(join(dir, path));
  if (!target.startsWith(dir)) throw new VolumeError(path, `item path ${JSON.stringify(path)} escapes the volume`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  chmodSync(target, mode);
}

function keyedData(o: Obj, resource: 'secrets' | 'configmaps'): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((o.data ?? {}) as Obj))
    m.set(k, resource === 'secrets' ? Buffer.from(String(v), 'base64') : Buffer.from(String(v)));
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Obj)) m.set(k, Buffer.from(String(v), 'base64'));
  return m;
}

async function writeKeyed(
  ctx: VolumeContext,
  dir: string,
  vol: string,
  resource: 'secrets' | 'configmaps',
  src: Obj,
  defaultMode: number,
): Promise<void> {
  const name = String(src.name ?? src.secretName ?? '');
  let o = await ctx.get(resource, name);
  if (!o && resource === 'configmaps' && name === 'kube-root-ca.crt') o = { data: { 'ca.crt': ctx.caPem } };
  if (!o) {
    if (src.optional === true) return;
    throw new VolumeError(
      vol,
      `MountVolume.SetUp failed for volume "${vol}" : ${resource === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`,
    );
  }
  const data = keyedData(o, resource);
  const items = src.items as Obj[] | undefined;
  if (!items?.length) {
    for (const [k, v] of data) writeItem(dir, k, v, defaultMode);
    return;
  }
  for (const it of items) {
    const v = data.get(String(it.key));
    if (v === undefined) {
      if (src.optional === true) continue;
      throw new VolumeError(
        vol,
        `MountVolume.SetUp failed for volume "${vol}" : configmap references non-existent config key: ${String(it.key)}`,
      );
    }
    writeItem(dir, String(it.path), v, typeof it.mode === 'number' ? it.mode : defaultMode);
  }
}

function writeDownward(ctx: VolumeContext, dir: string, items: Obj[], defaultMode: number): void {
  for (const it of items) {
    const ref = it.fieldRef as Obj | undefined;
    if (!ref) continue;
    writeItem(
      dir,
      String(it.path),
      fieldRef(ctx.pod, String(ref.fieldPath), ctx.hostIP) ?? '',
      typeof it.mode === 'number' ? it.mode : defaultMode,
    );
  }
}

export async function stageVolumes(ctx: VolumeContext): Promise<StagedVolumes> {
  const staged: StagedVolumes = new Map();
  const spec = (ctx.pod.spec ?? {}) as Obj;
  for (const v of (spec.volumes ?? []) as Obj[]) {
    const name = String(v.name);
    if (v.hostPath) {
      staged.set(name, String((v.hostPath as Obj).path));
      continue;
    }
    const dir = join(ctx.podDir, 'volumes', name);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    staged.set(name, dir);
    if (v.emptyDir) continue;
    if (v.secret) {
      await writeKeyed(ctx, dir, name, 'secrets', v.secret as Obj, Number((v.secret as Obj).defaultMode ?? 0o644));
      continue;
    }
    if (v.configMap) {
      await writeKeyed(
        ctx,
        dir,
        name,
        'configmaps',
        v.configMap as Obj,
        Number((v.configMap as Obj).defaultMode ?? 0o644),
      );
      continue;
    }
    if (v.downwardAPI) {
      writeDownward(
        ctx,
        dir,
        ((v.downwardAPI as Obj).items ?? []) as Obj[],
        Number((v.downwardAPI as Obj).defaultMode ?? 0o644),
      );
      continue;
    }
    if (v.projected) {
      const p = v.projected as Obj;
      const mode = Number(p.defaultMode ?? 0o644);
      for (const s of (p.sources ?? []) as Obj[]) {
        if (s.secret) await writeKeyed(ctx, dir, name, 'secrets', s.secret as Obj, mode);
        else if (s.configMap) await writeKeyed(ctx, dir, name, 'configmaps', s.configMap as Obj, mode);
        else if (s.downwardAPI) writeDownward(ctx, dir, ((s.downwardAPI as Obj).items ?? []) as Obj[], mode);
        else if (s.serviceAccountToken) {
          const t = s.serviceAccountToken as Obj;
          const token = await ctx.requestToken(t.audience as string | undefined, Number(t.expirationSeconds ?? 3607));
          writeItem(dir, String(t.path ?? 'token'), token, mode);
        }
      }
      continue;
    }
    throw new VolumeError(
      name,
      `MountVolume.SetUp failed for volume "${name}" : the sandbox supports emptyDir, secret, configMap, downwardAPI, projected and hostPath volumes`,
    );
  }
  return staged;
}
