// The object store: what etcd is to kube-apiserver. One global revision counter (so a
// resourceVersion orders writes across every resource, as etcd's revision does), objects keyed
// by storage key + "namespace/name", and an event log that watches replay from. Objects are
// treated as immutable once stored: every write stores a fresh object, readers may share it.
export type Obj = Record<string, unknown> & { metadata: Meta };
export interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  [k: string]: unknown;
}

// The unit of watch history: one write to one object.
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  storage: string;
  rev: number;
  type: EventType;
  object: Obj;
  /** The object before this write (MODIFIED, DELETED): selectors need it to turn a change that
   *  moves an object out of a watch's selection into DELETED, and exact lists need it to rewind. */
  prev?: Obj;
}

export interface StoreOptions {
  /** Events kept for watch resume; older resourceVersions answer 410. Default 20 000. */
  historySize?: number;
}

type Listener = (ev: StoredEvent) => void;

export class ObjectStore {
  private rev = 1;
  private readonly tables = new Map<string, Map<string, Obj>>();
  private log: StoredEvent[] = [];
  /** The oldest revision a watch may start from; anything older is compacted (410). */
  private floor = 1;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly historySize: number;

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 20_000;
  }

  get revision(): number {
    return this.rev;
  }
  get compactedRevision(): number {
    return this.floor;
  }

  private table(key: string): Map<string, Obj> {
    let t = this.tables.get(key);
    if (!t) {
      t = new Map();
      this.tables.set(key, t);
    }
    return t;
  }

  get(storage: string, key: string): Obj | undefined {
    return this.tables.get(storage)?.get(key);
  }

  /** Objects of a storage key whose key starts with `prefix` ("ns/" for one namespace), sorted by key as etcd lists them. */
  list(storage: string, prefix = ''): Obj[] {
    const t = this.tables.get(storage);
    if (!t) return [];
    const keys = [...t.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((k) => t.get(k)!);
  }

  count(storage: string, prefix = ''): number {
    const t = this.tables.get(storage);
    if (!t) return 0;
    if (!prefix) return t.size;
    let n = 0;
    for (const k of t.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  /** Writes (create or update) `obj`, stamping a new resourceVersion. Returns the stored object. */
  put(storage: string, key: string, obj: Obj): Obj {
    const t = this.table(storage);
    const prev = t.get(key);
    const rv = ++this.rev;
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } } as Obj;
    t.set(key, stored);
    this.emit({ storage, rev: rv, type: prev ? 'MODIFIED' : 'ADDED', object: stored, prev });
    return stored;
  }

  /** Removes the object; the DELETED event carries it with a new resourceVersion, as etcd's delete revision. */
  delete(storage: string, key: string): Obj | undefined {
    const t = this.tables.get(storage);
    const prev = t?.get(key);
    if (!t || !prev) return undefined;
    t.delete(key);
    const rv = ++this.rev;
    const gone = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } } as Obj;
    this.emit({ storage, rev: rv, type: 'DELETED', object: gone, prev });
    return gone;
  }

  private emit(ev: StoredEvent): void {
    this.log.push(ev);
    if (this.log.length > this.historySize * 1.25) {
      const drop = this.log.length - this.historySize;
      this.floor = this.log[drop - 1]!.rev + 1;
      this.log = this.log.slice(drop);
    }
    const ls = this.listeners.get(ev.storage);
    if (ls) for (const l of ls) l(ev);
  }

  /** Events of `storage` with revision > `afterRev`, or 'expired' when history no longer reaches back that far. */
  eventsSince(storage: string, afterRev: number): StoredEvent[] | 'expired' {
    if (afterRev + 1 < this.floor) return 'expired';
    // The log is sorted by revision: binary search the first event after afterRev.
    let lo = 0,
      hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid]!.rev <= afterRev) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredEvent[] = [];
    for (let i = lo; i < this.log.length; i++) if (this.log[i]!.storage === storage) out.push(this.log[i]!);
    return out;
  }

  /** The state of `storage` as it was at revision `rev` (list with resourceVersionMatch=Exact), or 'expired'. */
  snapshotAt(storage: string, rev: number, prefix = ''): Obj[] | 'expired' {
    if (rev < this.floor - 1 && rev < this.rev) return 'expired';
    const state = new Map<string, Obj>();
    for (const o of this.list(storage, prefix)) state.set(keyOf(o), o);
    const later = this.eventsSince(storage, rev);
    if (later === 'expired') return 'expired';
    for (let i = later.length - 1; i >= 0; i--) {
      const ev = later[i]!;
      const k = keyOf(ev.object);
      if (!k.startsWith(prefix)) continue;
      if (ev.type === 'ADDED') state.delete(k);
      else if (ev.prev) state.set(k, ev.prev);
    }
    return [...state.keys()].sort().map((k) => state.get(k)!);
  }

  /** Forgets every event so far: a watch or exact list from an older resourceVersion answers 410. */
  compact(): void {
    this.log = [];
    this.floor = this.rev + 1;
  }

  subscribe(storage: string, l: Listener): () => void {
    let set = this.listeners.get(storage);
    if (!set) {
      set = new Set();
      this.listeners.set(storage, set);
    }
    set.add(l);
    return () => {
      set.delete(l);
    };
  }
}

export function keyOf(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}
