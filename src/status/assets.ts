/**
 * The status page's files, read once at start and served from memory: the
 * page (src/status/page/, copied next to this module by `npm run build`) and
 * uPlot's script and stylesheet from node_modules. Nothing comes from a CDN.
 *
 * Each asset's URL carries a hash of its content (?v=…), so browsers may
 * keep it for a year; the HTML itself is revalidated on every load (ETag).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

export interface StatusAssets {
  /** GET /status */
  page: Asset;
  /** GET /status/assets/<name> */
  files: ReadonlyMap<string, Asset>;
}

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function asset(body: Buffer, name: string): Asset {
  const ext = name.slice(name.lastIndexOf('.'));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  return { body, contentType: TYPES[ext] ?? 'application/octet-stream', etag };
}

/** dist/status/page (built), or src/status/page when running from a tree built without the copy step. */
function pageDir(): string {
  const built = fileURLToPath(new URL('./page/', import.meta.url));
  if (existsSync(built)) return built;
  const source = fileURLToPath(new URL('../../src/status/page/', import.meta.url));
  if (existsSync(source)) return source;
  throw new Error(`the status page's files are missing (${built}): run npm run build`);
}

export function loadAssets(): StatusAssets {
  const dir = pageDir();
  const files = new Map<string, Asset>();
  for (const name of ['status.js', 'status.css']) files.set(name, asset(readFileSync(dir + name), name));
  files.set('uPlot.iife.min.js', asset(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), 'uPlot.iife.min.js'));
  files.set('uPlot.min.css', asset(readFileSync(require.resolve('uplot/dist/uPlot.min.css')), 'uPlot.min.css'));
  // Point every asset reference at its content-hashed URL.
  const html = readFileSync(dir + 'index.html', 'utf8').replace(/\/status\/assets\/([\w.-]+)/g, (whole, name: string) => {
    const a = files.get(name);
    if (!a) throw new Error(`src/status/page/index.html names an unknown asset ${name}`);
    return `${whole}?v=${a.etag.slice(1, 11)}`;
  });
  return { page: asset(Buffer.from(html), 'index.html'), files };
}
