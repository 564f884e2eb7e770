// The tasks section of `npm run bench`: three real daemons on 127.0.0.1. Reports
// submit-to-start and submit-to-committed latency, noop tasks/s at concurrency 100, and
// how long a killed executor's task takes to run again elsewhere (A and B with 8 slots, C
// with none); then the issue's setup (#14): three daemons with 50 slots each, noop tasks/s
// one by one with 50 in flight and submitted in batches, with how many each executor ran.
// Asserts nothing. PAIRED_BENCH_TASKS=classic or =issue runs only one of the two parts.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const wallNow = () => performance.timeOrigin + performance.now()

async function configured (lib, label, config) {
  const h = await lib.home(label)
  await writeFile(join(h, 'config.json'), JSON.stringify(config))
  return h
}

async function formTeam (lib, ds) {
  await lib.api(ds[0], 'POST', '/api/v1/team/create', { name: 'bench-tasks' })
  for (const d of ds.slice(1)) {
    const { token } = await lib.api(ds[0], 'POST', '/api/v1/team/invites', {})
    await lib.api(d, 'POST', '/api/v1/team/join', { token })
  }
  await lib.allConnected(ds)
  for (;;) {
    let ok = true
    for (const d of ds) {
      const rows = await lib.api(d, 'GET', '/api/v1/peers')
      if (!rows.every(r => r.state === 'alive' && r.capacity != null)) ok = false
    }
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** resolves `wait(taskId)` when the daemon's event stream says the task is final */
async function finals (lib, d) {
  const waiting = new Map()
  const done = new Map()
  const close = await lib.events(d, (type, data) => {
    if (type !== 'task:updated' || !['succeeded', 'failed', 'cancelled'].includes(data.state)) return
    const at = wallNow()
    const w = waiting.get(data.taskId)
    if (w !== undefined) { waiting.delete(data.taskId); w({ at, data }) } else done.set(data.taskId, { at, data })
  })
  return {
    close,
    wait: taskId => {
      const d0 = done.get(taskId)
      if (d0 !== undefined) { done.delete(taskId); return Promise.resolve(d0) }
      return new Promise(resolve => waiting.set(taskId, resolve))
    }
  }
}

async function latency (lib, add, d, label, n) {
  const f = await finals(lib, d)
  const toStart = []
  const toCommit = []
  const where = new Map()
  try {
    for (let i = 0; i < n; i++) {
      const t0 = wallNow()
      const { taskId } = await lib.api(d, 'POST', '/api/v1/tasks/submit', { agent: 'echo', input: { i } })
      const { at } = await f.wait(taskId)
      const doc = await lib.api(d, 'GET', `/api/v1/tasks/${taskId}`)
      toStart.push(doc.result.receipt.startedWall - t0)
      toCommit.push(at - t0)
      where.set(doc.result.executor === doc.submitter ? 'itself' : 'a peer', (where.get(doc.result.executor === doc.submitter ? 'itself' : 'a peer') ?? 0) + 1)
    }
  } finally {
    f.close()
  }
  const ran = [...where].map(([k, v]) => `${v} on ${k}`).join(', ')
  add(`submit → start (${label}), ${n} sequential echo tasks`, `p50 ${lib.fmt(lib.median(toStart), 1)} ms, p99 ${lib.fmt(lib.pct(toStart, 99), 1)} ms`, `${ran}; start = the executor's receipt (wall ms, 1 ms resolution)`)
  add(`submit → committed (${label}), seen on the submitter's event stream`, `p50 ${lib.fmt(lib.median(toCommit), 1)} ms, p99 ${lib.fmt(lib.pct(toCommit, 99), 1)} ms`, 'includes the durable writes of create, lease and result')
}

async function throughput (lib, add, d, concurrency, seconds, label = 'one submitter') {
  const f = await finals(lib, d)
  let done = 0
  const end = performance.now() + seconds * 1000
  const t0 = performance.now()
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const { taskId } = await lib.api(d, 'POST', '/api/v1/tasks/submit', { agent: 'echo', input: null })
        await f.wait(taskId)
        done++
      }
    }))
  } finally {
    f.close()
  }
  const secs = (performance.now() - t0) / 1000
  add(`noop (echo) tasks/s, concurrency ${concurrency}, ${label}, ${seconds} s`, `${lib.fmt(done / secs, 0)} tasks/s`, `${done} tasks, each submitted and awaited until committed`)
}

/** `names`: peer id → daemon name, to print how many tasks each executor ran */
async function batchThroughput (lib, add, d, count, label = '', names) {
  const t0 = performance.now()
  const ids = []
  for (let i = 0; i < count; i += 1000) {
    const r = await lib.api(d, 'POST', '/api/v1/tasks/submit-many', { tasks: Array.from({ length: Math.min(1000, count - i) }, () => ({ agent: 'echo', input: null })) })
    ids.push(...r.tasks.map(t => t.taskId))
  }
  let rows
  for (;;) {
    rows = await lib.api(d, 'GET', `/api/v1/tasks?state=succeeded&limit=10000`)
    const ok = new Set(rows.map(r => r.taskId))
    if (ids.every(id => ok.has(id))) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const secs = (performance.now() - t0) / 1000
  add(`noop tasks/s, ${count} submitted in batches of 1,000${label}`, `${lib.fmt(count / secs, 0)} tasks/s`, `${lib.fmt(secs, 2)} s until all committed (polling the list every 100 ms)`)
  if (names !== undefined) {
    const mine = new Set(ids)
    const ran = new Map()
    for (const r of rows) if (mine.has(r.taskId)) ran.set(r.executor, (ran.get(r.executor) ?? 0) + 1)
    const retried = rows.filter(r => mine.has(r.taskId) && r.attempt > 1).length
    add(`  tasks each executor ran${label}`, [...names].map(([id, name]) => `${name} ${ran.get(id) ?? 0}`).join(', '), `the spread of the batch run; ${retried} needed more than one attempt`)
  }
}

async function recovery (lib, add, coordinator, executors, trials) {
  const toRestart = []
  const toCommit = []
  for (let i = 0; i < trials; i++) {
    const { taskId } = await lib.api(coordinator, 'POST', '/api/v1/tasks/submit', { agent: 'sleep', input: { ms: 1_500 } })
    let doc
    for (;;) {
      doc = await lib.api(coordinator, 'GET', `/api/v1/tasks/${taskId}`)
      if (doc.state === 'running' && doc.startedWall != null) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    const victim = executors.find(x => x.peerId === doc.executor)
    const killedAt = wallNow()
    victim.proc.removeAllListeners('exit')
    victim.proc.kill('SIGKILL')
    let restarted
    for (;;) {
      doc = await lib.api(coordinator, 'GET', `/api/v1/tasks/${taskId}`)
      const again = doc.leases.find(l => l.attempt > 1 && l.startedWall != null)
      if (restarted === undefined && again !== undefined) restarted = again.startedWall
      if (doc.state === 'succeeded') break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    toRestart.push(restarted - killedAt)
    toCommit.push(wallNow() - killedAt)
    // bring the victim back for the next trial
    const back = await lib.startDaemon(victim.home, victim.name)
    Object.assign(victim, back)
    for (;;) {
      const rows = await lib.api(coordinator, 'GET', '/api/v1/peers')
      if (rows.every(r => r.state === 'alive')) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  add(`kill -9 of the executor mid-task → running again elsewhere, ${trials} trials`, `p50 ${lib.fmt(lib.median(toRestart) / 1000, 2)} s, max ${lib.fmt(Math.max(...toRestart) / 1000, 2)} s`, 'failure detection (dead) + re-placement; lease 10 s is the backstop')
  add('kill -9 of the executor → the task committed on a survivor (1.5 s task)', `p50 ${lib.fmt(lib.median(toCommit) / 1000, 2)} s, max ${lib.fmt(Math.max(...toCommit) / 1000, 2)} s`, '')
}

/** the issue's setup: three daemons with 50 slots each, all submitting through A */
async function issueBench (add, lib) {
  const ds = []
  for (const name of ['ia', 'ib', 'ic']) ds.push(await lib.startDaemon(await configured(lib, name, { slots: 50 }), name))
  const [a, b] = ds
  await formTeam(lib, ds)
  const names = new Map()
  for (const d of ds) {
    d.peerId = (await lib.api(d, 'GET', '/api/v1/status')).peerId
    names.set(d.peerId, d.name ?? d.peerId.slice(-6))
  }
  const label = ', three daemons × 50 slots'
  // PAIRED_BENCH_TASKS_COUNT: tasks in each batch run (default 10,000)
  const count = Number(process.env.PAIRED_BENCH_TASKS_COUNT ?? 10_000)
  await throughput(lib, add, a, 50, 10, `one by one, 50 in flight${label}`)
  await batchThroughput(lib, add, a, count, label, names)
  // the same, submitted on two daemons at once
  const t0 = performance.now()
  await Promise.all([batchThroughput(lib, add, a, count / 2, `${label}, A's half of two submitters`, names), batchThroughput(lib, add, b, count / 2, `${label}, B's half of two submitters`)])
  add(`noop tasks/s, ${count} submitted on A and B at once in batches of 1,000${label}`, `${lib.fmt(count / ((performance.now() - t0) / 1000), 0)} tasks/s`, '')
  for (const d of ds) await lib.stop(d).catch(() => {})
}

export async function tasksBench (add, lib) {
  const part = process.env.PAIRED_BENCH_TASKS
  if (part !== 'issue') await classicBench(add, lib)
  if (part !== 'classic') await issueBench(add, lib)
}

async function classicBench (add, lib) {
  const a = await lib.startDaemon(await configured(lib, 'ta', { slots: 8 }), 'ta')
  const b = await lib.startDaemon(await configured(lib, 'tb', { slots: 8 }), 'tb')
  const c = await lib.startDaemon(await configured(lib, 'tc', { slots: 0 }), 'tc')
  const ds = [a, b, c]
  await formTeam(lib, ds)
  for (const d of ds) d.peerId = (await lib.api(d, 'GET', '/api/v1/status')).peerId
  await latency(lib, add, a, 'the submitter has a free slot', 300)
  await latency(lib, add, c, 'the submitter has no slots: placed on a peer', 300)
  await throughput(lib, add, a, 100, 10)
  await throughput(lib, add, c, 100, 10)
  await batchThroughput(lib, add, a, 10_000)
  await recovery(lib, add, c, [a, b], 5)
  for (const d of ds) await lib.stop(d).catch(() => {})
}
