#!/usr/bin/env node
// The event stream (`GET /api/v1/events`): what the ring of recent events costs in memory
// at its bounds, what one append costs, and how many events/s one reader takes from a real
// ApiServer over its unix socket (the reader is a child process, as a CLI or script is).
// Run `npm run build` first, then `node --expose-gc bench/events.js`. Asserts nothing.
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
// PAIRED_BENCH_DIST=DIR: the server of another build (an A/B against the commit before); the reader always parses with this one
const DIST = process.env.PAIRED_BENCH_DIST ?? join(ROOT, 'dist')
const api = await import(join(DIST, 'api', 'index.js'))
const { EventStreamParser } = await import(join(ROOT, 'dist', 'api', 'client.js'))

const PEER = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaAlice111'

/** a `task:updated` the size a daemon sends for a succeeded echo task (~800 bytes) */
function taskUpdate (i, state = 'succeeded') {
  return {
    type: 'task:updated',
    data: {
      taskId: `t${String(i).padStart(8, '0')}-${'a'.repeat(16)}`,
      agent: 'echo',
      state,
      submitter: PEER,
      executor: PEER,
      priority: 'normal',
      attempt: 1,
      createdWall: 1_765_000_000_000 + i,
      startedWall: 1_765_000_000_100 + i,
      result: {
        executor: PEER,
        attempt: 1,
        exitCode: 0,
        outputHash: 'b'.repeat(64),
        output: { n: i },
        receipt: { v: 1, taskId: `t${i}`, executor: PEER, attempt: 1, startedWall: 1_765_000_000_100 + i, endedWall: 1_765_000_000_101 + i, sig: 'c'.repeat(88) }
      },
      waiting: null
    }
  }
}

const mib = n => (n / 1024 / 1024).toFixed(1)
function heap () {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed
}

/** heap held by a ring filled past its bounds with `make(i)` events */
function ringMemory (label, limits, make, n) {
  const before = heap()
  const ring = new api.EventRing('bench', limits)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) ring.append(make(i))
  const us = (performance.now() - t0) * 1000 / n
  const held = heap() - before
  console.log(`| ring at its bound, ${label} | ${ring.size} events, ${mib(ring.bytes)} MiB of text, heap +${mib(held)} MiB | append ${us.toFixed(2)} µs/event (format, byte count, coalescing key, eviction) |`)
  return ring
}

/** a child process that reads the stream and reports how many events it parsed, and when */
function reader (socketPath, token, expect) {
  const child = fork(fileURLToPath(import.meta.url), ['--reader', socketPath, token, String(expect)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return child
}

async function runReader ([socketPath, token, expectText]) {
  const expect = Number(expectText)
  let n = 0
  let skipped = 0
  let resets = 0
  let t0
  const parser = new EventStreamParser(e => {
    if (e.type === 'coalesced') skipped += e.data.skipped
    else if (e.type === 'reset') resets++
    else n++
    if (t0 === undefined) t0 = performance.now()
    if (n + skipped >= expect) {
      process.send({ n, skipped, resets, ms: performance.now() - t0 })
      process.exit(0)
    }
  })
  request({ socketPath, path: '/api/v1/events', headers: { host: 'localhost', authorization: `Bearer ${token}` } }, res => {
    res.setEncoding('utf8')
    res.on('data', chunk => { parser.push(chunk) })
    // a server that drops a reader which falls behind (the build before the ring)
    res.on('close', () => {
      process.send({ n, skipped, resets, ms: performance.now() - (t0 ?? 0), dropped: true })
      process.exit(0)
    })
    process.send({ ready: true })
  }).end()
}

/** `burst` events per turn, and with `pauseMs` a timer between bursts (a pace the build before the ring keeps up with) */
async function throughput (count, distinctTasks, burst = 500, pauseMs = 0) {
  const dir = await mkdtemp(join(tmpdir(), 'paired-bench-events-'))
  const listeners = new Set()
  const control = { subscribe: l => { listeners.add(l); return () => listeners.delete(l) } }
  const socketPath = join(dir, 'api.sock')
  const token = await api.ensureApiToken(join(dir, 'api.token'))
  const server = new api.ApiServer({ control, token, socketPath, port: 0 })
  await server.start()
  const events = Array.from({ length: distinctTasks }, (_, i) => taskUpdate(i))
  try {
    const child = reader(socketPath, token, count)
    const result = new Promise(resolve => child.on('message', m => { if (m.ready !== true) resolve(m) }))
    await new Promise(resolve => child.on('message', m => { if (m.ready === true) resolve() }))
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    // bursts, as a group commit hands them over, with a turn of the event loop between
    for (let i = 0; i < count; i += burst) {
      for (let j = i; j < Math.min(count, i + burst); j++) for (const l of listeners) l(events[j % distinctTasks])
      await new Promise(resolve => pauseMs > 0 ? setTimeout(resolve, pauseMs) : setImmediate(resolve))
    }
    const published = performance.now() - t0
    const r = await result
    const secs = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const label = `one reader, ${count} task:updated of ${distinctTasks} tasks, bursts of ${burst}${pauseMs > 0 ? ` every ${pauseMs} ms` : ''}`
    console.log(`| ${label} | **${Math.round((r.n + r.skipped) / secs).toLocaleString('en')}** events/s end to end; server ${((cpu.user + cpu.system) / count).toFixed(1)} µs CPU/event | ` +
      `${r.n} sent, ${r.skipped} coalesced, ${r.resets} resets${r.dropped === true ? ', **dropped by the server**' : ''}; published in ${(published / 1000).toFixed(2)} s |`)
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--reader') {
  await runReader(process.argv.slice(3))
} else {
  if (globalThis.gc == null) console.log('(run with node --expose-gc for heap figures)')
  console.log('| figure | value | notes |\n|---|---|---|')
  if (api.EventRing != null && process.env.PAIRED_BENCH_ONLY_PACED == null) {
    ringMemory('~800-byte task:updated (bytes bound: 32 MiB)', {}, i => taskUpdate(i), 150_000)
    ringMemory('~120-byte kv:changed (count bound: 100,000)', {}, i => ({ type: 'kv:changed', data: { key: `k/${i}`, value: i, updatedBy: 'p', hlc: '0001' } }), 150_000)
  }
  if (process.env.PAIRED_BENCH_ONLY_PACED == null) await throughput(100_000, 100_000)
  if (process.env.PAIRED_BENCH_ONLY_PACED == null) await throughput(100_000, 1_000)
  await throughput(30_000, 30_000, 20, 1)
}
