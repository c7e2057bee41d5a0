import type { Command } from 'commander';
import type { LongshoreServer } from '@longshore/server';
import { serveUntilSignal } from '../lifecycle.js';
import { printList } from '../output.js';
import { clientFor } from './clientCommands.js';

interface ServerFlags {
  port: number;
  host: string;
  data: string;
  database?: string;
  publicUrl?: string;
  insecureHttp?: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  logLevel: string;
}

/** `longshore server` runs a node; its verbs (`server nodes`) are client verbs, returned for the client flags. */
export function registerServerCommand(program: Command): Command[] {
  const server = program
    .command('server')
    .enablePositionalOptions()
    .description('run the Longshore server (HTTPS with a self-signed certificate unless given one)')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory (database, master key, packages, admin key, TLS certificate)', '.longshore')
    .option(
      '--database <url>',
      'PostgreSQL store, postgres://user:password@host:5432/database, shared by several server nodes (default: $LONGSHORE_DATABASE_URL, else SQLite in the data directory)',
    )
    .option(
      '--public-url <url>',
      'the URL workers use to reach this server (default: $LONGSHORE_PUBLIC_URL, else the listen address)',
    )
    .option(
      '--tls-cert-file <file>',
      'PEM certificate to serve (default: $LONGSHORE_TLS_CERT_FILE, else a self-signed one made in the data directory)',
    )
    .option('--tls-key-file <file>', 'PEM private key of --tls-cert-file (default: $LONGSHORE_TLS_KEY_FILE)')
    .option(
      '--insecure-http',
      'serve plain HTTP: keys and credentials cross the network readable (default: $LONGSHORE_INSECURE_HTTP=1)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
    .action(async (opts: ServerFlags) => {
      const { redactDatabaseUrl, serverConfigFromEnv, startServer } = await import('@longshore/server');
      const database = opts.database ?? process.env.LONGSHORE_DATABASE_URL;
      const store = database ? `, store: ${redactDatabaseUrl(database)}` : '';
      const start = () =>
        startServer({
          ...serverConfigFromEnv(process.env),
          port: opts.port,
          host: opts.host,
          dataDir: opts.data,
          logLevel: opts.logLevel as 'info',
          ...(opts.database ? { database: opts.database } : {}),
          ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
          ...(opts.tlsCertFile ? { tlsCertFile: opts.tlsCertFile } : {}),
          ...(opts.tlsKeyFile ? { tlsKeyFile: opts.tlsKeyFile } : {}),
          ...(opts.insecureHttp ? { insecureHttp: true } : {}),
        });
      const announce = (server: LongshoreServer) => {
        process.stdout.write(`Longshore server listening on ${server.url} (data: ${opts.data}${store})\n`);
        if (server.certificateThumbprint) {
          process.stdout.write(
            `Certificate thumbprint (SHA-256): ${server.certificateThumbprint}\n  workers and clients pin it: --server-thumbprint ${server.certificateThumbprint}\n`,
          );
        }
      };
      await serveUntilSignal('server', start, announce, (server) => server.close());
    });
  const nodes = server
    .command('nodes')
    .description('list the server nodes sharing the store, their last heartbeat and the tasks each advances')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, output } = clientFor(cmd);
      const now = Date.now();
      printList(
        await client.serverNodes(),
        [
          { header: 'name', value: (n) => n.name },
          { header: 'status', value: (n) => (n.alive ? 'alive' : n.stoppedAt ? 'stopped' : 'gone') },
          {
            header: 'heartbeat',
            value: (n) => `${Math.max(0, Math.round((now - Date.parse(n.lastHeartbeatAt)) / 1000))}s ago`,
          },
          { header: 'tasks', value: (n) => n.tasks.map((t) => t.id) },
          { header: 'version', value: (n) => n.version },
          { header: 'url', value: (n) => n.url },
        ],
        output,
      );
    });
  return [nodes];
}
