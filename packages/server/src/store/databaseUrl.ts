/**
 * The PostgreSQL URL of the `database` setting. Its password must never reach a log line or an
 * error message, so everything that shows the URL shows it through redactDatabaseUrl.
 */
const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

/** Why `url` cannot be the store's database, or undefined when it can. Never repeats the password. */
export function databaseUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url))
    return 'is not a URL: give postgres://user:password@host:port/database (unset, the server keeps SQLite in its data directory)';
  const parsed = new URL(url);
  if (!POSTGRES_PROTOCOLS.has(parsed.protocol))
    return `${redactDatabaseUrl(url)} is not a PostgreSQL URL: give postgres://user:password@host:port/database (unset, the server keeps SQLite in its data directory)`;
  if (parsed.pathname.length <= 1 && !parsed.searchParams.has('host'))
    return `${redactDatabaseUrl(url)} names no database: add it as the path, e.g. postgres://longshore@db.example.com/longshore`;
  return undefined;
}

/** The URL with its password (and any password in the query) replaced, fit for logs and messages. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return '[unparseable database URL]';
  const parsed = new URL(url);
  if (parsed.password) parsed.password = 'redacted';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', 'redacted');
  return parsed.toString();
}

/** Where the URL points, as a person checks it: host, port, database and user. */
export interface DatabaseAddress {
  host: string;
  port: number;
  database: string;
  user: string;
}

export function databaseAddress(url: string): DatabaseAddress {
  const parsed = new URL(url);
  return {
    host: parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost'),
    port: Number(parsed.port || parsed.searchParams.get('port') || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    user: decodeURIComponent(parsed.username),
  };
}
