// The V8 flags a daemon runs with, for every bench that starts daemons or stock nodes beside
// them: read from bin/paired.js's shebang (`#!/usr/bin/env -S node FLAGS`), so a bench
// measures what ships and nothing here goes stale when the shipped flags change.
// PAIRED_BENCH_NODE_FLAGS='--max-semi-space-size=16 ...' replaces them (an A/B of flags).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function shipped () {
  const first = readFileSync(fileURLToPath(new URL('../bin/paired.js', import.meta.url)), 'utf8').split('\n')[0]
  const m = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(first)
  if (m == null) throw new Error(`bin/paired.js: no node flags in its first line: ${first}`)
  return m[1].split(/\s+/).filter(f => f !== '')
}

const override = process.env.PAIRED_BENCH_NODE_FLAGS
/** the daemon's node flags, as an argv list */
export const NODE_FLAGS = override != null && override.trim() !== '' ? override.trim().split(/\s+/) : shipped()
