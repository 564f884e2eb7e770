#!/usr/bin/env node
// Membership at scale (issue #15): N real daemons on 127.0.0.1 (mDNS off, the flags of
// `npm start`) started at once, all N-1 joiners joining with their own invite at the same
// moment, then convergence, false suspicion, idle cost, kill -9 detection, a kv broadcast
// and (with --hog) two busy loops on the cores; beside it, N stock libp2p nodes
// (bench/stock-node.js) started and fully meshed in the same run. Nothing here asserts a
// time: it prints figures (a Markdown table, or JSON with --json).
//
//   node bench/membership.js [--sizes 5,20,50] [--settle 60] [--idle 30] [--hog 0]
//                            [--trials 3,2,1] [--converge-timeout 120] [--poll 50] [--json]
//                            [--join-batch B]   (B joins at a time instead of all at once)
//   npm run bench -- membership   (the same, through bench/run.js, with the defaults)
//   MEMBERSHIP_BENCH_LOGDIR=DIR: each daemon's whole log also goes to DIR/NAME.log, each line
//   prefixed with the bench's clock (ms), so a false suspicion can be read in context
//
// Run it under the shared lock on a shared machine: `flock /work/wt/heavy.lock node ...`.
import { fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiClient } from './api.js'
import { NODE_FLAGS } from './node-flags.js'

const SELF = fileURLToPath(import.meta.url)
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'paired.js')
/** a daemon that is not ready after this long is reported as failed to start */
const READY_TIMEOUT_MS = 180_000
const LOGDIR = process.env.MEMBERSHIP_BENCH_LOGDIR || undefined
/** `peer suspect NAME ID (was alive)`: the daemon's presence lines (src/daemon/session-policy.ts) */
const PRESENCE_LINE = /\bpeer (suspect|dead) (\S*) ?(\S+)(?: \(was (\w+)\))?/

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const now = () => performance.now()
function pct (values, p) {
  const s = [...values].sort((x, y) => x - y)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const median = v => pct(v, 50)
const fmt = (n, d = 1) => Number.isFinite(n) ? Number(n).toFixed(d) : '–'
const secs = ms => `${fmt(ms / 1000, 2)} s`

// --- processes this module starts, killed and removed on any exit ----------------------

const children = new Set()
const homes = new Set()
function killAll () {
  for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
}
async function cleanup () {
  killAll()
  await Promise.all([...homes].map(h => rm(h, { recursive: true, force: true })))
  homes.clear()
}
function onSignal (sig) {
  killAll()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
  process.exit(sig === 'SIGINT' ? 130 : 143)
}

// --- one daemon -----------------------------------------------------------------------

class Daemon {
  constructor (home, name) {
    this.home = home
    this.name = name
    this.lines = [] // { at, state, name, id, from } of every presence line
    this.peerId = undefined
  }

  /** spawn and wait for `ready`; resolves with the spawn → ready time */
  start () {
    const t0 = now()
    const argv = [...NODE_FLAGS, BIN, 'daemon', '--home', this.home, '--name', this.name, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns']
    const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    children.add(proc)
    proc.on('exit', () => children.delete(proc))
    let log = ''
    let partial = ''
    let ready = false
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready in ${READY_TIMEOUT_MS / 1000} s:\n${log.slice(-2000)}`)), READY_TIMEOUT_MS)
      const onData = d => {
        const text = partial + d.toString()
        const parts = text.split('\n')
        partial = parts.pop()
        const at = now()
        if (LOGDIR != null && parts.length > 0) appendFileSync(join(LOGDIR, `${this.name}.log`), parts.map(l => `${at.toFixed(0)} ${l}\n`).join(''))
        for (const line of parts) {
          if (!ready) log += `${line}\n`
          const m = PRESENCE_LINE.exec(line)
          if (m != null) this.lines.push({ at, state: m[1], name: m[2], id: m[3], from: m[4] })
          if (!ready && /\bready\b/.test(line)) {
            ready = true
            clearTimeout(timer)
            resolve(now() - t0)
          }
        }
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      proc.on('exit', (code, signal) => { clearTimeout(timer); if (!ready) reject(new Error(`${this.name} exited ${code ?? signal} before ready:\n${log.slice(-2000)}`)) })
    })
  }

  async kill9 () {
    const p = this.proc
    if (p == null || p.exitCode != null || p.signalCode != null) return
    const done = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGKILL')
    await done
  }

  async stop () {
    const p = this.proc
    if (p == null || p.exitCode != null || p.signalCode != null) return
    const done = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGTERM')
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000)
    await done
    clearTimeout(t)
  }

  async api (method, path, body, timeoutMs = 120_000) {
    this.client ??= await apiClient(this.home)
    return await this.client.call(method, path, body, timeoutMs)
  }

  /** server-sent events: `onEvent(type, data)` until the returned function is called */
  async events (onEvent) {
    this.client ??= await apiClient(this.home)
    return await this.client.events(onEvent)
  }
}

async function procStat (pid) {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')])
    const f = stat.split(') ')[1].split(' ')
    return { ticks: Number(f[11]) + Number(f[12]), rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024 }
  } catch {
    return { ticks: NaN, rssMb: NaN }
  }
}

/** CPU (% of one core) and RSS of each daemon over `ms` */
async function cpuOver (ds, ms) {
  const before = await Promise.all(ds.map(d => procStat(d.proc.pid)))
  const t0 = now()
  await sleep(ms)
  const s = (now() - t0) / 1000
  const after = await Promise.all(ds.map(d => procStat(d.proc.pid)))
  return { cpu: after.map((a, i) => (a.ticks - before[i].ticks) / s), rss: after.map(a => a.rssMb) }
}

/** presence lines of every daemon in [from, to) about peers not in `except` */
function falseLines (ds, from, to, except = new Set()) {
  const out = { suspect: 0, dead: 0, pairs: new Set() }
  for (const d of ds) {
    for (const l of d.lines) {
      if (l.at < from || l.at >= to || except.has(l.id)) continue
      out[l.state]++
      if (l.state === 'dead') out.pairs.add(`${d.name}→${l.name}`)
    }
  }
  return out
}
const falseText = f => `${f.suspect} suspect / ${f.dead} dead${f.dead > 0 ? ` (${[...f.pairs].slice(0, 6).join(', ')}${f.pairs.size > 6 ? ', …' : ''})` : ''}`

/**
 * above this many members a daemon connects only to its overlay neighbours (src/node/mesh.ts
 * FULL_TEAM_MAX): converged then means every other listed alive, not connected
 */
const FULL_TEAM_MAX = 20

/** what `d` is missing for a converged view of `ids`: peers not listed connected (in a small team) and alive */
async function missingOn (d, ids) {
  const bounded = ids.length > FULL_TEAM_MAX
  const rows = await d.api('GET', 'peers', undefined, 30_000)
  const ok = new Set(rows.filter(r => (bounded || r.connected) && r.state === 'alive').map(r => r.peerId))
  const missing = ids.filter(id => id !== d.peerId && !ok.has(id))
  if (missing.length > 0 || bounded) return { missing, rows }
  const members = await d.api('GET', 'team/members', undefined, 30_000)
  const connected = new Set(members.filter(m => m.connected || m.self).map(m => m.peerId))
  return { missing: ids.filter(id => !connected.has(id)), rows }
}

/**
 * polls every daemon in parallel every `pollMs` (the next round waits for the last one)
 * until every daemon lists every other connected and alive; `{ ms, rounds, requests }` or,
 * at the timeout, the missing (viewer, peer) pairs
 */
async function converge (ds, t0, pollMs, timeoutMs) {
  const ids = ds.map(d => d.peerId)
  let rounds = 0
  let requests = 0
  let last = []
  const cpu0 = process.cpuUsage()
  for (;;) {
    const roundAt = now()
    last = await Promise.all(ds.map(async d => {
      try { return await missingOn(d, ids) } catch (err) { return { missing: ids.filter(id => id !== d.peerId), error: err.message } }
    }))
    rounds++
    requests += ds.length + last.filter(x => x.missing.length === 0).length
    const done = now()
    const cpu = process.cpuUsage(cpu0)
    const cost = { rounds, requests, benchCpuMs: (cpu.user + cpu.system) / 1000 }
    if (last.every(x => x.missing.length === 0)) return { ms: done - t0, ...cost }
    if (done - t0 > timeoutMs) {
      const pairs = last.reduce((s, x) => s + x.missing.length, 0)
      const states = {}
      for (const [i, x] of last.entries()) {
        for (const id of x.missing) {
          const r = x.rows?.find(row => row.peerId === id)
          const k = r == null ? 'unlisted' : `${r.connected ? 'connected' : 'unconnected'} ${r.state}`
          states[k] = (states[k] ?? 0) + 1
        }
        if (x.error != null) states[`${ds[i].name}: ${x.error.slice(0, 60)}`] = 1
      }
      return { ms: NaN, pairs, total: ds.length * (ds.length - 1), states, ...cost }
    }
    await sleep(Math.max(0, pollMs - (now() - roundAt)))
  }
}

/** until every viewer says `state` of `id` (polled every `pollMs`); the time each took, NaN past the timeout */
async function untilState (viewers, id, state, t0, pollMs, timeoutMs) {
  return await Promise.all(viewers.map(async v => {
    while (now() - t0 < timeoutMs) {
      const rows = await v.api('GET', 'peers', undefined, 30_000).catch(() => [])
      if (rows.find(r => r.peerId === id)?.state === state) return now() - t0
      await sleep(pollMs)
    }
    return NaN
  }))
}

// --- the raw libp2p reference ------------------------------------------------------------

function stockChild (psk) {
  const t0 = now()
  const child = fork(SELF, ['--stock-node'], { execArgv: NODE_FLAGS, env: { ...process.env, PAIRED_MEMBERSHIP_PSK: psk }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  const waiting = new Map()
  let next = 1
  child.on('message', msg => {
    const w = waiting.get(msg.id)
    waiting.delete(msg.id)
    if (msg.error != null) w?.reject(new Error(msg.error))
    else w?.resolve(msg.result)
  })
  child.once('exit', code => { for (const w of waiting.values()) w.reject(new Error(`stock node exited ${code}`)) })
  const ask = (cmd, args = {}) => new Promise((resolve, reject) => { const id = next++; waiting.set(id, { resolve, reject }); child.send({ id, cmd, ...args }) })
  return { child, t0, ask }
}

/** N stock nodes started at once, each dialing every other: start → listening, and dials → every node has N-1 peers */
export async function stockReference (n) {
  const psk = randomBytes(32).toString('hex')
  const nodes = Array.from({ length: n }, () => stockChild(psk))
  try {
    const info = await Promise.all(nodes.map(async x => ({ ...await x.ask('start'), readyMs: now() - x.t0 })))
    const t0 = now()
    // each pair dialed once, by its later node: two nodes dialing each other at the same moment
    // fail most such dials (hundreds at 20) and leave gossipsub on a closed duplicate
    const dialing = Promise.all(nodes.map((x, i) => x.ask('dialAll', { addrs: info.slice(0, i).map(o => o.addr) })))
    let meshMs = NaN
    let counts = []
    while (now() - t0 < 60_000) {
      counts = await Promise.all(nodes.map(x => x.ask('peers')))
      if (counts.every(c => c >= n - 1)) { meshMs = now() - t0; break }
      await sleep(20)
    }
    const dialFailures = (await dialing).reduce((s, x) => s + x, 0)
    // gossipsub: one publish → every other node has it (a reference for the kv broadcast)
    await Promise.all(nodes.map(x => x.ask('subscribe', { peers: Math.min(n - 1, 4) })))
    await sleep(2_000)
    const pub = []
    const missed = []
    for (let k = 0; k < 5; k++) {
      const waits = nodes.slice(1).map(x => x.ask('await', { tag: k }))
      const t = now()
      await nodes[0].ask('publish', { tag: k })
      const got = await Promise.all(waits.map(w => w.then(() => now() - t, () => NaN)))
      pub.push(Math.max(...got))
      missed.push(got.filter(x => !Number.isFinite(x)).length)
    }
    return { readyMs: info.map(x => x.readyMs), meshMs, dialFailures, short: counts.filter(c => c < n - 1).length, publishMs: median(pub), publishMissed: missed }
  } finally {
    await Promise.all(nodes.map(x => new Promise(resolve => {
      if (x.child.exitCode != null || x.child.signalCode != null) { resolve(); return }
      x.child.once('exit', resolve)
      x.child.kill('SIGKILL')
    })))
  }
}

async function stockNodeMain () {
  await import('../dist/polyfill.js')
  const [{ multiaddr }, { stockNode }, { teamNetwork }] = await Promise.all([import('@multiformats/multiaddr'), import('./stock-node.js'), import('../dist/net/pnet.js')])
  const node = await stockNode({ protector: teamNetwork({ key: Buffer.from(process.env.PAIRED_MEMBERSHIP_PSK, 'hex') }), gossip: { allowPublishToZeroTopicPeers: true } })
  const TOPIC = '/paired-bench/membership/1'
  const arrived = new Map()
  node.services.pubsub.addEventListener('message', evt => {
    if (evt.detail.topic !== TOPIC) return
    const tag = evt.detail.data[0]
    arrived.get(tag)?.()
    arrived.set(tag, null)
  })
  const handlers = {
    start: () => ({ addr: node.getMultiaddrs()[0].toString() }),
    // every dial at once, each retried until it holds (as the daemon's redialer does), for 60 s at most
    dialAll: async ({ addrs }) => {
      let failures = 0
      await Promise.all(addrs.map(async a => {
        const deadline = now() + 60_000
        for (let tries = 0; now() < deadline; tries++) {
          // backing off as a redialer does: libp2p takes 5 inbound connections a second per
          // host (inboundConnectionThreshold), and on loopback every peer is the same host
          try { await node.dial(multiaddr(a)); return } catch { failures++; await sleep(Math.min(2_000, 100 * 2 ** tries) * (0.5 + Math.random())) }
        }
      }))
      return failures
    },
    peers: () => node.getPeers().length,
    subscribe: async ({ peers }) => {
      node.services.pubsub.subscribe(TOPIC)
      const deadline = now() + 30_000
      while (node.services.pubsub.getMeshPeers(TOPIC).length < peers && now() < deadline) await sleep(20)
    },
    publish: async ({ tag }) => { await node.services.pubsub.publish(TOPIC, Uint8Array.of(tag, ...randomBytes(99))) },
    await: ({ tag }) => new Promise((resolve, reject) => {
      if (arrived.has(tag)) { resolve(); return }
      const t = setTimeout(() => reject(new Error('not delivered in 10 s')), 10_000)
      arrived.set(tag, () => { clearTimeout(t); resolve() })
    })
  }
  process.on('disconnect', () => process.exit(0))
  process.on('message', msg => {
    void (async () => {
      try { process.send({ id: msg.id, result: await handlers[msg.cmd](msg) ?? null }) } catch (err) { process.send({ id: msg.id, error: `${msg.cmd}: ${err?.stack ?? String(err)}` }) }
    })()
  })
}

// --- the scenario for one size ---------------------------------------------------------------

async function startAll (ds) {
  const results = await Promise.allSettled(ds.map(d => d.start()))
  return results.map((r, i) => r.status === 'fulfilled' ? { ms: r.value } : { error: r.reason.message.split('\n')[0], d: ds[i] })
}

async function sizeRun (n, o, add, progress) {
  const runId = randomBytes(3).toString('hex')
  const ds = []
  for (let i = 0; i < n; i++) {
    const h = await mkdtemp(join(tmpdir(), `paired-membership-${n}-${i}-`))
    homes.add(h)
    ds.push(new Daemon(h, `m${n}x${i}`))
  }
  const out = { n }
  try {
    // 1. start N at once
    const load0 = loadavg()[0]
    const started = await startAll(ds)
    const failed = started.filter(s => s.error != null)
    const ready = started.filter(s => s.error == null).map(s => s.ms)
    out.ready = { median: median(ready), max: Math.max(...ready), failed: failed.length }
    const ref = o.reference ? await stockReference(n).catch(err => ({ error: err.message })) : null
    out.reference = ref
    const refNote = ref == null ? 'not measured' : ref.error != null ? `failed: ${ref.error.slice(0, 80)}` : null
    add(n, 'start → ready, all at once (median, max)', `${secs(out.ready.median)}, ${secs(out.ready.max)}`, `${failed.length === 0 ? 'all ready' : `${failed.length} never ready: ${failed[0].error}`}; load ${fmt(load0, 2)} at start`,
      refNote ?? `stock node process → listening: ${secs(median(ref.readyMs))}, ${secs(Math.max(...ref.readyMs))}`, refNote ?? median(ready) / median(ref.readyMs))
    if (failed.length > 0) {
      const rss = await Promise.all(ds.filter(d => d.proc?.exitCode == null).map(d => procStat(d.proc.pid)))
      add(n, 'daemons that could not start', `${failed.length} of ${n}`, `RSS of the others ${fmt(median(rss.map(r => r.rssMb)), 0)} MB median; ${failed[0].error}`)
      return out
    }
    for (const d of ds) d.peerId = (await d.api('GET', 'status')).peerId

    // 2. one admin, N-1 invites, every join at the same moment
    const [admin, ...joiners] = ds
    await admin.api('POST', 'team/create', { name: `scale${n}-${runId}` })
    const tokens = []
    for (let i = 0; i < joiners.length; i++) tokens.push((await admin.api('POST', 'team/invites', {})).token)
    // --join-batch B: B joins at a time, not all at once (to measure a whole team of N past a burst it does not survive)
    const batch = o.joinBatch > 0 ? o.joinBatch : joiners.length
    progress(`${n}: ${joiners.length} joins, ${batch} at once`)
    const t0 = now()
    const joins = []
    for (let b = 0; b < joiners.length; b += batch) {
      joins.push(...await Promise.all(joiners.slice(b, b + batch).map(async (d, j) => {
        const t = now()
        try { await d.api('POST', 'team/join', { token: tokens[b + j] }); return { ms: now() - t } } catch (err) { return { ms: now() - t, error: err.message } }
      })))
    }
    const joinErrors = joins.filter(j => j.error != null)
    const errorKinds = {}
    for (const j of joinErrors) { const k = j.error.slice(0, 110); errorKinds[k] = (errorKinds[k] ?? 0) + 1 }
    out.joins = { failed: joinErrors.length, errors: errorKinds, median: median(joins.map(j => j.ms)), max: Math.max(...joins.map(j => j.ms)) }
    // a joiner whose join failed is in no team: the kv writer, the kill victim and its watchers are members
    const members = [admin, ...joiners.filter((_, i) => joins[i].error == null)]
    add(n, `${joiners.length} ${batch < joiners.length ? `joins, ${batch} at a time` : 'concurrent joins'}: failed`, `${joinErrors.length} of ${joiners.length}`, `join call median ${secs(out.joins.median)}, max ${secs(out.joins.max)}${joinErrors.length > 0 ? `; ${Object.entries(errorKinds).map(([k, c]) => `${c}× ${k}`).join('; ')}` : ''}`)

    // 3. converged: every daemon lists every other connected and alive
    const conv = await converge(ds, t0, o.pollMs, o.convergeTimeout * 1000)
    const convEnd = now()
    const cf = falseLines(ds, t0, convEnd)
    out.converge = { ...conv, false: { suspect: cf.suspect, dead: cf.dead } }
    const pollNote = `polled every ${o.pollMs} ms, all daemons in parallel: ${conv.rounds} rounds, ${conv.requests} API calls, ${fmt(conv.benchCpuMs / 1000, 2)} s of the bench's CPU`
    const refMesh = ref == null || ref.error != null ? null : ref.meshMs
    add(n, 'first join → every daemon lists all others connected and alive', Number.isFinite(conv.ms) ? `**${secs(conv.ms)}**` : `**never** in ${o.convergeTimeout} s`,
      Number.isFinite(conv.ms) ? pollNote : `${conv.pairs} of ${conv.total} (viewer, peer) pairs short at the end: ${Object.entries(conv.states).map(([k, c]) => `${c} ${k}`).join(', ')}; ${pollNote}`,
      refMesh == null ? (refNote ?? '') : `${n} stock nodes started at once, each dialing every earlier one → N−1 peers each: ${Number.isFinite(refMesh) ? secs(refMesh) : `not in 60 s (${ref.short} nodes short)`} (${ref.dialFailures} failed dials retried)`, refMesh == null ? null : conv.ms / refMesh)
    add(n, 'false suspect / dead lines while converging (none killed)', falseText(cf), `from the first join to converged (or the timeout), lines of all ${n} daemons`)
    const links = await Promise.all(ds.map(d => d.api('GET', 'status').then(st => st.connectedPeers, () => NaN)))
    out.connections = { median: median(links), max: Math.max(...links) }
    add(n, 'members each daemon is connected to, at convergence (median, max)', `${out.connections.median}, ${out.connections.max} of ${n - 1}`, n > FULL_TEAM_MAX ? 'above 20 members: overlay neighbours, plus members that dialed it (the admitter: every joiner)' : 'every other member')

    // 4. the settle window: nobody killed, nothing should be suspected
    const s0 = now()
    await sleep(o.settle * 1000)
    const sf = falseLines(ds, s0, now())
    out.settle = { seconds: o.settle, suspect: sf.suspect, dead: sf.dead }
    add(n, `false suspect / dead lines in the ${o.settle} s after`, falseText(sf), '')

    // 5. idle cost
    const idle = await cpuOver(ds, o.idle * 1000)
    out.idle = { cpuMedian: median(idle.cpu), cpuMax: Math.max(...idle.cpu), rssMedian: median(idle.rss), rssMax: Math.max(...idle.rss) }
    const unsettled = Number.isFinite(conv.ms) ? '' : 'not idle: the team never converged, so this includes its redials and suspicions'
    add(n, `idle per daemon over ${o.idle} s: RSS (median, max)`, `${fmt(out.idle.rssMedian, 0)} MB, ${fmt(out.idle.rssMax, 0)} MB`, unsettled)
    add(n, `idle per daemon over ${o.idle} s: CPU (median, max)`, `${fmt(out.idle.cpuMedian, 2)} %, ${fmt(out.idle.cpuMax, 2)} % of a core`, `sum ${fmt(idle.cpu.reduce((s, x) => s + x, 0), 1)} % of a core for all ${n}${unsettled === '' ? '' : `; ${unsettled}`}`)
    // what the convergence poll itself costs the daemons: the same poll over 10 s, against idle
    const polling = { on: true }
    const poller = (async () => { while (polling.on) { const r = now(); await Promise.all(ds.map(d => missingOn(d, ds.map(x => x.peerId)).catch(() => {}))); await sleep(Math.max(0, o.pollMs - (now() - r))) } })()
    const polled = await cpuOver(ds, 10_000)
    polling.on = false
    await poller
    add(n, `the convergence poll's own cost per daemon (10 s of it, minus idle)`, `${fmt(median(polled.cpu) - out.idle.cpuMedian, 2)} % of a core`, 'median daemon; the poll is not running in the other phases except its own waits')

    // 6. kv broadcast: a write on one → kv:changed on every other
    const writer = members[1] ?? admin
    const others = members.filter(d => d !== writer)
    const waits = new Map()
    const closers = await Promise.all(others.map(d => d.events((type, data) => { if (type === 'kv:changed') waits.get(`${d.name} ${data.key}`)?.() })))
    const kv = []
    const reached = []
    for (let k = 0; k < 5; k++) {
      const key = `bench/membership/${runId}/${k}`
      let t = 0
      const seen = others.map(d => new Promise(resolve => waits.set(`${d.name} ${key}`, () => resolve(now() - t))))
      t = now()
      await writer.api('POST', 'kv/set', { key, value: k })
      // a member that is not connected yet (or a joiner whose join failed) may never see it
      const times = await Promise.all(seen.map(p => Promise.race([p, sleep(15_000).then(() => NaN)])))
      reached.push(times.filter(Number.isFinite).length)
      kv.push(Math.max(...times))
      await sleep(300)
    }
    for (const c of closers) c()
    out.kv = { median: median(kv), max: Math.max(...kv), reached }
    const refPub = ref == null || ref.error != null ? null : ref.publishMs
    const allReached = reached.every(r => r === others.length)
    add(n, `kv write on one → kv:changed on every other member (5 writes${members.length < n ? `; ${members.length} members` : ''})`, allReached ? `median ${fmt(out.kv.median, 0)} ms` : `**not on all** in 15 s: reached ${reached.join(', ')} of ${others.length}`, `max ${fmt(out.kv.max, 0)} ms; includes the durable write`,
      refPub == null ? (refNote ?? '') : `stock gossipsub publish → on all ${n - 1} others: ${Number.isFinite(refPub) ? `${fmt(refPub, 0)} ms` : `not on all in 10 s (missed by ${ref.publishMissed.join(', ')})`}`, refPub == null || !allReached ? null : out.kv.median / refPub)

    // 7. kill -9 → dead on every survivor
    const trials = o.trials(n)
    const detect = []
    const victim = members.at(-1)
    const survivors = members.filter(d => d !== victim)
    const kf = { suspect: 0, dead: 0, pairs: new Set() }
    for (let t = 0; t < trials; t++) {
      const k0 = now()
      await victim.kill9()
      const times = await untilState(survivors, victim.peerId, 'dead', k0, o.pollMs, 30_000)
      detect.push({ last: Math.max(...times), median: median(times.filter(Number.isFinite)), missed: times.filter(x => !Number.isFinite(x)).length })
      const restarted = await victim.start().then(() => true, err => { progress(`${n}: the victim did not restart: ${err.message.split('\n')[0]}`); return false })
      if (!restarted) break
      const r0 = now()
      const back = await untilState(survivors, victim.peerId, 'alive', r0, 200, 90_000)
      const f = falseLines(survivors, k0, now(), new Set([victim.peerId]))
      kf.suspect += f.suspect; kf.dead += f.dead; for (const p of f.pairs) kf.pairs.add(p)
      progress(`${n}: kill trial ${t + 1}: dead on all after ${secs(Math.max(...times))}, back alive on all after ${secs(Math.max(...back))}`)
      await sleep(3_000)
    }
    out.kill = { trials: detect }
    add(n, `kill -9 one → dead on every survivor (${trials} trial${trials === 1 ? '' : 's'}, last survivor)`, detect.map(x => Number.isFinite(x.last) ? secs(x.last) : `not on ${x.missed} of ${survivors.length} in 30 s`).join(', '),
      `median survivor ${detect.map(x => secs(x.median)).join(', ')}; restarted between trials; other peers meanwhile: ${falseText(kf)}`)

    // 8. two busy loops, one per core
    if (o.hog > 0) {
      const h0 = now()
      progress(`${n}: the hog runs from ${h0.toFixed(0)} to ${(h0 + o.hog * 1000).toFixed(0)} ms on the bench's clock`)
      const hogs = Array.from({ length: availableParallelism() }, () => {
        const c = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
        children.add(c)
        c.on('exit', () => children.delete(c))
        return c
      })
      await sleep(o.hog * 1000)
      for (const c of hogs) c.kill('SIGKILL')
      await sleep(10_000)
      const hf = falseLines(ds, h0, now(), new Set(ds.filter(d => d.proc.exitCode != null || d.proc.signalCode != null).map(d => d.peerId)))
      out.hog = { seconds: o.hog, suspect: hf.suspect, dead: hf.dead }
      add(n, `CPU hog (${hogs.length} busy loops) for ${o.hog} s and 10 s after: false lines`, falseText(hf), 'none killed')
    }
    return out
  } finally {
    await Promise.all(ds.map(d => d.stop()))
    await Promise.all(ds.map(d => rm(d.home, { recursive: true, force: true }).then(() => homes.delete(d.home))))
  }
}

function parseArgs (argv) {
  const o = { joinBatch: 0, sizes: [5, 20, 50], settle: 60, idle: 30, hog: 0, convergeTimeout: 120, pollMs: 50, json: false, reference: true, trials: n => n <= 5 ? 3 : n <= 20 ? 2 : 1 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => argv[++i]
    if (a === '--sizes') o.sizes = v().split(',').map(Number)
    else if (a === '--settle') o.settle = Number(v())
    else if (a === '--idle') o.idle = Number(v())
    else if (a === '--hog') o.hog = Number(v())
    else if (a === '--converge-timeout') o.convergeTimeout = Number(v())
    else if (a === '--poll') o.pollMs = Number(v())
    else if (a === '--trials') { const t = Number(v()); o.trials = () => t }
    else if (a === '--no-reference') o.reference = false
    else if (a === '--join-batch') o.joinBatch = Number(v())
    else if (a === '--json') o.json = true
    else if (a !== 'membership') throw new Error(`unknown option ${a}`)
  }
  return o
}

/**
 * the membership section: `add(what, figure, note, reference, ratio)` gets one row per
 * figure; returns the figures of each size
 */
export async function membershipBench (argv = [], { add: addRow, progress = line => console.error(`  ${line}`) } = {}) {
  const o = parseArgs(argv)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const rows = []
  const add = (n, what, figure, note = '', reference = '', ratio = null) => {
    const r = [`${n} daemons: ${what}`, figure, note, reference, ratio == null || !Number.isFinite(ratio) ? '' : `**${fmt(ratio, 1)}×**`]
    rows.push(r)
    progress(`${r[0]}: ${figure} ${note}`.replaceAll('**', ''))
    addRow?.(...r)
  }
  const results = []
  try {
    for (const n of o.sizes) results.push(await sizeRun(n, o, add, progress))
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return { rows, results, options: { ...o, trials: o.sizes.map(o.trials) } }
}

async function alone () {
  const r = await membershipBench(process.argv.slice(2))
  const tail = `node ${process.version}, ${availableParallelism()} cores, load ${loadavg().map(x => fmt(x, 2)).join(' ')}, ${new Date().toISOString()}`
  if (r.options.json) {
    console.log(JSON.stringify({ ...r, machine: tail }, null, 2))
    return
  }
  console.log('| what | figure | note | reference (raw libp2p, same run) | ratio |\n|---|---|---|---|---|')
  for (const row of r.rows) console.log(`| ${row.join(' | ')} |`)
  console.log(`\n${tail}`)
}

if (process.argv[2] === '--stock-node' && process.send != null) await stockNodeMain()
else if (process.argv[1] === SELF) await alone()
