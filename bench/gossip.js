#!/usr/bin/env node
// The gossip section of `npm run bench` (issue #14: "gossip at 1,000 msgs/s per peer,
// no connection lost"). Also runnable alone: `npm run build && node bench/gossip.js
// [daemons|raw] [--seconds N] [--rate R]`.
//
// 1. Three real daemons on 127.0.0.1, each written to at R kv writes/s (one key per
//    request, up to 256 in flight, through the local API over the unix socket) for N s:
//    every local write is published on the team's state topic. Each daemon's event stream
//    counts the writes it saw from every author; `peer:disconnected` events count lost
//    members. Reported per daemon: writes/s acknowledged, writes/s received from the two
//    others, what had arrived when the writers stopped and when everything had, members
//    lost, CPU and RSS.
// 2. The reference: three stock js-libp2p nodes (TCP, pnet, Noise, yamux, identify, ping,
//    gossipsub with the daemon's signature policy and message ids; no paired logic), each
//    in its own process publishing R messages/s of the size of a daemon's one-op batch.
// Asserts nothing.
import { fork, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiClient } from './api.js'
import { NODE_FLAGS } from './node-flags.js'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'paired.js')
const IN_FLIGHT = 256
/** a daemon's one-op kv batch on the state topic is about this large (JSON, signature, hashes) */
const RAW_PAYLOAD_BYTES = 560
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const fmt = (n, d = 0) => Number(n).toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d })

async function cpuTicks (pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime + stime, in clock ticks (100/s)
}
async function rssMb (pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
}
async function loadAvg () {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')
}

// --- standalone helpers (run.js passes its own as `lib`) -------------------------------

function ownLib () {
  const homes = []
  const procs = []
  return {
    procs,
    async home (label) {
      const h = await mkdtemp(join(tmpdir(), `paired-bench-${label}-`))
      homes.push(h)
      return h
    },
    startDaemon (h, name) {
      const proc = spawn(process.execPath, [...NODE_FLAGS, BIN, 'daemon', '--home', h, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns'], { stdio: ['ignore', 'pipe', 'pipe'] })
      procs.push(proc)
      let log = ''
      // GOSSIP_BENCH_LOGDIR=DIR: each daemon's whole log is also written to DIR/NAME.log
      if (process.env.GOSSIP_BENCH_LOGDIR != null) {
        const file = createWriteStream(join(process.env.GOSSIP_BENCH_LOGDIR, `${name}.log`))
        proc.stdout.pipe(file)
        proc.stderr.pipe(file)
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${log}`)), 30_000)
        const onData = d => {
          log += d.toString()
          if (/\bready\b/.test(log)) { clearTimeout(timer); resolve({ proc, home: h, name, log: () => log }) }
        }
        proc.stderr.on('data', onData)
        proc.stdout.on('data', onData)
        proc.on('exit', code => { clearTimeout(timer); reject(new Error(`${name} exited ${code}:\n${log}`)) })
      })
    },
    async stop (d) {
      d.proc.removeAllListeners('exit')
      const done = new Promise(resolve => d.proc.on('exit', resolve))
      d.proc.kill('SIGTERM')
      await done
    },
    async cleanup () {
      for (const p of procs) if (p.exitCode == null && p.signalCode == null) p.kill('SIGKILL')
      await Promise.all(homes.map(h => rm(h, { recursive: true, force: true })))
    }
  }
}

/** a keep-alive client for one daemon's API: the bench must not be what limits the rate */
const client = d => apiClient(d.home, { maxSockets: IN_FLIGHT })

/**
 * `rate` calls/s of `send(i)` for `seconds`, at most IN_FLIGHT at once; a call due while
 * IN_FLIGHT are out waits (so the achieved rate shows a daemon that cannot keep up)
 */
async function paced (rate, seconds, send) {
  let issued = 0
  let acked = 0
  let failed = 0
  let inFlight = 0
  let firstError
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate)
    while (issued < due && inFlight < IN_FLIGHT) {
      inFlight++
      send(issued++).then(() => { acked++ }, err => { failed++; firstError ??= err }).finally(() => { inFlight-- })
    }
    await sleep(5)
  }
  while (inFlight > 0) await sleep(5)
  return { issued, acked, failed, firstError, secs: (performance.now() - t0) / 1000 }
}

async function formTeam (cs, ids) {
  await cs[0].call('POST', 'team/create', { name: 'bench-gossip' })
  for (const c of cs.slice(1)) {
    const { token } = await cs[0].call('POST', 'team/invites', {})
    await c.call('POST', 'team/join', { token })
  }
  for (;;) {
    const views = await Promise.all(cs.map(c => c.call('GET', 'team/members')))
    if (views.every(ms => ids.every(id => ms.some(m => m.peerId === id && m.connected)))) return
    await sleep(50)
  }
}

/** the daemons' path: kv writes through the API, gossiped on the state topic */
export async function daemonsGossip (add, lib, { rate = 1_000, seconds = 60, keys = 1 } = {}) {
  const names = ['ga', 'gb', 'gc']
  const ds = await Promise.all(names.map(async n => lib.startDaemon(await lib.home(n), n)))
  const cs = await Promise.all(ds.map(client))
  const ids = await Promise.all(cs.map(async c => (await c.call('GET', 'status')).peerId))
  await formTeam(cs, ids)
  await sleep(3_000) // meshes grafted, first pulls done
  const name = Object.fromEntries(ids.map((id, i) => [id, names[i]]))
  // the event stream carries only the (rare) member events: under this load a kv:changed
  // subscriber adds work to every daemon, and it is the state's own figures that count
  const lost = ds.map(() => [])
  let started = performance.now()
  const closers = await Promise.all(cs.map((c, i) => c.events((type, data) => {
    if (type === 'peer:disconnected') lost[i].push(`${name[data.peerId] ?? data.peerId} at ${fmt((performance.now() - started) / 1000, 1)} s`)
  })))
  const cpu0 = await Promise.all(ds.map(d => cpuTicks(d.proc.pid)))
  const rssPeak = ds.map(() => 0)
  started = performance.now()
  let sampling = true
  const sampler = (async () => {
    for (let t = 1; sampling; t++) {
      const r = await Promise.all(ds.map(d => rssMb(d.proc.pid).catch(() => 0)))
      r.forEach((x, i) => { rssPeak[i] = Math.max(rssPeak[i], x) })
      if (t % 10 === 0) console.error(`  ${t} s: RSS ${r.map(x => fmt(x)).join('/')} MB`)
      await sleep(1_000)
    }
  })()
  const load0 = await loadAvg()
  const value = { note: 'gossip bench payload', n: 0 }
  // keys > 1: kv/set-many of that many keys per request (bulk writers); counts are in keys
  const write = (c, i, n) => keys === 1
    ? c.call('POST', 'kv/set', { key: `g/${names[i]}/${n}`, value: { ...value, n } })
    : c.call('POST', 'kv/set-many', { entries: Array.from({ length: keys }, (_, k) => ({ key: `g/${names[i]}/${n}/${k}`, value: { ...value, n } })) })
  const writes = (await Promise.all(cs.map((c, i) => paced(rate, seconds, n => write(c, i, n)))))
    .map(w => ({ ...w, acked: w.acked * keys, issued: w.issued * keys }))
  const stopAt = performance.now()
  const cpu1 = await Promise.all(ds.map(d => cpuTicks(d.proc.pid)))
  const busySecs = (stopAt - started) / 1000
  // what each daemon holds of each author's writes when the writers stopped
  const count = async (c, j) => (await c.call('GET', `kv/list?prefix=${encodeURIComponent(`g/${names[j]}/`)}`)).length
  const atStop = await Promise.all(cs.map(c => Promise.all(names.map((_, j) => count(c, j)))))
  const listedMs = performance.now() - stopAt
  // then until all three hold the same ops (anti-entropy included), at most 60 s
  let digests
  do {
    digests = await Promise.all(cs.map(async c => (await c.call('GET', 'status')).stateDigest))
    if (digests.every(x => x === digests[0])) break
    await sleep(50)
  } while (performance.now() - stopAt < 60_000)
  const drainMs = performance.now() - stopAt
  const final = await Promise.all(cs.map(c => Promise.all(names.map((_, j) => count(c, j)))))
  sampling = false
  await sampler
  const members = await Promise.all(cs.map(c => c.call('GET', 'team/members')))
  closers.forEach(close => close())
  for (let i = 0; i < ds.length; i++) {
    const others = ids.filter((_, j) => j !== i)
    const sentByOthers = others.reduce((n, id) => n + writes[ids.indexOf(id)].acked, 0)
    const gotAtStop = others.reduce((n, id) => n + atStop[i][ids.indexOf(id)], 0)
    const got = others.reduce((n, id) => n + final[i][ids.indexOf(id)], 0)
    const w = writes[i]
    const disconnected = members[i].filter(m => !m.self && !m.connected).map(m => m.name)
    add(`daemon ${names[i]}: kv writes acknowledged (scheduled ${fmt(rate * keys)}/s${keys > 1 ? ` in requests of ${keys}` : ""}, ${seconds} s)`, `${fmt(w.acked / w.secs)}/s`,
      `${fmt(w.acked)} of ${fmt(w.issued)} issued${w.failed > 0 ? `, ${w.failed} failed (${w.firstError?.message})` : ''}`)
    add(`daemon ${names[i]}: writes received from the two others`, `${fmt(gotAtStop / busySecs)}/s`,
      `${fmt((100 * gotAtStop) / sentByOthers, 1)} % of theirs when the writers stopped (listed within ${fmt(listedMs)} ms); ${fmt((100 * got) / sentByOthers, 2)} % after ${fmt(drainMs)} ms${digests.every(x => x === digests[0]) ? ', same state on all three' : ', states still differ'}`)
    // standalone only (run.js's daemons keep no log): lines of note from the daemon's log
    const noted = ds[i].log?.().split('\n').filter(l => /peer left|left to anti-entropy/.test(l)) ?? []
    if (noted.length > 0) add(`daemon ${names[i]}: log lines of note`, `${noted.length}`, noted.slice(0, 3).join('; ').replaceAll('|', '/'))
    add(`daemon ${names[i]}: members lost`, `${lost[i].length}`, `${lost[i].join(', ')}${disconnected.length > 0 ? `; not connected at the end: ${disconnected.join(', ')}` : ''}`)
    add(`daemon ${names[i]}: CPU, RSS`, `${fmt(cpu1[i] - cpu0[i] > 0 ? (cpu1[i] - cpu0[i]) / busySecs : 0)} % of a core`, `RSS peak ${fmt(rssPeak[i])} MB`)
  }
  add('load average before → after', `${load0} → ${await loadAvg()}`)
  cs.forEach(c => c.close())
  await Promise.all(ds.map(d => lib.stop(d)))
}

// --- the reference: stock js-libp2p gossipsub, one node per process ---------------------

function startRawNode () {
  const child = fork(fileURLToPath(import.meta.url), ['--raw-node'], { execArgv: NODE_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let waiting = null
  child.on('message', msg => { const w = waiting; waiting = null; w?.(msg) })
  const exited = new Promise(resolve => child.once('exit', code => resolve(`raw node exited ${code}`)))
  return {
    pid: child.pid,
    child,
    ask: cmd => new Promise((resolve, reject) => {
      waiting = msg => msg.error != null ? reject(new Error(msg.error)) : resolve(msg)
      void exited.then(why => reject(new Error(why)))
      child.send(cmd)
    })
  }
}

export async function rawGossip (add, { rate = 1_000, seconds = 60 } = {}) {
  const variant = process.env.GOSSIP_RAW_OUTBOX === '1' ? ' + outbox' : process.env.GOSSIP_RAW_MONITOR === 'keep' ? ' (monitor never aborts)' : ''
  const psk = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  const nodes = [startRawNode(), startRawNode(), startRawNode()]
  try {
    const infos = await Promise.all(nodes.map((n, i) => n.ask({ cmd: 'start', psk, index: i })))
    await Promise.all(nodes.map((n, i) => n.ask({ cmd: 'dial', addrs: infos.filter((_, j) => j < i).map(x => x.addr) })))
    await Promise.all(nodes.map(n => n.ask({ cmd: 'ready', peers: 2 })))
    await sleep(3_000)
    const cpu0 = await Promise.all(nodes.map(n => cpuTicks(n.pid)))
    const load0 = await loadAvg()
    const t0 = performance.now()
    const runs = await Promise.all(nodes.map(n => n.ask({ cmd: 'run', rate, seconds })))
    const secs = (performance.now() - t0) / 1000
    const cpu1 = await Promise.all(nodes.map(n => cpuTicks(n.pid)))
    await sleep(5_000) // what was still queued arrives
    const ends = await Promise.all(nodes.map(n => n.ask({ cmd: 'counts' })))
    for (let i = 0; i < nodes.length; i++) {
      const sentByOthers = runs.reduce((s, r, j) => j === i ? s : s + r.sent, 0)
      add(`raw gossipsub${variant} node ${i}: published (scheduled ${fmt(rate)}/s, ${seconds} s, ${RAW_PAYLOAD_BYTES} B)`, `${fmt(runs[i].sent / runs[i].secs)}/s`,
        `${fmt(runs[i].sent)} messages${process.env.GOSSIP_RAW_OUTBOX === '1' ? `; the outbox held back ${fmt(runs[i].deferred)}, dropped ${fmt(runs[i].dropped)}` : ''}`)
      add(`raw gossipsub${variant} node ${i}: received from the two others`, `${fmt(runs[i].received / secs)}/s`,
        `${fmt((100 * runs[i].received) / sentByOthers, 1)} % when publishing stopped, ${fmt((100 * ends[i].received) / sentByOthers, 2)} % 5 s later`)
      add(`raw gossipsub${variant} node ${i}: connections closed, CPU, RSS`, `${ends[i].closed}`, `${fmt((cpu1[i] - cpu0[i]) / secs)} % of a core, RSS peak ${fmt(ends[i].rssPeak)} MB`)
    }
    add('raw gossipsub: load average before → after', `${load0} → ${await loadAvg()}`)
  } finally {
    for (const n of nodes) n.child.kill('SIGKILL')
  }
}

async function rawNode () {
  await import('../dist/polyfill.js')
  const [{ multiaddr }, { stockNode }] = await Promise.all([import('@multiformats/multiaddr'), import('./stock-node.js')])
  // the daemon's pnet (@libp2p/pnet's WASM cipher runs out of memory on unpaced writes)
  const { teamNetwork } = await import('../dist/net/pnet.js')
  const { GossipOutbox, gossipBacklog } = await import('../dist/node/gossip-outbox.js')
  const { CONNECTION_PING_TIMEOUT_MS } = await import('../dist/node/constants.js')
  const withOutbox = process.env.GOSSIP_RAW_OUTBOX === '1'
  let outbox
  const topic = '/bench/gossip/1'
  let node
  let received = 0
  let closed = 0
  let rssPeak = 0
  let index = 0
  const handlers = {
    async start ({ psk, index: i }) {
      index = i
      node = await stockNode({
        protector: teamNetwork({ key: Buffer.from(psk, 'hex') }),
        // GOSSIP_RAW_MONITOR=keep: the stock monitor, but a failed ping does not close the
        // connection; GOSSIP_RAW_OUTBOX=1: the daemon's fixes (the outbox, a 30 s ping timeout)
        connectionMonitor: {
          abortConnectionOnPingFailure: process.env.GOSSIP_RAW_MONITOR !== 'keep',
          ...(withOutbox ? { pingTimeout: { minTimeout: CONNECTION_PING_TIMEOUT_MS } } : {})
        },
        gossip: { allowPublishToZeroTopicPeers: true }
      })
      node.addEventListener('connection:close', evt => {
        closed++
        console.error(`raw node ${index}: connection closed (${evt.detail.status}) ${evt.detail.timeline?.close != null ? '' : ''}`)
      })
      node.services.pubsub.addEventListener('message', evt => { if (evt.detail.topic === topic) received++ })
      node.services.pubsub.subscribe(topic)
      if (withOutbox) outbox = new GossipOutbox({ publish: async data => await node.services.pubsub.publish(topic, data), backlog: gossipBacklog(node.services.pubsub, topic) })
      setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss() / 1048576) }, 1_000).unref()
      return { addr: node.getMultiaddrs()[0].toString() }
    },
    async dial ({ addrs }) {
      for (const a of addrs) await node.dial(multiaddr(a))
      return {}
    },
    async ready ({ peers }) {
      while (node.services.pubsub.getSubscribers(topic).length < peers) await sleep(50)
      return {}
    },
    async run ({ rate, seconds }) {
      received = 0
      let sent = 0
      const payload = new Uint8Array(RAW_PAYLOAD_BYTES)
      const t0 = performance.now()
      while (performance.now() - t0 < seconds * 1000) {
        const due = Math.floor(((performance.now() - t0) / 1000) * rate)
        while (sent < due) {
          const data = withOutbox ? new Uint8Array(RAW_PAYLOAD_BYTES) : payload
          new DataView(data.buffer).setUint32(0, index)
          new DataView(data.buffer).setUint32(4, sent++)
          if (withOutbox) outbox.send(data)
          else await node.services.pubsub.publish(topic, data).catch(() => {})
        }
        await sleep(5)
      }
      return { sent, received, secs: (performance.now() - t0) / 1000, dropped: outbox?.stats.dropped ?? 0, deferred: outbox?.stats.deferred ?? 0 }
    },
    async counts () {
      return { received, closed, rssPeak }
    }
  }
  process.on('message', msg => {
    handlers[msg.cmd](msg).then(r => process.send(r), err => process.send({ error: err.stack ?? String(err) }))
  })
}

// --- standalone -------------------------------------------------------------------------

/** the section for bench/run.js: the daemons, then the raw reference */
export async function gossipBench (add, lib, options = {}) {
  await daemonsGossip(add, lib, options)
  await rawGossip(add, options)
}

if (process.argv.includes('--raw-node')) {
  await rawNode()
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = name => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : undefined }
  const options = { rate: arg('--rate') ?? 1_000, seconds: arg('--seconds') ?? 60, keys: arg('--keys') ?? 1 }
  const which = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'all'
  const rows = []
  const add = (what, v, note = '') => { rows.push([what, v, note]); console.error(`  ${what}: ${v} ${note}`) }
  const lib = ownLib()
  try {
    if (which === 'all' || which === 'daemons') await daemonsGossip(add, lib, options)
    if (which === 'all' || which === 'raw') await rawGossip(add, options)
  } finally {
    await lib.cleanup()
  }
  console.log('\n| what | figure | note |\n|---|---|---|')
  for (const [w, v, n] of rows) console.log(`| ${w} | ${v} | ${n} |`)
  console.log(`\nnode ${process.version}, ${new Date().toISOString()}`)
}
