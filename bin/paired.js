#!/usr/bin/env -S node --max-semi-space-size=1 --no-memory-reducer
import { statSync } from 'node:fs'
import '../dist/polyfill.js'

// the bundle of `npm run build` (scripts/bundle.js) starts in a third of the time; the
// modules tsc wrote serve when it is missing or older than them (a bare `tsc` since)
const built = name => statSync(new URL(`../dist/${name}`, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1
const entry = built('bundle/main.js') >= built('cli/main.js') ? '../dist/bundle/main.js' : '../dist/cli/main.js'
const { main } = await import(entry)

process.exitCode = await main(process.argv.slice(2))
