#!/usr/bin/env node
// `npm run bench`: real daemon processes on 127.0.0.1 (mDNS off), figures printed as a
// Markdown table. Nothing here asserts a time; it reports numbers. Each run first measures
// raw libp2p references (bench/reference.js) on the same machine at the same time, and a
// figure that names one (`add(what, figure, note, { kind, value })`) is printed beside it
// with the ratio: on a busy 2-core machine the figures move 10-60 % between runs, and a
// reference taken beside them moves with them.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tasksBench } from './tasks.js'
import { floodBench } from './flood.js'
import { REFERENCE_KINDS, formatReferences, referenceOf, references } from './reference.js'
import { gossipBench } from './gossip.js'
import { readEvents } from './sse.js'
import { membershipBench } from './membership.js'
import { startDaemonProcess, stopDaemonProcess } from './daemon-proc.js'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'paired.js')
const homes = []
const procs = []

function pct (values, p) {
  const s = [...values].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const median = v => pct(v, 50)
const fmt = (n, d = 1) => Number(n).toFixed(d)

async function home (label) {
  const h = await mkdtemp(join(tmpdir(), `paired-bench-${label}-`))
  homes.push(h)
  return h
}

function startDaemon (h, name, { netns, mdns = false } = {}) {
  return startDaemonProcess({ bin: BIN, home: h, name, procs, netns, mdns })
}

const stop = stopDaemonProcess

async function api (d, method, path, body) {
  // 2,000 connects at once overflow the socket's listen backlog on a busy machine (EAGAIN):
  // such a connect never reached the daemon, so it is tried again
  for (let attempt = 0; ; attempt++) {
    try {
      return await apiOnce(d, method, path, body)
    } catch (err) {
      if (err.code !== 'EAGAIN' || attempt >= 100) throw err
      await new Promise(resolve => setTimeout(resolve, 5 + Math.random() * 20))
    }
  }
}

async function apiOnce (d, method, path, body) {
  const token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  const payload = body != null ? JSON.stringify(body) : undefined
  return await new Promise((resolve, reject) => {
    const req = request({
      socketPath: join(d.home, 'api.sock'),
      method,
      path,
      headers: { host: 'localhost', authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    }, res => {
      let text = ''
      res.on('data', c => { text += c })
      res.on('end', () => {
        const parsed = text === '' ? null : JSON.parse(text)
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
        else resolve(parsed)
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function rssMb (pid) {
  return readFile(`/proc/${pid}/status`, 'utf8').then(t => Number(/VmRSS:\s+(\d+)/.exec(t)[1]) / 1024)
}

async function allConnected (daemons) {
  for (;;) {
    let ok = true
    for (const d of daemons) {
      const members = await api(d, 'GET', '/api/v1/team/members')
      if (members.length !== daemons.length || !members.every(m => m.connected)) ok = false
    }
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** mDNS inside a namespace this bench creates (only lo up) and deletes: join by discovery */
async function mdnsBench (add) {
  if (process.getuid?.() !== 0) { add('mDNS discovery → member connected', 'skipped', 'needs root for a network namespace'); return }
  const ns = `paired-bench-${process.pid}`
  const run = (...a) => new Promise((resolve, reject) => spawn('ip', a, { stdio: 'ignore' }).on('exit', c => c === 0 ? resolve() : reject(new Error(`ip ${a.join(' ')}: ${c}`))))
  await run('netns', 'add', ns)
  try {
    await run('-n', ns, 'link', 'set', 'lo', 'up')
    const times = []
    for (let i = 0; i < 5; i++) {
      const [x, y] = await Promise.all([startDaemon(await home('mx'), 'mx', { netns: ns, mdns: true }), startDaemon(await home('my'), 'my', { netns: ns, mdns: true })])
      await api(x, 'POST', '/api/v1/team/create', { name: `lan${i}` })
      const { token } = await api(x, 'POST', '/api/v1/team/invites', { addresses: false })
      const t0 = performance.now()
      await api(y, 'POST', '/api/v1/team/join', { token })
      await allConnected([x, y])
      times.push(performance.now() - t0)
      await Promise.all([stop(x), stop(y)])
    }
    add('mDNS: address-less join → connected member (discovery + dial + hello), 5 runs', `median ${fmt(median(times), 0)} ms`, `max ${fmt(Math.max(...times), 0)} ms`)
  } finally {
    await run('netns', 'del', ns).catch(() => {})
  }
}

async function cpuTicks (pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime + stime, in clock ticks (100/s)
}

async function stateOn (viewer, peerId) {
  return (await api(viewer, 'GET', '/api/v1/peers')).find(p => p.peerId === peerId)?.state
}

/** five daemons: idle CPU, then kill -9 one repeatedly and time its detection */
async function presenceBench (add) {
  // a lone daemon (its personal team) idles beside the team, measured over the same
  // window: the reference for what the team itself costs, on the same machine and load
  const [lone, ...ds] = await Promise.all(['lone', 'f1', 'f2', 'f3', 'f4', 'f5'].map(async n => startDaemon(await home(n), n)))
  await api(ds[0], 'POST', '/api/v1/team/create', { name: 'presence' })
  for (const d of ds.slice(1)) {
    const { token } = await api(ds[0], 'POST', '/api/v1/team/invites', {})
    await api(d, 'POST', '/api/v1/team/join', { token })
  }
  await allConnected(ds)
  // idle means settled: meshes grafted, first DHT queries and catch-up pulls done
  await new Promise(resolve => setTimeout(resolve, 10_000))
  const watched = [...ds, lone]
  const before = await Promise.all(watched.map(d => cpuTicks(d.proc.pid)))
  const t0 = performance.now()
  await new Promise(resolve => setTimeout(resolve, 30_000))
  const secs = (performance.now() - t0) / 1000
  const after = await Promise.all(watched.map(d => cpuTicks(d.proc.pid)))
  const cpu = after.map((x, i) => (x - before[i]) / secs) // ticks/s = % of one core
  const team = cpu.slice(0, ds.length)
  add('idle CPU per daemon, team of 5, 30 s (10 s after forming)', `${team.map(x => fmt(x, 2)).join(' / ')} % of a core`, `max ${fmt(Math.max(...team), 2)} %; a lone daemon alongside: ${fmt(cpu[ds.length], 2)} %`)
  await stop(lone)

  const detections = []
  for (let trial = 0; trial < 5; trial++) {
    const victim = ds[4]
    const victimId = (await api(victim, 'GET', '/api/v1/status')).peerId
    const survivors = ds.slice(0, 4)
    victim.proc.removeAllListeners('exit')
    const killedAt = performance.now()
    victim.proc.kill('SIGKILL')
    await Promise.all(survivors.map(async s => {
      while ((await stateOn(s, victimId)) !== 'dead') await new Promise(resolve => setTimeout(resolve, 20))
      detections.push(performance.now() - killedAt)
    }))
    ds[4] = await startDaemon(victim.home, victim.name)
    await allConnected(ds)
    while (!(await Promise.all(survivors.map(s => stateOn(s, victimId)))).every(x => x === 'alive')) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await new Promise(resolve => setTimeout(resolve, 3_000))
  }
  add('kill -9 → marked dead, 5 trials × 4 survivors', `p50 ${fmt(median(detections) / 1000, 2)} s`, `max ${fmt(Math.max(...detections) / 1000, 2)} s`)

  const leaver = ds[3]
  const leaverId = (await api(leaver, 'GET', '/api/v1/status')).peerId
  const stoppedAt = performance.now()
  const stopping = stop(leaver)
  const lefts = await Promise.all([ds[0], ds[1], ds[2]].map(async s => {
    while ((await stateOn(s, leaverId)) !== 'left') await new Promise(resolve => setTimeout(resolve, 10))
    return performance.now() - stoppedAt
  }))
  await stopping
  add('graceful stop → shown as left, 3 survivors', lefts.map(x => `${fmt(x, 0)} ms`).join(', '), 'ratio: the median, one departure message over gossip', { kind: 'rtt', value: median(lefts) })
  await Promise.all([ds[0], ds[1], ds[2], ds[4]].map(stop))
}

/** server-sent events of a daemon: calls onEvent(type, data) until stopped */
async function events (d, onEvent) {
  const token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  return await readEvents({ socketPath: join(d.home, 'api.sock'), token, onEvent })
}

function loRxBytes () {
  return readFile('/sys/class/net/lo/statistics/rx_bytes', 'utf8').then(Number)
}

/** until `d` holds the same ops as `ref` (cheap digest polls), then check the full hash */
async function waitSameState (d, ref) {
  const want = await api(ref, 'GET', '/api/v1/status')
  for (;;) {
    if ((await api(d, 'GET', '/api/v1/status')).stateDigest === want.stateDigest) break
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const got = await api(d, 'GET', '/api/v1/status')
  if (got.stateHash !== want.stateHash) throw new Error(`same ops but different state hash: ${got.stateHash} ≠ ${want.stateHash}`)
}

/** replicated state: local writes, live propagation, catch-up after being offline */
async function stateBench (add) {
  const [a, b] = await Promise.all([startDaemon(await home('sa'), 'sa'), startDaemon(await home('sb'), 'sb')])
  await api(a, 'POST', '/api/v1/team/create', { name: 'state' })
  const { token } = await api(a, 'POST', '/api/v1/team/invites', {})
  await api(b, 'POST', '/api/v1/team/join', { token })
  await allConnected([a, b])

  // local writes through the API (each acknowledged = fsync'd)
  let t0 = performance.now()
  const lat = []
  for (let i = 0; i < 500; i++) {
    const t = performance.now()
    await api(a, 'POST', '/api/v1/kv/set', { key: `w/${i}`, value: i })
    lat.push(performance.now() - t)
  }
  add('local write, one key per request, sequential (API, durable)', `${fmt(500 / ((performance.now() - t0) / 1000), 0)} ops/s`, `p50 ${fmt(median(lat), 2)} ms`)
  t0 = performance.now()
  await Promise.all(Array.from({ length: 2000 }, (_, i) => api(a, 'POST', '/api/v1/kv/set', { key: `c/${i}`, value: i })))
  add('local write, one key per request, 2,000 concurrent (group commit)', `${fmt(2000 / ((performance.now() - t0) / 1000), 0)} ops/s`)
  t0 = performance.now()
  for (let r = 0; r < 20; r++) {
    await api(a, 'POST', '/api/v1/kv/set-many', { entries: Array.from({ length: 1000 }, (_, i) => ({ key: `m/${r}/${i}`, value: i })) })
  }
  add('local write, set-many of 1,000 keys (API)', `${fmt(20000 / ((performance.now() - t0) / 1000), 0)} ops/s`)
  await waitSameState(b, a)

  // live: write on A, kv:changed on B
  const waiting = new Map()
  const close = await events(b, (type, data) => {
    if (type === 'kv:changed') waiting.get(data.key)?.()
  })
  const live = []
  for (let i = 0; i < 200; i++) {
    const key = `live/${i}`
    const seen = new Promise(resolve => waiting.set(key, resolve))
    const t = performance.now()
    await api(a, 'POST', '/api/v1/kv/set', { key, value: i })
    await seen
    live.push(performance.now() - t)
  }
  close()
  add('live write on A → visible on B (kv:changed event), 200 samples', `p50 ${fmt(median(live), 2)} ms`, `p99 ${fmt(pct(live, 99), 2)} ms (includes the durable write)`)

  // catch-up of a restarted member
  for (const n of [10_000, 100_000]) {
    await stop(b)
    for (let r = 0; r < n / 1000; r++) {
      await api(a, 'POST', '/api/v1/kv/set-many', { entries: Array.from({ length: 1000 }, (_, i) => ({ key: `up${n}/${r}/${i}`, value: { i, r, note: 'catch-up payload' } })) })
    }
    const b2 = await startDaemon(b.home, b.name)
    const rx0 = await loRxBytes()
    const cpu0 = await cpuTicks(b2.proc.pid)
    const t = performance.now()
    await waitSameState(b2, a)
    const secs = (performance.now() - t) / 1000
    const mb = ((await loRxBytes()) - rx0) / 1048576
    // the catching-up daemon's own CPU: a figure a busy shared machine disturbs less than wall time
    const cpuSecs = ((await cpuTicks(b2.proc.pid)) - cpu0) / 100
    add(`catch-up of ${n.toLocaleString('en')} ops by a restarted member (ready → same stateHash)`, `${fmt(secs * 1000, 0)} ms`, `${fmt(n / secs, 0)} ops/s, ${fmt(mb / secs, 1)} MB/s on lo (${fmt(mb, 1)} MB; lo counts all traffic on the machine); its CPU ${fmt(cpuSecs, 2)} s = ${fmt(n / cpuSecs, 0)} ops per CPU-second`)
    b.proc = b2.proc
  }
  await Promise.all([stop(a), stop(b)])
}

/**
 * convergence after a partition heals: the chaos test's real scenario (five daemons in
 * namespaces, 2+3 cut by nftables until each side declares the other dead), three runs
 */
async function healBench (add) {
  if (process.getuid?.() !== 0) { add('convergence after a partition heals', 'skipped', 'needs root for network namespaces'); return }
  const times = []
  for (let i = 0; i < 3; i++) {
    const out = await new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/chaos/partition.test.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      p.stdout.on('data', d => { text += d })
      p.stderr.on('data', d => { text += d })
      p.on('exit', code => code === 0 ? resolve(text) : reject(new Error(`partition scenario failed:\n${text}`)))
    })
    const m = /converged (\d+) ms after the heal/.exec(out)
    if (m != null) times.push(Number(m[1]))
  }
  add('partition 2+3 (namespaces + nftables) healed → identical state hashes on all 5, 3 runs', times.map(t => `${t} ms`).join(', '), 'test/chaos/partition.test.ts')
}

/** the op store alone, in this process, with raw LevelDB and Ed25519 references */
async function storeBench (add) {
  await import('../dist/polyfill.js')
  const { benchLocalWrites } = await import('../dist/state/store/bench.js')
  const r = await benchLocalWrites(3000)
  const b = r.baseline
  add('store: one op per durable write', `${fmt(r.singleOpSync, 0)} ops/s`, `raw LevelDB sync put ${fmt(b.levelSyncPut, 0)}/s (ratio ${fmt(r.singleOpSync / b.levelSyncPut, 2)})`)
  add('store: 1,000-op signed batches, durable', `${fmt(r.batch1000Sync, 0)} ops/s`, `raw LevelDB 1,000-put sync batches ${fmt(b.levelBatch1000Sync, 0)}/s (ratio ${fmt(r.batch1000Sync / b.levelBatch1000Sync, 2)})`)
  add('store: ingest of remote 1,000-op batches (verify + apply)', `${fmt(r.ingest1000, 0)} ops/s`, `Ed25519 verify ${fmt(b.ed25519Verify, 0)}/s: ${fmt(r.ingest1000 / b.ed25519Verify, 1)}× one signature per op`)
}

const SECTIONS = ['reference', 'federation', 'mdns', 'presence', 'state', 'store', 'heal', 'tasks', 'flood', 'gossip', 'membership']

/** `npm run bench -- SECTION` runs one section (`reference`: the references alone) */
const only = process.argv[2]

async function main () {
  if (only != null && !SECTIONS.includes(only)) throw new Error(`no bench section "${only}": ${SECTIONS.join(', ')}`)
  // PAIRED_BENCH_REFERENCES=off skips them (rows that name one then say so)
  let refs = null
  if (process.env.PAIRED_BENCH_REFERENCES !== 'off') {
    console.error('references (raw libp2p):')
    refs = await references({ progress: line => console.error(`  ${line}`) })
    console.log(`${formatReferences(refs)}\n`)
  }

  const rows = []
  /** `ref`: `{ kind, value }`, the figure's own number in the unit of the reference `kind` (bench/reference.js) */
  const add = (what, value, note = '', ref) => {
    if (ref != null && REFERENCE_KINDS[ref.kind] == null) throw new Error(`${what}: no reference of kind "${ref.kind}"`)
    const cells = referenceCells(refs, ref)
    rows.push([what, value, note, ...cells])
    console.error(`  ${what}: ${value} ${note}${cells[1] === '' ? '' : ` [${cells[1].replaceAll('**', '')} ${cells[0]}]`}`)
  }

  if (only == null || only === 'federation') await federationBench(add)
  if (only == null || only === 'mdns') await mdnsBench(add)
  if (only == null || only === 'presence') await presenceBench(add)
  if (only == null || only === 'state') await stateBench(add)
  if (only == null || only === 'store') await storeBench(add)
  if (only == null || only === 'heal') await healBench(add)
  if (only == null || only === 'tasks') await tasksBench(add, { home, startDaemon, stop, api, events, allConnected, pct, median, fmt })
  if (only == null || only === 'flood') await floodBench(add, { home, startDaemon, stop, api, allConnected, pct, median, fmt })
  if (only == null || only === 'gossip') await gossipBench(add, { home, startDaemon, stop })
  // its rows carry their own raw libp2p reference (N stock nodes of the same run); options after the name
  if (only == null || only === 'membership') await membershipBench(process.argv.slice(3), { add: (...cells) => rows.push(cells) })

  if (rows.length > 0) {
    console.log('| what | figure | note | reference (raw libp2p, same run) | ratio |\n|---|---|---|---|---|')
    for (const r of rows) console.log(`| ${r.join(' | ')} |`)
  }
  console.log(`\nnode ${process.version}, ${availableParallelism()} cores, load ${loadavg().map(x => fmt(x, 2)).join(' ')}, ${new Date().toISOString()}`)
}

/** the reference and ratio cells of a row: the figure ÷ the reference, so > 1 is slower for a time and < 1 for a rate */
function referenceCells (refs, ref) {
  if (ref == null) return ['', '']
  if (refs == null) return ['not measured (PAIRED_BENCH_REFERENCES=off)', '']
  const r = referenceOf(refs, ref.kind)
  return [r.text, `**${fmt(ref.value / r.value, 2)}×**`]
}

async function federationBench (add) {
  // 1. start to ready: a fresh home (key + personal team made) and a warm restart
  const cold = []
  const warm = []
  for (let i = 0; i < 5; i++) {
    const h = await home('ready')
    const d1 = await startDaemon(h, `r${i}`)
    cold.push(d1.readyMs)
    await stop(d1)
    const d2 = await startDaemon(h, `r${i}`)
    warm.push(d2.readyMs)
    await stop(d2)
  }
  add('start to ready, fresh home (spawn → "ready"), median of 5', `${fmt(median(cold), 0)} ms`, `min ${fmt(Math.min(...cold), 0)}, max ${fmt(Math.max(...cold), 0)}`)
  add('start to ready, existing home, median of 5', `${fmt(median(warm), 0)} ms`, `min ${fmt(Math.min(...warm), 0)}, max ${fmt(Math.max(...warm), 0)}`)

  // 2. a team of three: invite to connected
  const [a, b, c] = await Promise.all([startDaemon(await home('a'), 'a'), startDaemon(await home('b'), 'b'), startDaemon(await home('c'), 'c')])
  await api(a, 'POST', '/api/v1/team/create', { name: 'bench' })
  const joins = []
  const connects = []
  for (const d of [b, c]) {
    const t0 = performance.now()
    const { token } = await api(a, 'POST', '/api/v1/team/invites', {})
    await api(d, 'POST', '/api/v1/team/join', { token })
    joins.push(performance.now() - t0)
    await allConnected(d === b ? [a, b] : [a, b, c])
    connects.push(performance.now() - t0)
  }
  add('invite → join acknowledged (API), per joiner', joins.map(x => `${fmt(x, 0)} ms`).join(', '))
  add('invite → every member connected to every other, per joiner', connects.map(x => `${fmt(x, 0)} ms`).join(', '), 'second joiner must also meet the first')

  // 3. ping through the federation: libp2p RTT and the whole API round trip
  const idB = (await api(b, 'GET', '/api/v1/status')).peerId
  const rtts = []
  const rounds = []
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now()
    const r = await api(a, 'GET', `/api/v1/peers/${idB}/ping`)
    rounds.push(performance.now() - t0)
    if (i >= 20) rtts.push(r.rttMs)
  }
  add('ping RTT a → b (libp2p ping), 280 samples', `p50 ${fmt(median(rtts), 2)} ms`, `p99 ${fmt(pct(rtts, 99), 2)} ms`, { kind: 'ping', value: median(rtts) })
  add('ping through the API (CLI path minus process start), 300 samples', `p50 ${fmt(median(rounds), 2)} ms`, `p99 ${fmt(pct(rounds, 99), 2)} ms`, { kind: 'ping', value: median(rounds) })
  // paced under b's per-peer query limit: past its burst b refuses (a 504 here), as it should
  const { QUERY_LIMIT } = await import('../dist/net/limits.js')
  const q = []
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now()
    await api(a, 'GET', `/api/v1/peers/${idB}/status`)
    q.push(performance.now() - t0)
    await new Promise(resolve => setTimeout(resolve, 1000 / (QUERY_LIMIT.ratePerSec * 0.8) - (performance.now() - t0)))
  }
  add('query (remote status over /paired/query/1.0.0, new stream each, through the API), 100 samples', `p50 ${fmt(median(q), 2)} ms`, `p99 ${fmt(pct(q, 99), 2)} ms`, { kind: 'rtt', value: median(q) })

  // 4. idle memory after the team settles
  await new Promise(resolve => setTimeout(resolve, 5_000))
  const rss = await Promise.all([a, b, c].map(d => rssMb(d.proc.pid)))
  add('idle RSS per daemon in a team of 3 (5 s after forming)', `${rss.map(x => fmt(x, 0)).join(' / ')} MB`, `max ${fmt(Math.max(...rss), 0)} MB`)

  const stops = []
  for (const d of [a, b, c]) {
    const t0 = performance.now()
    await stop(d)
    stops.push(performance.now() - t0)
  }
  add('SIGTERM → process exited, in a team of 3', stops.map(x => `${fmt(x, 0)} ms`).join(', '))
}

try {
  await main()
} finally {
  for (const p of procs) if (p.exitCode == null && p.signalCode == null) p.kill('SIGKILL')
  await Promise.all(homes.map(h => rm(h, { recursive: true, force: true })))
}
