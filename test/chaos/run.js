/**
 * `npm run chaos -- [NAME] [--minutes N]`: runs one long chaos test of test/chaos/.
 *
 *   flapping   (the default) no false dead over N minutes (PAIRED_CHAOS_MINUTES, default 10)
 *   lifecycle  the lifecycle model test for N minutes (PAIRED_LIFECYCLE_MINUTES, default 30)
 *   partition  partition and heal; --minutes N sets PAIRED_PARTITION_SECONDS to N x 60
 *
 * Any other PAIRED_* variable in the environment is passed through (for example
 * PAIRED_LIFECYCLE_SEED to replay a lifecycle run).
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** each test: its file, and the environment that sets its length from --minutes (or its default) */
const TESTS = {
  flapping: { file: 'flapping.test.ts', env: m => ({ PAIRED_CHAOS_MINUTES: String(m ?? process.env.PAIRED_CHAOS_MINUTES ?? 10) }) },
  lifecycle: { file: 'lifecycle.test.ts', env: m => ({ PAIRED_LIFECYCLE_MINUTES: String(m ?? process.env.PAIRED_LIFECYCLE_MINUTES ?? 30) }) },
  partition: { file: 'partition.test.ts', env: m => (m != null ? { PAIRED_PARTITION_SECONDS: String(Math.round(m * 60)) } : {}) }
}

function usage (message) {
  console.error(`${message}\nusage: npm run chaos -- [${Object.keys(TESTS).join('|')}] [--minutes N]`)
  process.exit(2)
}

const args = process.argv.slice(2)
let name = 'flapping'
let minutes
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--minutes' || a.startsWith('--minutes=')) {
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i]
    minutes = Number(v)
    if (v == null || v === '' || !Number.isFinite(minutes) || minutes <= 0) usage(`--minutes needs a number above 0, got ${v ?? 'nothing'}`)
  } else if (a === '--help' || a === '-h') {
    usage('runs one long chaos test')
  } else if (!a.startsWith('-') && Object.hasOwn(TESTS, a)) {
    name = a
  } else {
    usage(`unknown argument ${a}`)
  }
}

const test = TESTS[name]
const env = { ...process.env, ...test.env(minutes) }
const vitest = join(here, '..', '..', 'node_modules', 'vitest', 'vitest.mjs')
const child = spawn(process.execPath, [vitest, 'run', join('test', 'chaos', test.file)], { stdio: 'inherit', env, cwd: join(here, '..', '..') })
child.on('exit', (code, signal) => { process.exit(code ?? (signal != null ? 1 : 0)) })
