import { useState, type FormEvent } from 'react';

const serverMessage = (err: unknown): string => (err as Error).message;

/**
 * A form's submission: busy while it runs, the error to show where the user acted when it fails
 * (the server's own message unless `describe` says otherwise), and the status line the work
 * returns when it succeeds.
 */
export function useSubmission() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  const submit = async (
    event: FormEvent,
    work: () => Promise<string | void>,
    describe: (err: unknown) => string = serverMessage,
  ): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setStatus('');
    try {
      setStatus((await work()) ?? '');
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, status, submit };
}
