import { connect, createServer, type Socket } from 'node:net';

export interface FailoverProxy {
  /** What a worker is given as its server URL. */
  url: string;
  close(): Promise<void>;
}

/**
 * What a load balancer in front of several server nodes does for a worker, in a few lines: each
 * connection goes to the first of `ports` that accepts it, so a worker stays on its preferred node
 * while that node is up, reconnects to the next when it dies, and comes back when it returns.
 */
export async function startFailoverProxy(ports: readonly number[]): Promise<FailoverProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    client.pause();
    open.add(client);
    client.once('close', () => open.delete(client));
    const attempt = (index: number) => {
      const port = ports[index];
      if (port === undefined) return client.destroy();
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        open.add(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.once('error', () => {
        if (!connected) attempt(index + 1);
      });
      upstream.once('close', () => {
        open.delete(upstream);
        if (connected) client.destroy();
      });
      client.once('close', () => upstream.destroy());
      client.on('error', () => upstream.destroy());
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
