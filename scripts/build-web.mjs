#!/usr/bin/env node
// Builds the web apps (storefront + admin portal) into web/dist, which the API process serves.
//
//   node scripts/build-web.mjs            build now
//   node scripts/build-web.mjs --if-stale build only when web/dist is missing or older than its sources
//
// The build goes to a temporary folder and is swapped in whole, under a lock, so a server (or a
// second test file building at the same time) never sees a half-written dist. Every text asset gets
// a .gz sibling, which the server sends to clients that accept gzip.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(repo, 'web');
const dist = join(web, 'dist');
const stampFile = join(dist, 'build.json');
const lockDir = join(web, '.build-lock');
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt|map)$/;
// Sources outside web/ that the apps import (the permission table is shared with the server).
// This script too: a change to how the build is made is a reason to build again.
const EXTRA_SOURCES = [join(repo, 'src/kernel/auth/permissions.ts'), join(repo, 'package-lock.json'), fileURLToPath(import.meta.url)];

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' && dir === web) continue;
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

/** A fingerprint of every source: a rebuild happens when any file changes, is added or removed. */
function sourceFingerprint() {
  const hash = createHash('sha256');
  for (const file of [...walk(web), ...EXTRA_SOURCES.filter(existsSync)].sort()) {
    const { size, mtimeMs } = statSync(file);
    hash.update(`${relative(repo, file)}:${size}:${Math.floor(mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

export function isStale() {
  if (!existsSync(stampFile)) return true;
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8')).sources !== sourceFingerprint();
  } catch {
    return true;
  }
}

async function withLock(work) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock older than the longest build is left over from a killed process.
      if (Date.now() - statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs > 300_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`web build: ${lockDir} is held by another build`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function gzipAssets(dir) {
  const sizes = {};
  for (const file of walk(dir)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const raw = readFileSync(file);
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(`${file}.gz`, gz);
    sizes[relative(dir, file)] = { bytes: raw.length, gzip: gz.length };
  }
  return sizes;
}

/** JS an app's first page load fetches: its entry chunk and every chunk that imports statically. */
function initialJs(dir, htmlFile, sizes) {
  const html = readFileSync(join(dir, htmlFile), 'utf8');
  const files = new Set();
  for (const [, src] of html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)) files.add(src);
  for (const [, src] of html.matchAll(/<link[^>]*\shref="\/([^"]+\.js)"[^>]*rel="modulepreload"/g)) files.add(src);
  const list = [...files];
  return { files: list, gzip: list.reduce((sum, f) => sum + (sizes[f]?.gzip ?? 0), 0), bytes: list.reduce((sum, f) => sum + (sizes[f]?.bytes ?? 0), 0) };
}

export async function buildWeb({ quiet = false } = {}) {
  // Vite honours an inherited NODE_ENV (vitest sets `test`), which would ship React's development
  // build: several times larger and slower. What the server serves is always a production build.
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  const sources = sourceFingerprint();
  const tmp = join(web, `.dist-${process.pid}-${Date.now()}`);
  try {
    await build({
      configFile: join(web, 'vite.config.ts'),
      logLevel: quiet ? 'warn' : 'info',
      build: { outDir: tmp, emptyOutDir: true },
    });
    const sizes = gzipAssets(tmp);
    const report = {
      builtAt: new Date().toISOString(),
      sources,
      initialJs: { shop: initialJs(tmp, 'index.html', sizes), admin: initialJs(tmp, 'admin/index.html', sizes) },
      assets: sizes,
    };
    writeFileSync(join(tmp, 'build.json'), `${JSON.stringify(report, null, 2)}\n`);
    const old = join(web, `.dist-old-${process.pid}-${Date.now()}`);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(tmp, dist);
    rmSync(old, { recursive: true, force: true });
    return report;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function main(args) {
  const ifStale = args.includes('--if-stale');
  const quiet = args.includes('--quiet');
  if (ifStale && !isStale()) {
    if (!quiet) process.stdout.write('web apps are up to date (web/dist)\n');
    return;
  }
  const report = await withLock(async () => {
    // Someone else may have built while this process waited for the lock.
    if (ifStale && !isStale()) return null;
    return buildWeb({ quiet });
  });
  if (report) {
    const { shop, admin } = report.initialJs;
    process.stdout.write(`web apps built: storefront initial JS ${kb(shop.gzip)} gzipped (${kb(shop.bytes)} raw), admin ${kb(admin.gzip)} gzipped\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`build-web: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
