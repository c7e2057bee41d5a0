// Who called what: one entry per request (a watch when its answer starts), with the fields of a
// Kubernetes audit Event that tests and operators look at. Bounded, oldest dropped first.

export interface AuditEntry {
  /** Increasing across the sandbox's life, for "entries since". */
  seq: number;
  time: string;
  user: string;
  groups: string[];
  verb: string;
  method: string;
  path: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** HTTP status of the answer. */
  code: number;
  userAgent?: string;
}

export class AuditLog {
  private readonly list: AuditEntry[] = [];
  private seq = 0;

  constructor(private readonly limit = 50_000) {}

  record(e: Omit<AuditEntry, 'seq' | 'time'>): void {
    this.list.push({ seq: ++this.seq, time: new Date().toISOString(), ...e });
    if (this.list.length > this.limit) this.list.splice(0, this.list.length - this.limit);
  }

  /** A copy of the entries, optionally only those after `afterSeq` or matching `filter`. */
  entries(
    filter?: Partial<Pick<AuditEntry, 'user' | 'verb' | 'resource' | 'namespace' | 'name' | 'code'>> & {
      afterSeq?: number;
    },
  ): AuditEntry[] {
    return this.list.filter((e) => {
      if (filter?.afterSeq !== undefined && e.seq <= filter.afterSeq) return false;
      for (const k of ['user', 'verb', 'resource', 'namespace', 'name', 'code'] as const) {
        if (filter?.[k] !== undefined && e[k] !== filter[k]) return false;
      }
      return true;
    });
  }

  /** The sequence number of the latest entry (0 when empty): take it before an action, then entries({ afterSeq }). */
  get lastSeq(): number {
    return this.seq;
  }

  clear(): void {
    this.list.length = 0;
  }
}
