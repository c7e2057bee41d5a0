import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ApiKey, LongshoreClient, NewApiKey } from '@longshore/client';
import { DataTable, type Column } from './DataTable.js';
import { ErrorMessage } from './ErrorMessage.js';

const DEFAULT_EXPIRY_DAYS = 90;

const when = (iso: string | null, none: string) =>
  iso ? <time dateTime={iso}>{new Date(iso).toLocaleString()}</time> : <span className="none">{none}</span>;

function stateOf(key: ApiKey) {
  if (key.revokedAt) return <>revoked {when(key.revokedAt, '')}</>;
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}

/**
 * The signed-in user's own API keys (for the CLI and scripts): made here with an expiry, the key
 * shown once with a copy button (only its hash is kept), revoked at once.
 */
export function ApiKeyList({ client }: { client: LongshoreClient }) {
  const [keys, setKeys] = useState<ApiKey[] | undefined>();
  const [name, setName] = useState('');
  const [days, setDays] = useState(String(DEFAULT_EXPIRY_DAYS));
  const [made, setMade] = useState<NewApiKey | undefined>();
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const load = useCallback(
    (signal?: AbortSignal) =>
      client.apiKeys.list(signal).then(setKeys, (err: unknown) => {
        if (!signal?.aborted) setError((err as Error).message);
      }),
    [client],
  );
  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setCopied(false);
    try {
      setMade(await client.apiKeys.create({ name: name.trim(), expiresInDays: Number(days) }));
      setName('');
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (key: ApiKey) => {
    setError(undefined);
    try {
      await client.apiKeys.revoke(key.id);
      // A revoked key opens nothing: no need to keep showing it.
      if (made?.id === key.id) setMade(undefined);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const copy = async () => {
    if (!made) return;
    await navigator.clipboard.writeText(made.key).then(
      () => setCopied(true),
      () => setError('The browser refused the clipboard: select the key and copy it by hand'),
    );
  };

  const columns: Column<ApiKey>[] = [
    { header: 'Key', cell: (k) => k.name },
    { header: 'Created', cell: (k) => when(k.createdAt, '') },
    { header: 'Last used', cell: (k) => when(k.lastUsedAt, 'never') },
    { header: 'Expires', cell: (k) => when(k.expiresAt, 'never') },
    { header: 'State', cell: stateOf },
    {
      header: 'Change',
      cell: (k) =>
        k.revokedAt ? null : (
          <button type="button" onClick={() => void revoke(k)}>
            Revoke {k.name}
          </button>
        ),
    },
  ];

  return (
    <section aria-labelledby="api-keys-heading">
      <h2 id="api-keys-heading">My API keys</h2>
      {keys?.length === 0 && <p className="empty">No API keys yet.</p>}
      {keys && keys.length > 0 && (
        <DataTable labelledBy="api-keys-heading" columns={columns} rows={keys} rowKey={(k) => k.id} />
      )}
      <form className="directory-form card" onSubmit={(e) => void create(e)} aria-labelledby="new-key-heading">
        <h3 id="new-key-heading">New API key</h3>
        <div className="field">
          <label htmlFor="new-key-name">Key name</label>
          <input id="new-key-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="new-key-days">Expires after (days)</label>
          <input
            id="new-key-days"
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            required
          />
        </div>
        <div className="form-actions">
          <button type="submit">Create key</button>
        </div>
        <ErrorMessage message={error} />
      </form>
      {made && (
        <div className="new-key card" role="status">
          <p>
            Key <strong>{made.name}</strong>, shown this once (only its hash is kept): copy it now.
          </p>
          <code className="new-key-value">{made.key}</code>
          <button type="button" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy the key'}
          </button>
        </div>
      )}
    </section>
  );
}
