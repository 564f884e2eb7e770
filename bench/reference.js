#!/usr/bin/env node
// Raw libp2p references for `npm run bench` (issue #14): what stock js-libp2p does on this
// machine, in this run, with the daemon's own stack (TCP, the team pnet of src/net/pnet.ts,
// Noise, yamux, gossipsub configured as the daemon configures it) and none of paired. Each
// bench figure that names a reference is printed beside it with the ratio, so a figure
// taken on a busy machine (this 2-core one moves 10-60 % from hour to hour) still says
// what paired itself costs.
//
// Three stock nodes, each in its own process (this file, forked), as daemons are:
// (a) request/response on a new stream each, as the daemon's queries are: RTT p50/p99 and
//     rate, sequential and 50 in flight; and libp2p's ping service;
// (b) one stream, bulk bytes one way: MB/s (MiB, as the bench's other MB/s);
// (c) gossipsub between the three, every node publishing small messages at once, at offered
//     rates that double until the nodes send no more, fall behind or lose messages: the
//     messages per publisher per second sent and delivered without a growing queue (the
//     second best step: the best alone is too often one lucky window).
//
// `npm run build && node bench/reference.js [runs]` prints the block (and, for runs > 1,
// each figure's spread); `references()` measures once per process and caches it.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS } from './node-flags.js'

const SELF = fileURLToPath(import.meta.url)
const PROTOCOL_RR = '/paired-bench/rr/1.0.0'
const PROTOCOL_BULK = '/paired-bench/bulk/1.0.0'
const TOPIC = '/paired-bench/gossip/1'
/** a status query and its answer are a few hundred bytes of JSON */
const RR_BYTES = 256
const RR_SEQUENTIAL = 1_000
const RR_CONCURRENT = 3_000
const IN_FLIGHT = 50
const PINGS = 300
/** the sequential requests and the pings are taken in this many alternating rounds */
const ROUNDS = 5
const BULK_BYTES = 32 * 1024 * 1024
const BULK_RUNS = 3
/** a gossip message: sender, step, sequence number, send time, padding */
const GOSSIP_BYTES = 100
const GOSSIP_SECONDS = 3
const GOSSIP_RATES = [500, 1_000, 2_000, 4_000, 8_000, 16_000]
/**
 * a step is delivered when this share of the messages arrived (a second after it ended at
 * most), kept up when this share arrived by its end (no queue growing through it), and
 * saturated when the publishers sent less than this times the best step before
 */
const DELIVERED = 0.99
const KEPT_UP = 0.95
const GROWTH = 1.1

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const wallNow = () => performance.timeOrigin + performance.now()
function pct (values, p) {
  const s = [...values].sort((x, y) => x - y)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

/**
 * What each kind of reference is, for the table: `pick` takes it from the measured figures.
 * `time` kinds are durations (a ratio above 1: paired is slower), the others rates (a
 * ratio below 1: paired is slower).
 */
export const REFERENCE_KINDS = {
  rtt: { label: 'new-stream request/response RTT p50', unit: 'ms', digits: 2, time: true, pick: r => r.rr.p50 },
  rtt99: { label: 'new-stream request/response RTT p99', unit: 'ms', digits: 2, time: true, pick: r => r.rr.p99 },
  ping: { label: 'libp2p ping RTT p50', unit: 'ms', digits: 2, time: true, pick: r => r.ping.p50 },
  rate: { label: 'new-stream request/response, sequential', unit: 'req/s', digits: 0, time: false, pick: r => r.rr.rate },
  rate50: { label: `new-stream request/response, ${IN_FLIGHT} in flight`, unit: 'req/s', digits: 0, time: false, pick: r => r.rr50.rate },
  bulk: { label: 'one-stream bulk', unit: 'MB/s', digits: 1, time: false, pick: r => r.bulk.median },
  gossip: { label: 'gossipsub, 3 nodes all publishing, delivered per publisher', unit: 'msgs/s', digits: 0, time: false, pick: r => r.gossip.rate }
}

// --- the bench side ---------------------------------------------------------------------

function startNode (psk) {
  const child = fork(SELF, ['--reference-node'], {
    // the flags the daemon runs with (bin/paired.js)
    execArgv: NODE_FLAGS,
    env: { ...process.env, PAIRED_REFERENCE_PSK: psk },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve(`reference node exited ${code ?? signal}`)))
  const waiting = new Map()
  let nextId = 1
  child.on('message', msg => {
    const w = waiting.get(msg.id)
    waiting.delete(msg.id)
    if (msg.error != null) w?.reject(new Error(`reference node: ${msg.error}`))
    else w?.resolve(msg.result)
  })
  void exited.then(why => { for (const w of waiting.values()) w.reject(new Error(why)) })
  return {
    ask: (cmd, args = {}) => new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      child.send({ id, cmd, ...args })
    }),
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      if (child.connected) child.send({ id: 0, cmd: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/**
 * offered rates, doubling, until the publishers send no more (two steps in a row), the
 * receivers fall behind or messages are lost; the figure is the second best rate per
 * publisher of the delivered, kept-up steps: what the three processes carry without a
 * growing queue
 */
async function gossipSteps (nodes, progress) {
  await Promise.all(nodes.map(n => n.ask('subscribe', { peers: nodes.length - 1 })))
  // warm-up (JIT, gossipsub's first mesh), not counted: on a busy machine the first counted
  // step still comes out slow, so the figure is the best step, not the last
  await Promise.all(nodes.map((n, i) => n.ask('publish', { sender: i, step: 255, rate: 300, seconds: 2 })))
  await sleep(500)
  const steps = []
  for (const [step, rate] of GOSSIP_RATES.entries()) {
    await Promise.all(nodes.map(n => n.ask('gossipReset', { step })))
    const sent = await Promise.all(nodes.map((n, i) => n.ask('publish', { sender: i, step, rate, seconds: GOSSIP_SECONDS })))
    const published = sent.reduce((s, x) => s + x.published, 0)
    const expected = published * (nodes.length - 1)
    const inTime = (await Promise.all(nodes.map(n => n.ask('gossipCount')))).reduce((s, x) => s + x, 0)
    // what is still queued arrives within a second or it is as good as lost for this figure
    let stats
    for (let t = 0; t < 20; t++) {
      stats = await Promise.all(nodes.map(n => n.ask('gossipStats')))
      if (stats.reduce((s, x) => s + x.received, 0) >= expected) break
      await sleep(50)
    }
    const received = stats.reduce((s, x) => s + x.received, 0)
    const lat = stats.flatMap(x => x.lat)
    const secs = Math.max(...sent.map(x => x.seconds))
    const s = { offered: rate, rate: published / nodes.length / secs, delivery: expected === 0 ? 0 : received / expected, inTime: expected === 0 ? 0 : inTime / expected, p50: pct(lat, 50), p99: pct(lat, 99) }
    s.delivered = s.delivery >= DELIVERED
    s.keptUp = s.inTime >= KEPT_UP
    // on a busy machine one step can come out slow: saturated means two in a row below the best
    s.saturated = steps.length > 0 && s.rate < GROWTH * Math.max(...steps.map(x => x.rate))
    steps.push(s)
    progress(`gossip ${rate}/s per node: sent ${s.rate.toFixed(0)}/s, delivered ${(s.delivery * 100).toFixed(2)} % (${(s.inTime * 100).toFixed(1)} % by the end of the step), p50 ${s.p50.toFixed(1)} ms`)
    if (!s.delivered || !s.keptUp || (s.saturated && steps.at(-2)?.saturated === true)) break
  }
  // the second best step: the best alone can be one lucky 3 s window on a busy machine
  // (six runs at load 20-25 on 2 cores: best 894-2,017 msgs/s, second best 731-867)
  const good = steps.filter(s => s.delivered && s.keptUp).sort((x, y) => y.rate - x.rate)
  const pick = good[1] ?? good[0]
  return { ...(pick ?? { rate: 0, delivery: 0, p50: NaN, p99: NaN, offered: 0 }), bound: !steps.some(s => s.saturated), steps }
}

/** one measurement of every reference: three fresh node processes, about 20 s */
export async function measureReferences ({ progress = () => {} } = {}) {
  const t0 = performance.now()
  const load = loadavg()[0]
  const psk = randomBytes(32).toString('hex')
  const nodes = [startNode(psk), startNode(psk), startNode(psk)]
  try {
    const info = await Promise.all(nodes.map(n => n.ask('start')))
    await nodes[1].ask('dial', { addr: info[0].addr })
    await nodes[2].ask('dial', { addr: info[0].addr })
    await nodes[2].ask('dial', { addr: info[1].addr })
    const server = info[0].peerId
    const client = nodes[1]

    await client.ask('rr', { peer: server, n: 200, concurrency: 1 }) // warm-up: JIT, stream paths
    // sequential requests and pings in alternating rounds, pooled: a burst of load from
    // elsewhere lands on a round of each, not on all of one (measured: one 21 ms p50 in ten)
    const seq = { lat: [], seconds: 0 }
    const pings = []
    for (let round = 0; round < ROUNDS; round++) {
      const r = await client.ask('rr', { peer: server, n: RR_SEQUENTIAL / ROUNDS, concurrency: 1 })
      seq.lat.push(...r.lat)
      seq.seconds += r.seconds
      pings.push(...await client.ask('ping', { peer: server, n: PINGS / ROUNDS }))
    }
    const rr = { p50: pct(seq.lat, 50), p99: pct(seq.lat, 99), rate: seq.lat.length / seq.seconds }
    const ping = { p50: pct(pings, 50), p99: pct(pings, 99) }
    progress(`request/response sequential: p50 ${rr.p50.toFixed(2)} ms, ${rr.rate.toFixed(0)} req/s`)
    const conc = await client.ask('rr', { peer: server, n: RR_CONCURRENT, concurrency: IN_FLIGHT })
    const rr50 = { p50: pct(conc.lat, 50), p99: pct(conc.lat, 99), rate: conc.lat.length / conc.seconds }
    progress(`request/response ${IN_FLIGHT} in flight: ${rr50.rate.toFixed(0)} req/s`)
    const bulkRuns = await client.ask('bulk', { peer: server, bytes: BULK_BYTES, runs: BULK_RUNS })
    const bulk = { median: pct(bulkRuns, 50), min: Math.min(...bulkRuns), max: Math.max(...bulkRuns) }
    progress(`bulk: ${bulk.median.toFixed(1)} MB/s`)
    const gossip = await gossipSteps(nodes, progress)
    return { rr, rr50, ping, bulk, gossip, load, cores: availableParallelism(), seconds: (performance.now() - t0) / 1000, at: new Date().toISOString() }
  } finally {
    await Promise.all(nodes.map(n => n.stop()))
  }
}

let cached
/** the references of this run: measured at the first call, the same figures after */
export function references (options) {
  cached ??= measureReferences(options)
  return cached
}

/** `{ label, unit, value, text }` of `kind` in `refs` (throws for a kind that does not exist) */
export function referenceOf (refs, kind) {
  const k = REFERENCE_KINDS[kind]
  if (k == null) throw new Error(`no reference of kind "${kind}" (known: ${Object.keys(REFERENCE_KINDS).join(', ')})`)
  const value = k.pick(refs)
  return { ...k, value, text: `${k.label}: ${value.toFixed(k.digits)} ${k.unit}` }
}

/** the Markdown block printed at the top of a bench run */
export function formatReferences (r) {
  const f = (n, d) => Number(n).toFixed(d)
  const g = r.gossip
  const steps = g.steps.map(s => `${s.offered}/s: ${f(s.rate, 0)} sent, ${f(s.inTime * 100, 1)} % in time, p50 ${f(s.p50, 1)} ms${s.saturated ? ' (saturated)' : ''}${s.keptUp ? '' : ' (fell behind)'}${s.delivered ? '' : ' (lost)'}`).join('; ')
  return [
    `references (raw libp2p, same run: stock nodes in 3 processes on 127.0.0.1, TCP + team pnet + Noise + yamux; ${f(r.seconds, 0)} s, load ${f(r.load, 2)} on ${r.cores} cores, ${r.at})`,
    '',
    '| reference | figure | detail |',
    '|---|---|---|',
    `| (a) request/response, new stream each (${RR_BYTES} B each way), sequential, ${RR_SEQUENTIAL} samples in ${ROUNDS} rounds alternating with the pings | RTT p50 **${f(r.rr.p50, 2)} ms**, p99 ${f(r.rr.p99, 2)} ms | **${f(r.rr.rate, 0)} req/s** |`,
    `| (a) request/response, new stream each, ${IN_FLIGHT} in flight, ${RR_CONCURRENT} requests | **${f(r.rr50.rate, 0)} req/s** | latency p50 ${f(r.rr50.p50, 2)} ms, p99 ${f(r.rr50.p99, 2)} ms |`,
    `| (a) libp2p ping service, ${PINGS} samples in ${ROUNDS} rounds | RTT p50 **${f(r.ping.p50, 2)} ms** | p99 ${f(r.ping.p99, 2)} ms |`,
    `| (b) one stream, ${BULK_BYTES / 1048576} MB one way in 64 KiB writes, ${BULK_RUNS} runs | **${f(r.bulk.median, 1)} MB/s** median | min ${f(r.bulk.min, 1)}, max ${f(r.bulk.max, 1)} |`,
    `| (c) gossipsub, 3 nodes all publishing ${GOSSIP_BYTES} B messages for ${GOSSIP_SECONDS} s at doubling offered rates until they send no more: the second best rate sent per publisher of the steps with ≥ ${KEPT_UP * 100} % delivered by the end of the step and ≥ ${DELIVERED * 100} % a second later | **${g.bound ? '≥ ' : ''}${f(g.rate, 0)} msgs/s per publisher** (${f(g.rate * 2, 0)} received per node) | at offered ${g.offered}/s: delivered ${f(g.delivery * 100, 2)} %, latency p50 ${f(g.p50, 1)} ms, p99 ${f(g.p99, 1)} ms; per offered rate: ${steps} |`
  ].join('\n')
}

// --- a reference node (a child process) --------------------------------------------------

async function referenceNode () {
  await import('../dist/polyfill.js')
  const [{ peerIdFromString }, { lpStream }, { multiaddr }, { stockNode }] = await Promise.all([
    import('@libp2p/peer-id'), import('@libp2p/utils'), import('@multiformats/multiaddr'), import('./stock-node.js')
  ])
  const { teamNetwork } = await import('../dist/net/pnet.js')
  const { GOSSIP_HEARTBEAT_MS, IDONTWANT_MIN_BYTES } = await import('../dist/node/constants.js')

  const node = await stockNode({
    protector: teamNetwork({ key: Buffer.from(process.env.PAIRED_REFERENCE_PSK, 'hex') }),
    // no pings of its own on the connections while it is measured
    connectionMonitor: { enabled: false },
    // as src/node/create-node.ts has it, minus the team's topic scores
    gossip: { allowPublishToZeroTopicPeers: true, heartbeatInterval: GOSSIP_HEARTBEAT_MS, idontwantMinDataSize: IDONTWANT_MIN_BYTES }
  })

  // (a) echo one frame, as a query is answered; (b) count bytes until the writer closes
  await node.handle(PROTOCOL_RR, async stream => {
    const lp = lpStream(stream)
    try {
      await lp.write(await lp.read())
      await stream.close()
    } catch (err) {
      stream.abort(err)
    }
  }, { maxInboundStreams: IN_FLIGHT * 4 })
  await node.handle(PROTOCOL_BULK, stream => {
    // a stream nobody reads buffers what arrives, and is reset when the buffer is full
    let bytes = 0
    stream.addEventListener('message', evt => { bytes += evt.data.byteLength })
    stream.addEventListener('remoteCloseWrite', () => {
      const ack = new Uint8Array(8)
      new DataView(ack.buffer).setFloat64(0, bytes)
      stream.send(ack)
      stream.close().catch(err => stream.abort(err))
    })
  })

  // only the current step's messages count: a straggler of the step before is not one of them
  const gossip = { step: -1, received: 0, lat: [] }
  node.services.pubsub.addEventListener('message', evt => {
    if (evt.detail.topic !== TOPIC) return
    const view = new DataView(evt.detail.data.buffer, evt.detail.data.byteOffset, evt.detail.data.byteLength)
    if (view.getUint8(1) !== gossip.step) return
    gossip.received++
    gossip.lat.push(wallNow() - view.getFloat64(8))
  })

  async function rr ({ peer, n, concurrency }) {
    const id = peerIdFromString(peer)
    const payload = randomBytes(RR_BYTES)
    const lat = []
    let next = 0
    const t0 = performance.now()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const t = performance.now()
        const stream = await node.dialProtocol(id, PROTOCOL_RR, { maxOutboundStreams: IN_FLIGHT * 4, signal: AbortSignal.timeout(10_000) })
        const lp = lpStream(stream)
        await lp.write(payload)
        await lp.read()
        lat.push(performance.now() - t)
        await stream.close()
      }
    }))
    return { lat, seconds: (performance.now() - t0) / 1000 }
  }

  async function pingPeer ({ peer, n }) {
    const id = peerIdFromString(peer)
    const lat = []
    // ping() answers in whole milliseconds (Date.now): timed here instead
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      await node.services.ping.ping(id)
      lat.push(performance.now() - t)
    }
    return lat
  }

  async function bulk ({ peer, bytes, runs }) {
    const id = peerIdFromString(peer)
    const chunk = randomBytes(64 * 1024)
    const rates = []
    for (let r = 0; r < runs; r++) {
      const stream = await node.dialProtocol(id, PROTOCOL_BULK)
      const acked = new Promise(resolve => stream.addEventListener('message', evt => resolve(evt.data.subarray()), { once: true }))
      const t0 = performance.now()
      for (let sent = 0; sent < bytes; sent += chunk.byteLength) {
        if (!stream.send(chunk)) await stream.onDrain()
      }
      await stream.close()
      const ack = await acked
      const got = new DataView(ack.buffer, ack.byteOffset, ack.byteLength).getFloat64(0)
      if (got !== bytes) throw new Error(`bulk: the reader got ${got} bytes of ${bytes}`)
      rates.push(bytes / 1048576 / ((performance.now() - t0) / 1000))
    }
    return rates
  }

  async function subscribe ({ peers }) {
    node.services.pubsub.subscribe(TOPIC)
    const deadline = performance.now() + 30_000
    while (node.services.pubsub.getSubscribers(TOPIC).length < peers) {
      if (performance.now() > deadline) throw new Error('gossipsub peers never subscribed')
      await sleep(20)
    }
  }

  /** every 10 ms, what is due by now (a late tick sends more) */
  async function publish ({ sender, step, rate, seconds }) {
    const data = new Uint8Array(GOSSIP_BYTES)
    const view = new DataView(data.buffer)
    let published = 0
    const start = performance.now()
    const end = start + seconds * 1000
    for (let now = start; now < end; now = performance.now()) {
      const due = Math.floor(((now - start) / 1000) * rate)
      for (; published < due; published++) {
        view.setUint8(0, sender)
        view.setUint8(1, step)
        view.setUint32(2, published)
        view.setFloat64(8, wallNow())
        await node.services.pubsub.publish(TOPIC, data.slice())
        // a publish only queues its frames: let the sockets write (and other peers' messages
        // in) between small batches, or a late tick's whole backlog would leave at once
        if (published % 32 === 31) await new Promise(resolve => setImmediate(resolve))
      }
      await sleep(10)
    }
    return { published, seconds: (performance.now() - start) / 1000 }
  }

  const handlers = {
    start: () => ({ peerId: node.peerId.toString(), addr: node.getMultiaddrs()[0].toString() }),
    dial: async ({ addr }) => { await node.dial(multiaddr(addr)) },
    rr,
    ping: pingPeer,
    bulk,
    subscribe,
    publish,
    gossipReset: ({ step }) => { gossip.step = step; gossip.received = 0; gossip.lat = [] },
    gossipCount: () => gossip.received,
    gossipStats: () => ({ received: gossip.received, lat: gossip.lat })
  }
  const stop = async () => {
    await node.stop().catch(() => {})
    process.exit(0)
  }
  process.on('disconnect', () => { void stop() })
  process.on('message', msg => {
    if (msg.cmd === 'stop') { void stop(); return }
    void (async () => {
      try {
        process.send({ id: msg.id, result: await handlers[msg.cmd](msg) ?? null })
      } catch (err) {
        process.send({ id: msg.id, error: `${msg.cmd}: ${err?.stack ?? (err?.type != null ? `event ${err.type} ${err.error?.stack ?? ''}` : String(err))}` })
      }
    })()
  })
}

// --- alone: `node bench/reference.js [runs]` ----------------------------------------------

async function alone (runs) {
  const all = []
  for (let i = 0; i < runs; i++) {
    const r = await measureReferences({ progress: line => console.error(`  [${i + 1}/${runs}] ${line}`) })
    all.push(r)
    console.log(`${formatReferences(r)}\n`)
  }
  if (runs > 1) {
    console.log(`spread over ${runs} runs (min – max, and (max − min) / median):\n`)
    for (const k of Object.values(REFERENCE_KINDS)) {
      const v = all.map(r => k.pick(r))
      const med = pct(v, 50)
      console.log(`- ${k.label}: ${v.map(x => x.toFixed(k.digits)).join(', ')} ${k.unit} → ${Math.min(...v).toFixed(k.digits)} – ${Math.max(...v).toFixed(k.digits)}, spread ${((Math.max(...v) - Math.min(...v)) / med * 100).toFixed(0)} %`)
    }
  }
  console.log(`\nnode ${process.version}, ${new Date().toISOString()}, load ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
}

if (process.argv[2] === '--reference-node' && process.send != null) await referenceNode()
else if (process.argv[1] === SELF) await alone(Math.max(1, Number(process.argv[2] ?? 1)))
