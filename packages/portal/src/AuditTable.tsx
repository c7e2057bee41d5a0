import { Fragment, useState } from 'react';
import type { AuditEvent } from '@longshore/client';
import { ScrollRegion } from './ScrollRegion.js';
import './formLayout.css';
import './AuditPage.css';

const COLUMNS = ['Time', 'Actor', 'Action', 'Object', 'Outcome', 'Details'];

/** A value as it was: JSON, so that a string, a number and a list read as what they are. */
function shown(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

/** Why a request was refused or failed: the server's message, as the entry keeps it. */
const reasonOf = (entry: AuditEvent): string | undefined =>
  entry.outcome !== 'ok' && typeof entry.detail?.message === 'string' ? entry.detail.message : undefined;

/**
 * Audit entries, newest first: time, who, what, on what and how it ended (refusals stand out).
 * An entry's changes (each field before → after) and the reason for a refusal open below it.
 */
export function AuditTable({ entries, labelledBy }: { entries: AuditEvent[]; labelledBy: string }) {
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const toggle = (id: number) =>
    setOpen((now) => {
      const next = new Set(now);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <ScrollRegion labelledBy={labelledBy}>
      <table className="audit">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const reason = reasonOf(entry);
            const details = (entry.changes?.length ?? 0) > 0 || reason !== undefined;
            const expanded = open.has(entry.id);
            const detailsId = `audit-${entry.id}-details`;
            return (
              <Fragment key={entry.id}>
                <tr className={`audit-${entry.outcome}`}>
                  <th scope="row">
                    <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>
                  </th>
                  <td>
                    {entry.actor}
                    {entry.via && <span className="hint"> ({entry.via})</span>}
                  </td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>
                    {entry.object ? (
                      `${entry.objectKind ?? ''} ${entry.object}`.trim()
                    ) : (
                      <span className="none">—</span>
                    )}
                  </td>
                  <td>
                    <span className={`outcome outcome-${entry.outcome}`}>
                      {entry.outcome} ({entry.status})
                    </span>
                  </td>
                  <td>
                    {details ? (
                      <button
                        type="button"
                        aria-expanded={expanded}
                        aria-controls={expanded ? detailsId : undefined}
                        onClick={() => toggle(entry.id)}
                      >
                        {expanded ? 'Hide' : 'Show'}
                        <span className="visually-hidden">
                          {' '}
                          details of {entry.action} at {entry.at}
                        </span>
                      </button>
                    ) : (
                      <span className="none">—</span>
                    )}
                  </td>
                </tr>
                {expanded && (
                  <tr id={detailsId} className="audit-details">
                    <td colSpan={COLUMNS.length}>
                      {reason && <p className="error">{reason}</p>}
                      {entry.changes && entry.changes.length > 0 && (
                        <ul className="audit-changes">
                          {entry.changes.map((c, i) => (
                            <li key={i}>
                              <code>{c.path}</code>: {shown(c.before)} → {shown(c.after)}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
