/**
 * Signals are handled here and nowhere else: the first SIGINT/SIGTERM stops the service gracefully
 * (the service keeps its own deadline); a second one exits at once. Pass the service's start as
 * `starting` so a signal during a slow start (a worker waiting for its server) also stops it.
 */
export async function runUntilSignal(
  name: string,
  stop: () => Promise<void>,
  starting?: Promise<unknown>,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${name}: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`${name}: ${signal} received, stopping\n`);
      stop().then(resolve, (err: unknown) => {
        process.stderr.write(`${name}: stop failed: ${(err as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    starting?.catch(reject);
  });
}

/**
 * Starts a service with the signals already handled, then announces it: a supervisor may signal
 * the moment it reads the announcement, and that signal must stop the service gracefully.
 */
export async function serveUntilSignal<T>(
  name: string,
  start: () => Promise<T>,
  announce: (service: T) => void,
  stop: (service: T) => Promise<void>,
): Promise<void> {
  let service: T | undefined;
  const starting = start().then((started) => {
    service = started;
    announce(started);
  });
  await runUntilSignal(
    name,
    async () => {
      await starting.catch(() => undefined);
      if (service !== undefined) await stop(service);
    },
    starting,
  );
}
