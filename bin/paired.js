#!/usr/bin/env -S node --max-semi-space-size=1 --no-memory-reducer --v8-pool-size=1
// the flags: a 1 MB young generation and no idle-time GC (less RSS, no idle wakeups), and one
// V8 helper thread instead of four (~3.5 MB less RSS per daemon on a 2-core box, no CPU
// cost found: bench/lean.js); bench/node-flags.js reads them from this line
import { statSync } from 'node:fs'
import '../dist/polyfill.js'

// the bundle of `npm run build` (scripts/bundle.js) starts in a third of the time; the
// modules tsc wrote serve when it is missing or older than them (a bare `tsc` since)
const built = name => statSync(new URL(`../dist/${name}`, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1
const entry = built('bundle/main.js') >= built('cli/main.js') ? '../dist/bundle/main.js' : '../dist/cli/main.js'
const { main } = await import(entry)

process.exitCode = await main(process.argv.slice(2))
