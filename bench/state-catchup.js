#!/usr/bin/env node
// Catch-up and live propagation alone, on two real daemons (127.0.0.1, mDNS off, the flags
// of `npm start`): the rows of `npm run bench -- state` that issue #14 sets targets for,
// without the rest of that section, and runnable against another build for an A/B on the
// same machine in the same minutes. Prints figures; asserts nothing. After `npm run build`:
//   node bench/state-catchup.js [--ops 100000] [--trials 2] [--live 200] [--root /work/main] [--json]
//   PAIRED_BENCH_CPU_PROF=/tmp/prof node bench/state-catchup.js   (each daemon writes a V8 CPU profile when it stops)
// A: writes `--ops` kv keys (set-many of 1,000, the values of the state section) while B is
// stopped; B restarts; "caught up" = B's state digest equals A's, then the full state hash
// is compared. Each trial adds `--ops` more keys.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { apiClient } from './api.js'
import { startDaemonProcess, stopDaemonProcess } from './daemon-proc.js'
import { readEvents } from './sse.js'

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '100000' },
    trials: { type: 'string', default: '2' },
    live: { type: 'string', default: '200' },
    // the build whose daemons run (its bin/ and dist/): an A/B against another worktree
    root: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})
if (args.help) {
  console.log('node bench/state-catchup.js [--ops 100000] [--trials 2] [--live 200] [--root DIR] [--json]')
  process.exit(0)
}
const ROOT = resolve(args.root ?? new URL('..', import.meta.url).pathname)
const BIN = join(ROOT, 'bin', 'paired.js')
const N = Number(args.ops)
const homes = []
const procs = []

const pct = (values, p) => { const s = [...values].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }
const fmt = (n, d = 1) => Number(n).toFixed(d)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function home (label) {
  const h = await mkdtemp(join(tmpdir(), `paired-bench-${label}-`))
  homes.push(h)
  return h
}

// the daemon flags of the build under test, whatever this checkout ships
function startDaemon (h, name) {
  return startDaemonProcess({ bin: BIN, home: h, name, procs, flags: ['--max-semi-space-size=1', '--no-memory-reducer'] })
}

const stop = stopDaemonProcess

/** one call to `d`'s API (bench/api.js), `path` under /api/v1/ */
async function api (d, method, path, body) {
  d.client ??= await apiClient(d.home)
  return await d.client.call(method, path.replace(/^\/api\/v1\//, ''), body)
}

async function allConnected (daemons) {
  for (;;) {
    const lists = await Promise.all(daemons.map(d => api(d, 'GET', '/api/v1/team/members')))
    if (lists.every(m => m.length === daemons.length && m.every(x => x.connected))) return
    await sleep(10)
  }
}

async function cpuTicks (pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime + stime, in ticks of 10 ms
}

const loRxBytes = () => readFile('/sys/class/net/lo/statistics/rx_bytes', 'utf8').then(Number)

async function waitSameState (d, ref) {
  const want = await api(ref, 'GET', '/api/v1/status')
  while ((await api(d, 'GET', '/api/v1/status')).stateDigest !== want.stateDigest) await sleep(5)
  const got = await api(d, 'GET', '/api/v1/status')
  if (got.stateHash !== want.stateHash) throw new Error(`same ops but different state hash: ${got.stateHash} ≠ ${want.stateHash}`)
}

async function main () {
  const [a, b] = await Promise.all([startDaemon(await home('ca'), 'ca'), startDaemon(await home('cb'), 'cb')])
  await api(a, 'POST', '/api/v1/team/create', { name: 'catchup' })
  const { token } = await api(a, 'POST', '/api/v1/team/invites', {})
  await api(b, 'POST', '/api/v1/team/join', { token })
  await allConnected([a, b])
  const out = { root: ROOT, ops: N, catchup: [], live: undefined, load: [] }
  out.load.push(loadavg()[0])

  // live: a write on A (acknowledged = durable) → kv:changed on B
  const samples = Number(args.live)
  if (samples > 0) {
    const waiting = new Map()
    const token = (await readFile(join(b.home, 'api.token'), 'utf8')).trim()
    const close = await readEvents({ socketPath: join(b.home, 'api.sock'), token, onEvent: (type, data) => { if (type === 'kv:changed') waiting.get(data.key)?.() } })
    const live = []
    for (let i = 0; i < samples + 20; i++) {
      const key = `live/${i}`
      const seen = new Promise(resolve => waiting.set(key, resolve))
      const t = performance.now()
      await api(a, 'POST', '/api/v1/kv/set', { key, value: i })
      await seen
      if (i >= 20) live.push(performance.now() - t)
    }
    close()
    out.live = { p50: pct(live, 50), p99: pct(live, 99), samples }
    console.error(`live write on A → kv:changed on B: p50 ${fmt(out.live.p50, 2)} ms, p99 ${fmt(out.live.p99, 2)} ms`)
  }

  let bProc = b
  for (let trial = 0; trial < Number(args.trials); trial++) {
    await stop(bProc)
    for (let r = 0; r < N / 1000; r++) {
      await api(a, 'POST', '/api/v1/kv/set-many', { entries: Array.from({ length: 1000 }, (_, i) => ({ key: `up${trial}/${r}/${i}`, value: { i, r, note: 'catch-up payload' } })) })
    }
    await sleep(500)
    bProc = await startDaemon(b.home, b.name)
    const rx0 = await loRxBytes()
    const cpuB0 = await cpuTicks(bProc.proc.pid)
    const cpuA0 = await cpuTicks(a.proc.pid)
    const t = performance.now()
    await waitSameState(bProc, a)
    const secs = (performance.now() - t) / 1000
    const mb = ((await loRxBytes()) - rx0) / 1048576
    const cpuB = ((await cpuTicks(bProc.proc.pid)) - cpuB0) / 100
    const cpuA = ((await cpuTicks(a.proc.pid)) - cpuA0) / 100
    const row = { secs, opsPerSec: N / secs, mbPerSec: mb / secs, mb, cpuB, opsPerCpuSecB: N / cpuB, cpuA, load: loadavg()[0] }
    out.catchup.push(row)
    console.error(`catch-up of ${N.toLocaleString('en')} ops: ${fmt(secs * 1000, 0)} ms, ${fmt(row.opsPerSec, 0)} ops/s, ${fmt(row.mbPerSec, 1)} MB/s on lo (${fmt(mb, 1)} MB); B's CPU ${fmt(cpuB, 2)} s = ${fmt(row.opsPerCpuSecB, 0)} ops per CPU second; A's (the server) ${fmt(cpuA, 2)} s; load ${fmt(row.load, 2)}`)
  }
  await Promise.all([stop(a), stop(bProc)])
  if (args.json) console.log(JSON.stringify(out))
}

try {
  await main()
} finally {
  for (const p of procs) if (p.exitCode == null && p.signalCode == null) p.kill('SIGKILL')
  await Promise.all(homes.map(h => rm(h, { recursive: true, force: true })))
}
