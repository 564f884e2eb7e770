#!/usr/bin/env node
// What a daemon costs: N daemons started at once (start → "ready" of each), formed into one
// team (invites from the first, joins one after the other), then idle CPU and memory per
// daemon over a window once settled. Real processes on 127.0.0.1, mDNS off. Prints figures,
// asserts nothing. An A/B tool for startup and idle work (issue #15, "cheaper daemons").
//
//   node bench/lean.js --n 5 [--settle 10] [--window 30] [--bin path/to/paired.js] [--solo]
//   PAIRED_BENCH_NODE_FLAGS='...': other node flags than bin/paired.js's (bench/node-flags.js)
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { apiClient } from './api.js'
import { NODE_FLAGS } from './node-flags.js'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '5' },
    settle: { type: 'string', default: '10' },
    window: { type: 'string', default: '30' },
    bin: { type: 'string', default: join(ROOT, 'bin', 'paired.js') },
    solo: { type: 'boolean', default: false }
  }
})
const N = Number(opt.n)
const homes = []
const procs = []
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const fmt = (n, d = 1) => Number(n).toFixed(d)
const pct = (v, p) => { const s = [...v].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] }

function start (home, name) {
  const t0 = performance.now()
  const proc = spawn(process.execPath, [...NODE_FLAGS, opt.bin, 'daemon', '--home', home, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns'], { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(proc)
  let log = ''
  return new Promise((resolve, reject) => {
    const onData = d => {
      log += d.toString()
      if (/\bready\b/.test(log)) resolve({ proc, home, name, readyMs: performance.now() - t0 })
    }
    proc.stderr.on('data', onData)
    proc.stdout.on('data', onData)
    proc.on('exit', code => { reject(new Error(`${name} exited ${code}:\n${log}`)) })
  })
}

const clients = new Map()
/** `path` under /api/v1/; one client per daemon */
async function api (d, method, path, body) {
  if (!clients.has(d.home)) clients.set(d.home, apiClient(d.home))
  return await (await clients.get(d.home)).call(method, path, body)
}

async function ticks (pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12])
}

async function memory (pid) {
  const t = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = k => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(t)?.[1] ?? 0) / 1024
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
}

async function connections (d) {
  const peers = await api(d, 'GET', 'peers')
  return peers.filter(p => p.connected === true).length
}

// a run cut short (timeout, ^C) still stops its daemons
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const p of procs) p.kill('SIGKILL')
    for (const h of homes) void rm(h, { recursive: true, force: true }).catch(() => {})
    setTimeout(() => process.exit(130), 200)
  })
}

try {
  for (let i = 0; i < N; i++) homes.push(await mkdtemp(join(tmpdir(), `paired-lean-${i}-`)))
  const ds = await Promise.all(homes.map((h, i) => start(h, `l${i}`)))
  const ready = ds.map(d => d.readyMs)
  console.log(`start → ready, ${N} at once: median ${fmt(pct(ready, 50), 0)} ms, max ${fmt(Math.max(...ready), 0)} ms`)
  if (!opt.solo && N > 1) {
    await api(ds[0], 'POST', 'team/create', { name: 'lean' })
    const t0 = performance.now()
    for (const d of ds.slice(1)) {
      // a join that times out (a busy machine) is tried again, up to three times
      for (let attempt = 1; ; attempt++) {
        try {
          const { token } = await api(ds[0], 'POST', 'team/invites', {})
          await api(d, 'POST', 'team/join', { token })
          break
        } catch (err) {
          if (attempt === 3) throw err
          console.log(`join of ${d.name} failed (${err.message.slice(0, 80)}), again`)
        }
      }
    }
    for (;;) {
      const counts = await Promise.all(ds.map(async d => (await api(d, 'GET', 'team/members')).length))
      if (counts.every(c => c === N)) break
      await sleep(200)
    }
    console.log(`joins → every daemon lists ${N} members: ${fmt((performance.now() - t0) / 1000, 1)} s`)
  }
  await sleep(Number(opt.settle) * 1000)
  const before = await Promise.all(ds.map(d => ticks(d.proc.pid)))
  const t0 = performance.now()
  await sleep(Number(opt.window) * 1000)
  const secs = (performance.now() - t0) / 1000
  const after = await Promise.all(ds.map(d => ticks(d.proc.pid)))
  const cpu = after.map((x, i) => (x - before[i]) / secs)
  const mem = await Promise.all(ds.map(d => memory(d.proc.pid)))
  const conns = opt.solo ? [] : await Promise.all(ds.map(connections))
  console.log(`idle CPU per daemon (${fmt(secs, 0)} s): median ${fmt(pct(cpu, 50), 2)} %, max ${fmt(Math.max(...cpu), 2)} %`)
  console.log(`RSS per daemon: median ${fmt(pct(mem.map(m => m.rss), 50))} MB (anon ${fmt(pct(mem.map(m => m.anon), 50))}, file ${fmt(pct(mem.map(m => m.file), 50))}), max ${fmt(Math.max(...mem.map(m => m.rss)))} MB`)
  if (conns.length > 0) console.log(`connected members per daemon: median ${pct(conns, 50)}, min ${Math.min(...conns)}, max ${Math.max(...conns)}`)
  console.log(`load average ${loadavg().map(x => fmt(x, 2)).join(' ')}`)
} finally {
  for (const p of procs) { p.removeAllListeners('exit'); p.kill('SIGTERM') }
  await sleep(1500)
  for (const p of procs) if (p.exitCode == null) p.kill('SIGKILL')
  for (const h of homes) await rm(h, { recursive: true, force: true }).catch(() => {})
}
