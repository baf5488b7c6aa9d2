#!/usr/bin/env node
// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip -9) next to
// every compressible file of the built site, once at build time, so the
// server sends them as they are (tower-http ServeDir::precompressed_br /
// precompressed_gzip, src/server/assets.rs) instead of compressing the
// bundle on every request or not at all. Run by `make build` after
// `cargo leptos build --release`. Node's zlib has brotli built in: no
// package needed. A variant that would not be smaller is not written (the
// server then sends the plain file).
//
// Usage: node scripts/precompress.mjs [SITE_ROOT]   (default target/site)
import { readdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join, extname, relative } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = process.argv[2] ?? 'target/site';
// Already compressed formats (png, woff2, …) gain nothing.
const compressible = new Set(['.wasm', '.js', '.mjs', '.css', '.svg', '.html', '.json', '.txt', '.xml', '.map', '.ico']);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

if (!existsSync(root)) {
  console.error(`precompress: ${root} does not exist; build the site first (make build)`);
  process.exit(1);
}

let count = 0;
for (const path of files(root)) {
  if (path.endsWith('.br') || path.endsWith('.gz') || !compressible.has(extname(path))) continue;
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [constants.BROTLI_PARAM_MODE]: extname(path) === '.wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  for (const [suffix, bytes] of [['.br', br], ['.gz', gz]]) {
    if (bytes.length < raw.length) writeFileSync(path + suffix, bytes);
    else rmSync(path + suffix, { force: true });
  }
  count += 1;
  console.log(`precompress: ${relative(root, path)}: ${raw.length} B, gzip ${gz.length} B, brotli ${br.length} B`);
}
console.log(`precompress: ${count} files under ${root}`);
