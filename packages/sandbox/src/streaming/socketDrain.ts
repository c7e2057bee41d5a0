import type { Duplex } from 'node:stream';

/** Resolves once a socket whose buffer is full has room again, or has closed (nothing more to wait for). */
export function drained(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
