import { useEffect, useState, type FormEvent } from 'react';
import type { AuditEvent, AuditQuery, LongshoreClient } from '@longshore/client';
import { AuditTable } from './AuditTable.js';
import { ErrorMessage } from './ErrorMessage.js';
import './formLayout.css';

/** Entries per page: a screenful or two, and cheap for the server to find. */
const PAGE_SIZE = 50;

type Filter = Pick<AuditQuery, 'actor' | 'object'>;

/**
 * The audit log (`/audit`, audit:view): newest first, by actor and object (as the log names
 * them, exactly), paged back with "Older" (the server's `before`, the oldest entry shown).
 */
export function AuditPage({ client }: { client: LongshoreClient }) {
  const [actor, setActor] = useState('');
  const [object, setObject] = useState('');
  const [filter, setFilter] = useState<Filter>({});
  /** Each page's `before`, the newest page's first (undefined): going back to newer pops one. */
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [entries, setEntries] = useState<AuditEvent[] | undefined>();
  const [hasOlder, setHasOlder] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const before = cursors.at(-1);

  useEffect(() => {
    const abort = new AbortController();
    // One more than a page: whether there are older entries, without asking again.
    const query = { ...filter, ...(before !== undefined && { before }), limit: PAGE_SIZE + 1 };
    client.audit(query, abort.signal).then(
      (found) => {
        setEntries(found.slice(0, PAGE_SIZE));
        setHasOlder(found.length > PAGE_SIZE);
        setError(undefined);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError((err as Error).message);
      },
    );
    return () => abort.abort();
  }, [client, filter, before]);

  const applyFilter = (event: FormEvent) => {
    event.preventDefault();
    setFilter({
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(object.trim() ? { object: object.trim() } : {}),
    });
    setCursors([undefined]);
  };
  const older = () => {
    const oldest = entries?.at(-1);
    if (hasOlder && oldest) setCursors((all) => [...all, oldest.id]);
  };
  const newer = () => setCursors((all) => (all.length > 1 ? all.slice(0, -1) : all));

  return (
    <>
      <h1 id="audit-heading">Audit log</h1>
      <form className="audit-filter" onSubmit={applyFilter} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input id="audit-actor" value={actor} placeholder="a user name" onChange={(e) => setActor(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-object">Object</label>
          <input
            id="audit-object"
            value={object}
            placeholder="a name or an id"
            onChange={(e) => setObject(e.target.value)}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage message={error} />
      {entries?.length === 0 && <p className="empty">No entries{filter.actor || filter.object ? ' match' : ''}.</p>}
      {entries && entries.length > 0 && <AuditTable entries={entries} labelledBy="audit-heading" />}
      <div className="form-actions" role="group" aria-label="Pages of the audit log">
        <button type="button" aria-disabled={cursors.length === 1} onClick={newer}>
          Newer
        </button>
        <button type="button" aria-disabled={!hasOlder} onClick={older}>
          Older
        </button>
      </div>
    </>
  );
}
