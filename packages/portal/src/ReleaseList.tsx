import { useState, type FormEvent } from 'react';
import type { LongshoreClient, Release } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { ErrorMessage } from './ErrorMessage.js';
import { useSubmission } from './useSubmission.js';

const columns: Column<Release>[] = [
  { header: 'Version', cell: (r) => r.version },
  { header: 'Created', cell: (r) => <time dateTime={r.createdAt}>{new Date(r.createdAt).toLocaleString()}</time> },
  {
    header: 'Notes',
    cell: (r) => (r.notes ? <span className="notes">{r.notes}</span> : <span className="none">—</span>),
  },
  {
    header: 'Packages',
    cell: (r) =>
      r.packages.length === 0 ? (
        <span className="none">none</span>
      ) : (
        r.packages.map((p) => `${p.packageId} ${p.version}`).join(', ')
      ),
  },
];

/**
 * The project's releases, newest first, and (for whoever may make one) a form for a new one: a
 * snapshot of the process and variables as they are now, with the versions of its packages.
 */
export function ReleaseList(props: {
  client: LongshoreClient;
  projectName: string;
  releases: Release[] | undefined;
  createsReleases: boolean;
  onCreated: () => void;
}) {
  const [version, setVersion] = useState('');
  const [notes, setNotes] = useState('');
  const { busy, error, status, submit } = useSubmission();

  const create = (event: FormEvent) =>
    submit(event, async () => {
      const made = await props.client.releases.create(props.projectName, {
        ...(version.trim() ? { version: version.trim() } : {}),
        ...(notes.trim() ? { notes } : {}),
      });
      setVersion('');
      setNotes('');
      props.onCreated();
      return `Release ${made.version} created.`;
    });

  return (
    <section className="card" aria-labelledby="releases-heading">
      <h2 id="releases-heading">Releases</h2>
      {props.releases?.length === 0 && (
        <p className="empty">
          {props.createsReleases
            ? 'No releases yet: create one below, or deploy a new release of the process as it is.'
            : 'No releases yet.'}
        </p>
      )}
      {props.releases && props.releases.length > 0 && (
        <DataTable labelledBy="releases-heading" columns={columns} rows={props.releases} rowKey={(r) => r.id} />
      )}
      {props.createsReleases && (
        <form className="release-form" onSubmit={(e) => void create(e)} aria-labelledby="new-release-heading">
          <h3 id="new-release-heading">Create a release</h3>
          <div className="field">
            <label htmlFor="release-version">Version</label>
            <input
              id="release-version"
              value={version}
              placeholder="e.g. 1.2.0"
              aria-describedby="release-version-hint"
              onChange={(e) => setVersion(e.target.value)}
            />
            <span id="release-version-hint" className="hint">
              Optional: the newest version with its patch number raised.
            </span>
          </div>
          <div className="field">
            <label htmlFor="release-notes">Notes</label>
            <textarea id="release-notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
          </div>
          <div className="form-actions">
            <button type="submit" disabled={busy}>
              Create release
            </button>
            <span role="status">{status}</span>
          </div>
          <ErrorMessage message={error} />
        </form>
      )}
    </section>
  );
}
