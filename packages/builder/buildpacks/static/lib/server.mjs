/**
 * The static buildpack's web server, copied into the slug as .static/server.mjs and run by the run stack's Node.js
 * (the stack has no nginx). Serves the site root (the slug's directory, or the first argument) on $PORT: GET and HEAD
 * of files with their content type, index.html for a directory, 404 (the site's 404.html when it has one) for
 * anything else. Names starting with a dot are never served, which keeps out `..`, .profile.d, .static and .git, and
 * every file is resolved through its real path and must lie inside the real site root, so symlinks cannot leave it.
 * Written for Node.js 18 (Debian bookworm's), with no dependencies.
 * @module
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

const root = await fs.realpath(resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..')));
const port = Number(process.env.PORT || 5000);
// Only for tests on a developer's machine, which must not listen beyond 127.0.0.1; a container listens everywhere.
const host = process.env.STATIC_SERVER_HOST || '0.0.0.0';

/** The real path of `path` when it is a file inside the site root, else undefined. */
async function fileInRoot(path) {
  try {
    const real = await fs.realpath(path);
    if (!real.startsWith(root + sep)) return undefined;
    const stat = await fs.stat(real);
    return stat.isFile() ? { path: real, stat } : undefined;
  } catch {
    return undefined;
  }
}

function sendText(request, response, status, text, headers = {}) {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  response.end(request.method === 'HEAD' ? undefined : text);
}

function sendFile(request, response, status, file) {
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': file.stat.size,
    'Last-Modified': file.stat.mtime.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  pipeline(createReadStream(file.path), response, () => {});
}

async function notFound(request, response) {
  const page = await fileInRoot(join(root, '404.html'));
  if (page) sendFile(request, response, 404, page);
  else sendText(request, response, 404, 'Not Found\n');
}

async function handle(request, response) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(request, response, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  let path;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    sendText(request, response, 400, 'Bad Request\n');
    return;
  }
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\\')) {
    sendText(request, response, 400, 'Bad Request\n');
    return;
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment.startsWith('.'))) {
    await notFound(request, response);
    return;
  }
  const wanted = join(root, ...segments);
  let stat;
  try {
    stat = await fs.stat(wanted);
  } catch {
    await notFound(request, response);
    return;
  }
  if (stat.isDirectory()) {
    if (!path.endsWith('/')) {
      // Built from the checked segments, never from the raw path, so that `//host` cannot become an open redirect.
      const location = `/${segments.map(encodeURIComponent).join('/')}/${queryAt === -1 ? '' : target.slice(queryAt)}`;
      sendText(request, response, 301, `Moved Permanently: ${location}\n`, { Location: location });
      return;
    }
    const index = await fileInRoot(join(wanted, 'index.html'));
    if (index) sendFile(request, response, 200, index);
    else await notFound(request, response);
    return;
  }
  const file = await fileInRoot(wanted);
  if (file) sendFile(request, response, 200, file);
  else await notFound(request, response);
}

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    console.error(`static server: ${request.method} ${request.url}: ${error.message}`);
    if (!response.headersSent) sendText(request, response, 500, 'Internal Server Error\n');
    else response.destroy();
  });
});
// As a container's first process, Node.js would otherwise ignore SIGTERM and be killed only after the stop timeout.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
server.listen(port, host, () => {
  console.log(`static server: serving ${root} on port ${server.address().port}`);
});
