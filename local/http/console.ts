/**
 * The web console's files: `GET /` is the page, `GET /_harborpilot/console/<file>` its scripts and styles,
 * plain files from local/console/ (no build step). Only GET and HEAD of those paths, and `/` only without
 * `?Action=` (STS's presigned GET) or `X-Amz-Target`: every AWS protocol POSTs to `/` or uses its own paths,
 * so no AWS or Kubernetes request ever lands here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_PREFIX = '/_harborpilot/console/';
const DIR = fileURLToPath(new URL('../console/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// Scripts and styles only from this origin; mail HTML is shown in a sandboxed iframe (no scripts there
// either); `style-src 'unsafe-inline'` because emails style themselves inline.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

let files: ReadonlySet<string> | undefined;
/** The console's files, listed once: a request can only name one of them (no path is ever joined). */
function consoleFiles(): ReadonlySet<string> {
  files ??= new Set(readdirSync(DIR).filter((f) => Object.hasOwn(TYPES, extname(f))));
  return files;
}

/** The file a request asks for, or undefined when the request is not the console's. */
export function consoleFile(req: IncomingMessage, url: URL): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  if (url.pathname === '/') {
    if (url.searchParams.has('Action') || req.headers['x-amz-target']) return undefined;
    return 'index.html';
  }
  if (!url.pathname.startsWith(CONSOLE_PREFIX)) return undefined;
  const name = url.pathname.slice(CONSOLE_PREFIX.length);
  return consoleFiles().has(name) ? name : '';
}

/** Serves one of the console's files ('' → 404). */
export function serveConsoleFile(req: IncomingMessage, res: ServerResponse, name: string): void {
  if (!name) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not a console file\n');
    return;
  }
  const body = readFileSync(`${DIR}${name}`);
  res.writeHead(200, {
    'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    // Always revalidated: the files change with the checkout, and they are small.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(name.endsWith('.html') ? { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
