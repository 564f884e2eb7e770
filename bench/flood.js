// The flood section of `npm run bench` (issue #3, "Trust under attack"): one member sends
// 5,000 requests/s to a daemon for 10 s. Two real daemons on 127.0.0.1, the target A and
// the observer C, and the flooder X: a stock js-libp2p node (not the daemon) that joined
// with a real member invite and speaks the wire protocols by hand. X runs in a child
// process of its own (this file, forked), so its work does not slow the timing loops here.
//
// Reports X's achieved rate and how A answered it; C → A ping and query p50/p99 and A's own
// API latency without and during the flood; A's CPU and RSS; whether A and C stayed
// connected; A's view of X afterwards. The main flood is a mix; three variants (queries
// only, task requests only, the mix with X at nice 19) tell which part costs A what, and
// how much of the observer's slowdown comes from the cores X shares with A. Asserts nothing.
import { fork } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { availableParallelism, setPriority } from 'node:os'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS } from './node-flags.js'

/** X's schedule: requests per second over all kinds, for this long */
const FLOOD_RATE = 5_000
const FLOOD_SECONDS = 10
/**
 * The floods, in this order (X's nice value can only go up). `queryShare` of the requests
 * are status queries, a new `/paired/query/1.0.0` stream each as the daemon's own client
 * opens them; the rest are task requests on one `/paired/task/1.0.0` stream, half `logs`
 * for a task A does not know, half `offer`s of an agent A does not serve.
 */
const PHASES = [
  { label: 'mix', queryShare: 0.6, nice: 0 },
  { label: 'status queries only', queryShare: 1, nice: 0 },
  { label: 'task requests only', queryShare: 0, nice: 0 },
  { label: 'the mix, X at nice 19 (the scheduler favours A, C and the client)', queryShare: 0.6, nice: 19 }
]
/** X sends what is due every this many ms */
const TICK_MS = 10
/** X's cap on its query streams in flight (under yamux's 1,000 streams per connection); a due query past it is not sent */
const MAX_QUERIES_IN_FLIGHT = 256
/** the observer's pace: one ping every 30 ms, one query and one A status every 50 ms */
const PING_EVERY_MS = 30
const QUERY_EVERY_MS = 50
const STATUS_EVERY_MS = 50
const BASELINE_MS = 10_000
/** after each flood, observed too; it also lets A's buckets refill before the next */
const AFTER_MS = 5_000

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// --- the bench side ---------------------------------------------------------------------

async function cpuTicks (pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime + stime, in clock ticks (100/s)
}

/** busy and total jiffies of the whole machine, all cores (/proc/stat) */
async function machineTicks () {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = f.reduce((s, v) => s + v, 0)
  return { busy: total - f[3] - f[4], total } // minus idle and iowait
}
const machineBusy = (t0, t1) => (t1.busy - t0.busy) / (t1.total - t0.total)

async function rssMb (pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
}

/** the flooder child: `ask` sends a command and resolves with its answer */
function startFlooder () {
  const child = fork(fileURLToPath(import.meta.url), ['--flooder'], {
    execArgv: NODE_FLAGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve(`flooder exited ${code ?? signal}`)))
  let waiting = null
  child.on('message', msg => { const w = waiting; waiting = null; w?.(msg) })
  return {
    pid: child.pid,
    ask: cmd => new Promise((resolve, reject) => {
      waiting = msg => msg.error != null ? reject(new Error(`flooder: ${msg.error}`)) : resolve(msg)
      void exited.then(why => reject(new Error(why)))
      child.send(cmd)
    }),
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      if (child.connected) child.send({ cmd: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/**
 * The observer's view for `ms`: C pings and queries A, the client asks A's own API for its
 * status, and C's and A's peer lists are read every 500 ms. Each loop is sequential and
 * paced, the same in every window.
 */
async function observe (lib, { a, c, idA, idC }, ms) {
  let done = false
  const o = { rtt: [], pingApi: [], query: [], status: [], failed: 0, onC: new Map(), onA: new Map() }
  const count = (map, k) => map.set(k, (map.get(k) ?? 0) + 1)
  const loop = async (everyMs, fn) => {
    while (!done) {
      await fn()
      await sleep(everyMs)
    }
  }
  const timed = async (list, call) => {
    const t0 = performance.now()
    try {
      const r = await call()
      list.push(performance.now() - t0)
      return r
    } catch {
      o.failed++
    }
  }
  const peerState = (rows, id) => {
    const r = rows.find(p => p.peerId === id)
    return r == null ? 'missing' : `${r.state}${r.connected ? '' : ' (not connected)'}`
  }
  const loops = [
    loop(PING_EVERY_MS, async () => {
      const r = await timed(o.pingApi, () => lib.api(c, 'GET', `/api/v1/peers/${idA}/ping`))
      if (r != null) o.rtt.push(r.rttMs)
    }),
    loop(QUERY_EVERY_MS, () => timed(o.query, () => lib.api(c, 'GET', `/api/v1/peers/${idA}/status`))),
    loop(STATUS_EVERY_MS, () => timed(o.status, () => lib.api(a, 'GET', '/api/v1/status'))),
    loop(500, async () => {
      const [onC, onA] = await Promise.all([lib.api(c, 'GET', '/api/v1/peers'), lib.api(a, 'GET', '/api/v1/peers')]).catch(() => [[], []])
      count(o.onC, peerState(onC, idA))
      count(o.onA, peerState(onA, idC))
    })
  ]
  await sleep(ms)
  done = true
  await Promise.all(loops)
  return o
}

async function formTeam (lib, a, c) {
  await lib.api(a, 'POST', '/api/v1/team/create', { name: 'bench-flood' })
  const { token } = await lib.api(a, 'POST', '/api/v1/team/invites', {})
  await lib.api(c, 'POST', '/api/v1/team/join', { token })
  await lib.allConnected([a, c])
  for (;;) {
    const rows = [...await lib.api(a, 'GET', '/api/v1/peers'), ...await lib.api(c, 'GET', '/api/v1/peers')]
    if (rows.length >= 2 && rows.every(r => r.state === 'alive')) return
    await sleep(50)
  }
}

/**
 * A fresh X (its own key, a member invite), verified by A. One per flood: A cuts off a peer
 * that floods far past its limits for 30 s, so the next flood needs another member.
 */
async function joinFlooder (lib, a, target) {
  const { token } = await lib.api(a, 'POST', '/api/v1/team/invites', { role: 'member' })
  const x = startFlooder()
  try {
    const { peerId } = await x.ask({ cmd: 'join', token, target })
    for (;;) {
      const row = (await lib.api(a, 'GET', '/api/v1/peers')).find(p => p.peerId === peerId)
      if (row != null && row.connected && row.state !== 'unverified') break
      await sleep(50)
    }
    const role = (await lib.api(a, 'GET', '/api/v1/team/members')).find(m => m.peerId === peerId)?.role
    return { x, idX: peerId, role }
  } catch (err) {
    await x.stop().catch(() => {})
    throw err
  }
}

/** one flood by a fresh X: its counts, the observer's view during and after it, A's CPU and RSS */
async function floodPhase (lib, who, phase) {
  const { a } = who
  const { x, idX, role } = await joinFlooder(lib, a, who.target)
  try {
    return { ...await floodBy(lib, who, x, phase), idX, role }
  } finally {
    await x.stop().catch(() => {})
  }
}

async function floodBy (lib, who, x, phase) {
  const { a } = who
  if (phase.nice !== 0) setPriority(x.pid, phase.nice)
  const rssBefore = await rssMb(a.proc.pid)
  const [cpuA0, cpuX0, m0] = await Promise.all([cpuTicks(a.proc.pid), cpuTicks(x.pid), machineTicks()])
  const t0 = performance.now()
  const cutOffs = who.cutOffs.length
  const flooding = x.ask({ cmd: 'flood', targetId: who.idA, rate: FLOOD_RATE, seconds: FLOOD_SECONDS, queryShare: phase.queryShare, tickMs: TICK_MS, maxInFlight: MAX_QUERIES_IN_FLIGHT })
  flooding.catch(() => {}) // awaited below; a failure must not go unhandled meanwhile
  const during = await observe(lib, who, FLOOD_SECONDS * 1000)
  const secs = (performance.now() - t0) / 1000
  const [cpuA1, cpuX1, m1] = await Promise.all([cpuTicks(a.proc.pid), cpuTicks(x.pid), machineTicks()])
  const rssAfter = await rssMb(a.proc.pid)
  const x1 = await flooding // X waits for its requests in flight (≤ 5 s) before it answers
  const after = await observe(lib, who, AFTER_MS)
  const cutAt = who.cutOffs.slice(cutOffs)[0]
  return { ...phase, x: x1, during, after, cutOffMs: cutAt == null ? null : cutAt - t0, cpuA: (cpuA1 - cpuA0) / secs, cpuX: (cpuX1 - cpuX0) / secs, machine: machineBusy(m0, m1), rssBefore, rssAfter }
}

export async function floodBench (add, lib) {
  // dist is built by `npm run bench` before this module's functions run
  const { QUERY_LIMIT, TASK_REQUEST_LIMIT } = await import('../dist/net/limits.js')
  const limit = l => `limit ${n(l.ratePerSec)}/s, burst ${n(l.burst)}${l.slack != null ? `, then a slack of ${n(l.slack.burst)} + ${n(l.slack.ratePerSec)}/s refusals before the cut-off` : ''}`
  const { fmt, median, pct } = lib
  const ms = v => v == null ? 'n/a' : `${fmt(v, 2)} ms`
  const n = v => v.toLocaleString('en')
  const p99 = v => pct(v, 99)
  const ratio = (d, b) => `${fmt(p99(d) / p99(b), 1)}×`
  const states = m => [...m].map(([k, v]) => `${k} ×${v}`).join(', ')
  const a = await lib.startDaemon(await lib.home('fa'), 'fa')
  let c
  try {
    c = await lib.startDaemon(await lib.home('fc'), 'fc')
    await formTeam(lib, a, c)
    const statusA = await lib.api(a, 'GET', '/api/v1/status')
    const idA = statusA.peerId
    const idC = (await lib.api(c, 'GET', '/api/v1/status')).peerId
    const target = statusA.addresses.find(s => s.includes('/tcp/') && s.includes('/p2p/'))

    // settle, then warm up the observer's paths
    await sleep(3_000)
    for (let i = 0; i < 20; i++) {
      await lib.api(c, 'GET', `/api/v1/peers/${idA}/ping`)
      await lib.api(c, 'GET', `/api/v1/peers/${idA}/status`)
    }
    // A's "cutting off" lines (its log is on stderr), timed as they arrive
    const cutOffs = []
    a.proc.stderr.on('data', d => { if (d.toString().includes('cutting off')) cutOffs.push(performance.now()) })
    const who = { a, c, idA, idC, target, cutOffs }

    const [cpuBase0, mBase0] = await Promise.all([cpuTicks(a.proc.pid), machineTicks()])
    const t0 = performance.now()
    const base = await observe(lib, who, BASELINE_MS)
    const cpuBase = (await cpuTicks(a.proc.pid) - cpuBase0) / ((performance.now() - t0) / 1000)
    const machineBase = machineBusy(mBase0, await machineTicks())
    const rssStart = await rssMb(a.proc.pid)
    const phases = []
    for (const phase of PHASES) phases.push(await floodPhase(lib, who, phase))
    const rssEnd = await rssMb(a.proc.pid)

    // the main flood, in full
    const m = phases[0]
    const { idX, role } = m
    const { query: q, task: tk, seconds: fs } = m.x
    const tasksSent = tk.sent.logs + tk.sent.offer
    const sent = q.sent + tasksSent
    add(`flood: X → A, ${n(FLOOD_RATE)} req/s scheduled for ${FLOOD_SECONDS} s, ${fmt(m.queryShare * 100, 0)} % status queries (new stream each), the rest task logs + offers (one stream)`,
      `**${fmt(sent / fs, 0)} req/s** sent`,
      `${n(sent)} in ${fmt(fs, 2)} s: queries ${fmt(q.sent / fs, 0)}/s (${n(q.skipped)} due ones not sent: X's ${MAX_QUERIES_IN_FLIGHT} in flight), task ${fmt(tasksSent / fs, 0)}/s; ` +
      `X's CPU ${fmt(m.cpuX, 0)} % of a core; X: stock js-libp2p, a ${role ?? '?'} by invite, its own process; ` +
      (m.cutOffMs == null ? 'A never cut X off' : `A cut X off (hung up, its connections refused for 30 s) ${fmt(m.cutOffMs, 0)} ms into the flood`))
    const qErrors = Object.entries(q.errors).sort((u, v) => v[1] - u[1]).map(([k, v]) => `${k} ×${n(v)}`).join(', ')
    add('flood: status queries answered / refused (X\'s count)',
      `${n(q.answered)} answered (${fmt(q.answered / fs, 0)}/s) / ${n(q.sent - q.answered)} refused`,
      `${limit(QUERY_LIMIT)}; refused = the stream reset by A after it was negotiated (the query limiter, or libp2p's 32 inbound streams per protocol: the same to X), seen by X as ${qErrors || 'none'}; X's open → refusal p50 ${ms(median(q.refusedMs))}, p99 ${ms(p99(q.refusedMs))}; answered p50 ${ms(median(q.answeredMs))}`)
    const reasons = Object.entries(tk.reasons).map(([k, v]) => `"${k}" ×${n(v)}`).join(', ')
    add('flood: task requests answered / refused (X\'s count)',
      `logs ${n(tk.answered.logs)} / ${n(tk.refused.logs)}, offers ${n(tk.answered.offer)} / ${n(tk.refused.offer)}`,
      `${limit(TASK_REQUEST_LIMIT)}; each answered by a \`reply\` frame: ${reasons || 'none'}; ${tk.unanswered} unanswered${tk.error != null ? `, stream: ${tk.error}` : ''}`)
    // `kind`: the raw libp2p reference of the baseline p50 (during the flood, the p99 ratio to the baseline says it)
    const row = (what, b, d, af, kind) => add(`${what}, baseline → during the flood`,
      `p50 ${ms(median(b))} → **${ms(median(d))}**, p99 ${ms(p99(b))} → **${ms(p99(d))}**`,
      `p99 ratio **${ratio(d, b)}**; ${b.length} / ${d.length} samples; in the 5 s after: p50 ${ms(median(af))}, p99 ${ms(p99(af))}${kind != null ? '; reference ratio: the baseline p50' : ''}`,
      kind != null ? { kind, value: median(b) } : undefined)
    row('C → A ping RTT (libp2p ping, timed in C)', base.rtt, m.during.rtt, m.after.rtt, 'ping')
    row('C → A query (remote status over `/paired/query/1.0.0`, through C\'s API)', base.query, m.during.query, m.after.query, 'rtt')
    row('A\'s own API `GET /api/v1/status`', base.status, m.during.status, m.after.status)
    add('A\'s CPU during the flood', `${fmt(m.cpuA, 0)} % of a core`,
      `baseline window (observer only): ${fmt(cpuBase, 0)} %; the whole machine (${availableParallelism()} cores, every process on it) busy ${fmt(m.machine * 100, 0)} % during the flood, ${fmt(machineBase * 100, 0)} % in the baseline`)
    add('A\'s RSS before → right after the flood', `${fmt(m.rssBefore, 0)} → ${fmt(m.rssAfter, 0)} MB`,
      `after all ${PHASES.length} floods (${n(phases.reduce((s, p) => s + p.x.query.sent + p.x.task.sent.logs + p.x.task.sent.offer, 0))} requests): ${fmt(rssEnd, 0)} MB (${fmt(rssStart, 0)} before the first)`)

    // the variants, one row each
    for (const p of phases.slice(1)) {
      const pq = p.x.query
      const pt = p.x.task
      const ptSent = pt.sent.logs + pt.sent.offer
      const ptAnswered = pt.answered.logs + pt.answered.offer
      const what = [
        pq.sent > 0 ? `queries ${fmt(pq.sent / p.x.seconds, 0)}/s sent: ${n(pq.answered)} answered of ${n(pq.sent)}` : '',
        ptSent > 0 ? `task ${fmt(ptSent / p.x.seconds, 0)}/s sent: ${n(ptAnswered)} answered, ${n(ptSent - ptAnswered - pt.unanswered)} refused of ${n(ptSent)}` : ''
      ].filter(Boolean).join('; ')
      add(`flood variant: ${p.label}`,
        `ping p99 **${ratio(p.during.rtt, base.rtt)}**, query p99 **${ratio(p.during.query, base.query)}**, A API p99 ${ratio(p.during.status, base.status)}`,
        `${what}; ${p.cutOffMs == null ? 'not cut off' : `X cut off after ${fmt(p.cutOffMs, 0)} ms`}; A's CPU ${fmt(p.cpuA, 0)} %, X's ${fmt(p.cpuX, 0)} %, machine busy ${fmt(p.machine * 100, 0)} %; during: ping p50 ${ms(median(p.during.rtt))} p99 ${ms(p99(p.during.rtt))}, query p50 ${ms(median(p.during.query))} p99 ${ms(p99(p.during.query))}`)
    }

    // what stayed up, and what A thinks of X
    const onC = new Map()
    const onA = new Map()
    let failed = 0
    for (const p of phases) {
      for (const [k, v] of p.during.onC) onC.set(k, (onC.get(k) ?? 0) + v)
      for (const [k, v] of p.during.onA) onA.set(k, (onA.get(k) ?? 0) + v)
      failed += p.during.failed
    }
    const endC = (await lib.api(c, 'GET', '/api/v1/peers')).find(p => p.peerId === idA)
    add('A as seen by C, every 500 ms during the floods', states(onC),
      `C as seen by A: ${states(onA)}; at the end C shows A ${endC?.state ?? 'missing'}; observer requests failed during the floods: ${failed}`)
    const xOnA = await lib.api(a, 'GET', `/api/v1/peers/${idX}`)
    const floods = xOnA.reputationHistory.filter(e => e.event.includes('flood')).length
    const last = xOnA.reputationHistory.at(-1)
    add('A\'s view of X afterwards (`GET /api/v1/peers/<X>`)',
      `reputation ${xOnA.reputation == null ? 'none' : fmt(xOnA.reputation, 3)}, **${xOnA.reputationStatus ?? 'no status'}**`,
      `${floods} \`flood\` events of ${xOnA.reputationHistory.length} in its history (at most one a second); last: ${last == null ? 'none' : `${last.event} → ${fmt(last.score, 3)}, ${last.status}`}; X still ${xOnA.state}, connected ${xOnA.connected}`)
  } finally {
    for (const d of [a, c]) if (d != null) await lib.stop(d).catch(() => {})
  }
}

// --- the flooder (a child process) ------------------------------------------------------

async function flooder () {
  await import('../dist/polyfill.js')
  const [{ generateKeyPair }, { peerIdFromString }, { preSharedKey }, { lpStream }, { multiaddr }, { stockNode }] = await Promise.all([
    import('@libp2p/crypto/keys'), import('@libp2p/peer-id'), import('@libp2p/pnet'), import('@libp2p/utils'),
    import('@multiformats/multiaddr'), import('./stock-node.js')
  ])
  const { swarmKey } = await import('../dist/node/create-node.js')
  const { MAX_QUERY_MESSAGE_BYTES, MAX_TEAM_MESSAGE_BYTES, PROTOCOL_QUERY, PROTOCOL_TEAM } = await import('../dist/node/constants.js')
  const { jsonChannel } = await import('../dist/protocol/frames.js')
  const { isObject } = await import('../dist/model/guards.js')
  // X checks what it reads by hand: any frame is taken as it comes
  const anyFrame = { check: () => true, problem: () => null }
  const channel = (stream, protocol, maxBytes) => jsonChannel(stream, { protocol, maxBytes, timeoutMs: 5_000 })
  const { MAX_TASK_MESSAGE_BYTES, PROTOCOL_TASK } = await import('../dist/tasks/constants.js')
  const { acceptInvite, decodeInvite, signerFromSeed } = await import('../dist/team/index.js')

  let node
  let cert
  const helloPayload = type => ({ type, cert, roster: [cert], departures: [] })

  async function join ({ token, target }) {
    const invite = decodeInvite(token)
    const privateKey = await generateKeyPair('Ed25519')
    node = await stockNode({
      privateKey,
      protector: preSharedKey({ psk: swarmKey(invite.team.psk) }),
      // a flooder keeps its connection: the stock monitor (a ping every 10 s, abort when it
      // fails) closed it when X's own streams filled yamux's 1,000 per connection
      connectionMonitor: { enabled: false },
      gossip: { allowPublishToZeroTopicPeers: false }
    })
    const peerId = node.peerId.toString()
    cert = acceptInvite({ token: invite, signer: signerFromSeed(peerId, privateKey.raw.subarray(0, 32)), name: 'flooder', now: Date.now() })
    // members that dial X say hello: answer it
    await node.handle(PROTOCOL_TEAM, async stream => {
      const ch = channel(stream, PROTOCOL_TEAM, MAX_TEAM_MESSAGE_BYTES)
      try {
        const hello = await ch.read(anyFrame)
        if (!isObject(hello) || hello.type !== 'hello') throw new Error('expected a hello')
        await ch.write(helloPayload('welcome'))
        await ch.read(anyFrame)
        await stream.close().catch(() => {})
      } catch (err) {
        stream.abort(err)
      }
    })
    const ma = multiaddr(target)
    let last = ''
    for (let attempt = 0; attempt < 20; attempt++) {
      const stream = await node.dialProtocol(ma, PROTOCOL_TEAM, { signal: AbortSignal.timeout(5_000) })
      const ch = channel(stream, PROTOCOL_TEAM, MAX_TEAM_MESSAGE_BYTES)
      try {
        await ch.write(helloPayload('hello'))
        const reply = await ch.read(anyFrame)
        if (isObject(reply) && reply.type === 'welcome') {
          await ch.write({ type: 'ack' })
          await stream.close().catch(() => {})
          return { peerId }
        }
        last = JSON.stringify(reply)
        stream.abort(new Error('refused'))
      } catch (err) {
        last = err.message
        stream.abort(err)
      }
      await sleep(300)
    }
    throw new Error(`no welcome from the target: ${last}`)
  }

  async function flood ({ targetId, rate, seconds, queryShare, tickMs, maxInFlight }) {
    const peer = peerIdFromString(targetId)
    const q = { sent: 0, skipped: 0, answered: 0, answeredMs: [], refusedMs: [], errors: {} }
    const tk = { sent: { logs: 0, offer: 0 }, answered: { logs: 0, offer: 0 }, refused: { logs: 0, offer: 0 }, reasons: {}, unanswered: 0, error: null }
    let inFlight = 0
    const queries = new Set()

    /** one status query as the daemon's own client makes it: new stream, request, reply, close */
    async function query () {
      inFlight++
      q.sent++
      const t0 = performance.now()
      let stream
      let phase = 'open'
      try {
        // X lifts its own outbound cap (libp2p's default: 64 streams per protocol)
        stream = await node.dialProtocol(peer, PROTOCOL_QUERY, { signal: AbortSignal.timeout(5_000), maxOutboundStreams: 1_000_000 })
        phase = 'exchange'
        const ch = channel(stream, PROTOCOL_QUERY, MAX_QUERY_MESSAGE_BYTES)
        await ch.write({ type: 'status' })
        const reply = await ch.read(anyFrame)
        if (!isObject(reply) || reply.status == null) throw new Error('no status')
        q.answered++
        q.answeredMs.push(performance.now() - t0)
        await stream.close().catch(() => {})
      } catch (err) {
        stream?.abort(err)
        const k = `${err.name} at ${phase}`
        q.errors[k] = (q.errors[k] ?? 0) + 1
        q.refusedMs.push(performance.now() - t0)
      } finally {
        inFlight--
      }
    }

    // task requests: one stream, as a daemon keeps one per peer; each gets an id and a reply
    let taskStream
    let lp
    const pending = new Map()
    const encoder = new TextEncoder()
    let reading = Promise.resolve()
    if (queryShare < 1) {
      taskStream = await node.dialProtocol(peer, PROTOCOL_TASK, { signal: AbortSignal.timeout(5_000) })
      lp = lpStream(taskStream, { maxDataLength: MAX_TASK_MESSAGE_BYTES })
      const decoder = new TextDecoder()
      reading = (async () => {
        try {
          for (;;) {
            const msg = JSON.parse(decoder.decode((await lp.read()).subarray()))
            const kind = msg.t === 'reply' ? pending.get(msg.id) : undefined
            if (kind === undefined) continue
            pending.delete(msg.id)
            if (typeof msg.reason === 'string' && msg.reason.startsWith('rate limited')) tk.refused[kind]++
            else tk.answered[kind]++
            if (msg.reason != null) {
              const reason = msg.reason.replace(/"[^"]*"/g, '"…"').slice(0, 80)
              tk.reasons[reason] = (tk.reasons[reason] ?? 0) + 1
            }
          }
        } catch (err) {
          if (pending.size > 0) tk.error = `${err.name}: ${err.message}`
        }
      })()
    }
    let nextId = 1
    const taskMessage = () => {
      const id = nextId++
      if (id % 2 === 0) {
        pending.set(id, 'logs')
        tk.sent.logs++
        return { t: 'logs', id, taskId: `no-such-task-${id % 100}` }
      }
      pending.set(id, 'offer')
      tk.sent.offer++
      return {
        t: 'offer',
        id,
        task: { taskId: `flood-${id}`, attempt: 1, agent: 'no-such-agent', input: null, priority: 'normal', leaseMs: 10_000, coordinator: node.peerId.toString() }
      }
    }

    // every tick, send what is due by now (a late tick sends more)
    const start = performance.now()
    const end = start + seconds * 1000
    let queriesDue = 0
    let tasksDue = 0
    for (let now = start; now < end; now = performance.now()) {
      const elapsed = (now - start) / 1000
      for (const want = Math.floor(elapsed * rate * queryShare); queriesDue < want; queriesDue++) {
        if (inFlight >= maxInFlight) { q.skipped++; continue }
        const p = query()
        queries.add(p)
        void p.finally(() => queries.delete(p))
      }
      const batch = []
      for (const want = Math.floor(elapsed * rate * (1 - queryShare)); tasksDue < want; tasksDue++) batch.push(encoder.encode(JSON.stringify(taskMessage())))
      if (batch.length > 0) await lp.writeV(batch).catch(err => { tk.error = `${err.name}: ${err.message}` })
      await sleep(tickMs)
    }
    const elapsed = (performance.now() - start) / 1000
    // let what is in flight finish (each query has its own 5 s deadline)
    await Promise.all([...queries])
    const deadline = performance.now() + 5_000
    while (pending.size > 0 && performance.now() < deadline) await sleep(20)
    tk.unanswered = pending.size
    taskStream?.abort(new Error('done'))
    await reading
    return { seconds: elapsed, query: q, task: tk }
  }

  const stop = async () => {
    await node?.stop().catch(() => {})
    process.exit(0)
  }
  process.on('disconnect', () => { void stop() })
  process.on('message', msg => {
    void (async () => {
      try {
        if (msg.cmd === 'join') process.send(await join(msg))
        else if (msg.cmd === 'flood') process.send(await flood(msg))
        else if (msg.cmd === 'stop') await stop()
      } catch (err) {
        process.send({ error: err.stack ?? String(err) })
      }
    })()
  })
}

if (process.argv[2] === '--flooder' && process.send != null && process.argv[1] === fileURLToPath(import.meta.url)) await flooder()
