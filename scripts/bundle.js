#!/usr/bin/env node
// `npm run build`'s second step: dist/cli/main.js and everything it imports, bundled into a
// few files under dist/bundle/ that bin/paired.js loads. Loading ~1,600 ES modules one by
// one (resolve, stat, open, read, compile each) was ~85 % of a daemon's start → ready, and
// with many daemons started at once on a small machine the CPU it takes is what delays
// them all. The daemon's part stays a chunk of its own, loaded by `paired daemon` only
// (src/cli/commands/daemon.ts imports it dynamically), so a CLI command does not pay for it.
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const OUT = join(ROOT, 'dist', 'bundle')

await rm(OUT, { recursive: true, force: true })
await build({
  input: { main: join(ROOT, 'dist', 'cli', 'main.js') },
  platform: 'node',
  // LevelDB's binding finds its native addon next to its own files (node-gyp-build, __dirname)
  external: [/^classic-level(\/|$)/, /^level(\/|$)/],
  logLevel: 'warn',
  // chunks stay two folders below the package root: src/model/version.ts reads
  // `../../package.json` relative to its own module
  output: {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // V8 keeps each module's source in memory for as long as the process runs: one
    // character outside Latin-1 makes it a two-byte string (5.5 MB instead of 2.8), and
    // JSDoc is most of the rest. License comments stay.
    charset: 'ascii',
    comments: { legal: true, annotation: true, jsdoc: false }
  }
})
