/**
 * What the CLI prints for the error that ends it. An error with a code (Longshore's registry, a
 * Kubernetes reason, a system call's ENOENT) says what went wrong in its message, so one line
 * is enough; anything else is a bug, worth its stack.
 */
export function failureMessage(error: unknown): string {
  if (isCodedError(error)) return `error [${error.code}]: ${error.message}`;
  return `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

function isCodedError(error: unknown): error is { code: string; message: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
