import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface DashboardAssets {
  /** Where the page's files were found, or undefined when they were not. */
  dir: string | undefined;
  page: Asset | undefined;
  /** By the path under /assets/: the page's own files, and uPlot's under "uplot/". */
  files: ReadonlyMap<string, Asset>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The files of uPlot the page loads, straight from its package: never copied, so an update of uplot is an update of the page. */
const UPLOT_FILES = ['uPlot.iife.min.js', 'uPlot.min.css'];

/**
 * Reads the page's files once, at start: a fixed list of names, so no request
 * path ever reaches the file system. The dashboard/ folder sits at the root
 * of the package, above src/ (or build/src/).
 */
export function loadDashboardAssets(): DashboardAssets {
  const dir = findDashboardDir(path.dirname(fileURLToPath(import.meta.url)));
  const files = new Map<string, Asset>();
  if (!dir) return { dir, page: undefined, files };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[path.extname(entry.name)];
    if (entry.isFile() && type && entry.name !== 'index.html') files.set(entry.name, asset(fs.readFileSync(path.join(dir, entry.name)), type));
  }
  const uplotDist = path.dirname(createRequire(import.meta.url).resolve('uplot'));
  for (const name of UPLOT_FILES) files.set(`uplot/${name}`, asset(fs.readFileSync(path.join(uplotDist, name)), TYPES[path.extname(name)]!));
  return { dir, page: asset(fs.readFileSync(path.join(dir, 'index.html')), TYPES['.html']!), files };
}

function findDashboardDir(from: string): string | undefined {
  for (let dir = from, depth = 0; depth < 8; dir = path.dirname(dir), depth++) {
    const candidate = path.join(dir, 'dashboard');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
