import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One file of the built portal, held in memory: the bundle is a few hundred KiB. */
export interface PortalFile {
  body: Buffer;
  /** Gzipped, for the text types, when that is smaller. */
  gzip?: Buffer;
  contentType: string;
  etag: string;
  /** Vite names assets by their content hash: cached for a year, never revalidated. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The portal's build beside the server's package in this repository's layout (packages/portal/dist). */
export const BUNDLED_PORTAL = fileURLToPath(new URL('../../../portal/dist', import.meta.url));

/**
 * The built portal, by URL path ("/", "/assets/index-abc.js"), read once at start. Requests are
 * answered from this table only, never by joining a URL onto a directory: no encoded or odd path
 * can reach another file. Undefined when the directory holds no build.
 */
export function loadPortal(dir: string): Map<string, PortalFile> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, PortalFile>();
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(`/${path}`, portalFile(readFileSync(join(dir, path)), path));
    }
  };
  walk('');
  files.set('/', files.get('/index.html')!);
  return files;
}

function portalFile(body: Buffer, path: string): PortalFile {
  const contentType = TYPES[extname(path)] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(contentType);
  const gzip = compressible ? gzipSync(body, { level: 9 }) : undefined;
  return {
    body,
    ...(gzip && gzip.length < body.length ? { gzip } : {}),
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    immutable: path.startsWith('assets/'),
  };
}
