#!/usr/bin/env -S node --max-semi-space-size=1 --no-memory-reducer
import '../dist/polyfill.js'
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
