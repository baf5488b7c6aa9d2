#!/usr/bin/env node
// Where the bytes of a WASM file go, by crate: the size of each function's
// body in the code section, named from the `name` section (present in the
// cargo output before wasm-bindgen and wasm-opt, e.g.
// target/front/wasm32-unknown-unknown/wasm-release/neosc.wasm), grouped by
// the crate the (demangled) symbol path starts with; plus the data and
// other sections. A dependency-free stand-in for `twiggy top`.
//
// Usage: node scripts/wasm-sizes.mjs FILE.wasm [TOP]   (TOP functions listed, default 25)
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const buf = readFileSync(file);
let pos = 8;
function uleb() {
  let result = 0, shift = 0, byte;
  do { byte = buf[pos++]; result += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return result;
}
function str() { const n = uleb(); const s = buf.toString('utf8', pos, pos + n); pos += n; return s; }

const sections = {};
let importedFuncs = 0;
const bodies = [];
const names = new Map();
while (pos < buf.length) {
  const id = buf[pos++];
  const size = uleb();
  const start = pos, end = pos + size;
  let label = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'][id] ?? `id${id}`;
  if (id === 0) {
    const name = str();
    label = `custom:${name}`;
    if (name === 'name') {
      while (pos < end) {
        const sub = buf[pos++]; const len = uleb(); const subEnd = pos + len;
        if (sub === 1) { const count = uleb(); for (let i = 0; i < count; i++) { const idx = uleb(); names.set(idx, str()); } }
        pos = subEnd;
      }
    }
  } else if (id === 2) {
    const count = uleb();
    for (let i = 0; i < count; i++) {
      str(); str(); const kind = buf[pos++];
      if (kind === 0) { uleb(); importedFuncs++; }
      else if (kind === 1) { pos++; const flags = uleb(); uleb(); if (flags & 1) uleb(); }
      else if (kind === 2) { const flags = uleb(); uleb(); if (flags & 1) uleb(); }
      else if (kind === 3) { pos += 2; }
    }
  } else if (id === 10) {
    const count = uleb();
    for (let i = 0; i < count; i++) { const len = uleb(); bodies.push(len); pos += len; }
  }
  sections[label] = (sections[label] ?? 0) + size;
  pos = end;
}

// Demangled-enough crate of a symbol: `_ZN5serde3de...` (legacy) or a
// plain path `tachys::view::...` / `<T as leptos::...>`.
function crateOf(name) {
  if (!name) return '(unnamed)';
  const legacy = name.match(/^_ZN(\d+)/);
  if (legacy) return name.substr(legacy.index + 3 + legacy[1].length - 0, Number(legacy[1])) || '(mangled)';
  const m = name.replace(/^[<&\s]+/, '').match(/^([A-Za-z_][A-Za-z0-9_]*)::/);
  return m ? m[1] : name.startsWith('<') ? '(impl)' : `(${name.split(/[^A-Za-z0-9_]/)[0] || 'other'})`;
}

const byCrate = new Map();
const funcs = bodies.map((len, i) => ({ len, name: names.get(importedFuncs + i) ?? '' }));
for (const f of funcs) byCrate.set(crateOf(f.name), (byCrate.get(crateOf(f.name)) ?? 0) + f.len);
const total = buf.length;
const pct = (n) => ((100 * n) / total).toFixed(1).padStart(5) + ' %';
console.log(`${file}: ${total} bytes, ${funcs.length} functions`);
console.log('\nsections:');
for (const [k, v] of Object.entries(sections).sort((a, b) => b[1] - a[1])) console.log(`${String(v).padStart(10)} ${pct(v)}  ${k}`);
console.log('\ncode by crate:');
for (const [k, v] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${String(v).padStart(10)} ${pct(v)}  ${k}`);
console.log(`\nlargest ${top} functions:`);
for (const f of funcs.sort((a, b) => b.len - a.len).slice(0, top)) console.log(`${String(f.len).padStart(10)} ${pct(f.len)}  ${f.name.slice(0, 160)}`);
