import { createReadStream, existsSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../module.ts';

/** Where `npm run build:web` (scripts/build-web.mjs) writes the storefront and the admin portal. */
export const WEB_DIST = join(projectRoot(), 'web', 'dist');

// The same code runs from src/ (tsx, tests) and bundled into dist/bazaar.mjs, so the web apps are
// found from the project root (the nearest package.json) rather than from this file's own depth.
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Paths the API process answers itself; a miss under them is a problem+json 404, never a web page. */
const SERVER_PATHS = ['/api/', '/api', '/docs', '/openapi.json', '/healthz', '/readyz', '/metrics', '/media/'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Vite names every built asset after its content hash: a changed file is a new URL, so caching forever is safe. */
const HASHED_ASSETS = '/assets/';
const FOREVER = 'public, max-age=31536000, immutable';
/** index.html names the current hashed assets, so browsers must check it on every visit. */
const REVALIDATE = 'no-cache';
const AN_HOUR = 'public, max-age=3600';

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bazaar</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The web apps are not built yet</h1>
<p>Run <code>npm run build:web</code> (or restart with <code>npm start</code>, which builds them first).
The API is up: see <a href="/docs">/docs</a>.</p></body></html>`;

/**
 * Serves the built web apps from the API process, after every API route is registered: the
 * storefront at `/`, the admin portal at `/admin`. A path without a file extension is a client-side
 * route and gets its app's index.html (SPA fallback); a missing file is a 404. Precompressed `.gz`
 * siblings written by the build are sent to clients that accept gzip.
 */
export async function registerWebApps(app: HttpApp, options: { root?: string } = {}) {
  const root = resolve(options.root ?? WEB_DIST);

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const pathname = decodedPath(request.url);
    if (pathname === null || SERVER_PATHS.some((p) => pathname === p || pathname.startsWith(p.endsWith('/') ? p : `${p}/`))) {
      return reply.callNotFound();
    }

    const isAdmin = pathname === '/admin' || pathname.startsWith('/admin/');
    if (!extname(pathname)) {
      const index = isAdmin ? 'admin/index.html' : 'index.html';
      const sent = await sendFile(request, reply, root, index, REVALIDATE);
      if (sent) return reply;
      return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    }

    const cache = pathname.startsWith(HASHED_ASSETS) ? FOREVER : pathname.endsWith('.html') ? REVALIDATE : AN_HOUR;
    if (await sendFile(request, reply, root, pathname.slice(1), cache)) return reply;
    return reply.callNotFound();
  });
}

function decodedPath(url: string): string | null {
  const raw = url.split('?')[0] ?? '/';
  try {
    const path = decodeURIComponent(raw);
    // A NUL byte or a parent segment never names a file of the build.
    if (path.includes('\0') || path.split('/').includes('..')) return null;
    return path;
  } catch {
    return null;
  }
}

async function fileStats(path: string): Promise<Stats | null> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

/** Sends `relative` from `root` if it is a file inside it; returns false when there is no such file. */
async function sendFile(request: FastifyRequest, reply: FastifyReply, root: string, relative: string, cacheControl: string): Promise<boolean> {
  const path = resolve(root, relative);
  if (path !== root && !path.startsWith(root + sep)) return false;
  const stats = await fileStats(path);
  if (!stats) return false;

  const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  reply.header('content-type', type).header('cache-control', cacheControl).header('etag', etag).header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === etag) {
    reply.status(304).send();
    return true;
  }

  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  const gzipped = acceptsGzip ? await fileStats(`${path}.gz`) : null;
  if (gzipped) {
    reply.header('content-encoding', 'gzip').header('content-length', gzipped.size);
    reply.send(createReadStream(`${path}.gz`));
  } else {
    reply.header('content-length', stats.size);
    reply.send(createReadStream(path));
  }
  return true;
}
