/**
 * Carries one schedule step out on the real daemons: kv writes and tasks through the local
 * API (fast), membership through the real CLI (its exit code must tell the truth; the
 * roster check after the step verifies it), processes through signals.
 */
import { apiGet, apiPost, eventually, sleep } from '../../e2e/harness.js'
import type { TaskRow } from '../../e2e/tasks-helpers.js'
import { apiError, type MemberRow, type Status } from './cluster.js'
import { forgeInHome, forgedDraft } from './forge.js'
import { InvariantBrokenError, peerName, type World } from './invariants.js'
import { LARGEST_VALUE_BYTES, type Step } from './schedule.js'

/** what a step did: whether a refusable step took effect, and a note for the log */
export interface StepOutcome {
  ok: boolean
  note?: string
}

/** a string value whose JSON is `bytes` bytes long, starting with `head` */
export function valueOf (head: string, bytes: number): string {
  return head + 'x'.repeat(Math.max(0, bytes - 2 - head.length))
}

/**
 * How long the task a forger targets runs: longer than stopping, forging and starting the
 * forger takes on a loaded machine, so a forged fail is seen before the real result hides it.
 */
export const FORGED_TASK_MS = 30_000

/** tasks with refused input per `task-bad` step */
export const BAD_TASKS_PER_STEP = 3

function broken (invariant: string, detail: string): never {
  throw new InvariantBrokenError(invariant, detail)
}

/** a CLI failure must be one clear line: no stack trace */
function clearLine (stderr: string, what: string): string {
  const lines = stderr.trim().split('\n').filter(l => l.trim() !== '')
  if (lines.length !== 1 || /^\s+at /m.test(stderr)) broken('bad input gets one clear error line', `${what}: ${stderr.trim().slice(0, 600)}`)
  return lines[0]
}

export async function runStep (w: World, step: Step, n: number): Promise<StepOutcome> {
  const { cluster } = w
  switch (step.kind) {
    case 'kv': {
      const big = step.bytes > 256
      const key = `lc/${big ? 'b' : 's'}/${n}`
      const head = `v${n}:`
      const value = valueOf(head, step.bytes)
      try {
        await apiPost(cluster.daemon(step.node), 'kv/set', { key, value })
      } catch (err) {
        broken('a valid write is acknowledged', `kv set ${key} (${step.bytes} B) on ${cluster.name(step.node)}: ${(err as Error).message.slice(0, 300)}`)
      }
      w.writes.set(key, { key, head, length: value.length, writer: step.node, step: n, everywhere: false })
      return { ok: true }
    }
    case 'kv-too-big': {
      const key = `lc/s/${n}`
      const err = await apiPost(cluster.daemon(step.node), 'kv/set', { key, value: valueOf(`v${n}:`, LARGEST_VALUE_BYTES + 1) }).then(() => undefined, e => e as Error)
      if (apiError(err)?.name !== 'ValueTooLargeError') broken('bad input gets a clear typed error', `a value 1 B over the limit on ${cluster.name(step.node)}: ${err?.message.slice(0, 300) ?? 'accepted'}`)
      const got = await apiGet(cluster.daemon(step.node), `kv/get?key=${encodeURIComponent(key)}`).then(() => 'present', e => apiError(e)?.name)
      if (got !== 'NotFoundError') broken('a refused write changes nothing', `${key} after the refusal: ${String(got)}`)
      return { ok: true }
    }
    case 'task':
    case 'task-bad': {
      const d = cluster.daemon(step.node)
      const body = step.kind === 'task-bad'
        ? { agent: 'sleep', input: { ms: 10, oops: 1 }, retries: 0 }
        : step.agent === 'sleep' ? { agent: 'sleep', input: { ms: step.ms } } : { agent: 'echo', input: { step: n } }
      // refused input comes in threes: enough, over a few steps, to push an executor that
      // is blamed for it below the quarantine line (issue 12 item 4)
      for (let k = 0; k < (step.kind === 'task-bad' ? BAD_TASKS_PER_STEP : 1); k++) {
        let taskId: string
        try {
          taskId = (await apiPost<{ taskId: string }>(d, 'tasks/submit', body)).taskId
        } catch (err) {
          broken('a valid submit is acknowledged', `${JSON.stringify(body)} on ${cluster.name(step.node)}: ${(err as Error).message.slice(0, 300)}`)
        }
        w.tasks.push({ taskId, submitter: step.node, submitterPeer: cluster.slots[step.node].peerId, good: step.kind === 'task', step: n, forgers: [], checked: false })
      }
      return { ok: true }
    }
    case 'forge':
      return await forge(w, step, n)
    case 'join': {
      const admin = cluster.daemon(0)
      const { token } = await apiPost<{ token: string }>(admin, 'team/invites', {})
      const r = await cluster.daemon(step.node).cli(['team', 'join', token, '--json'])
      if (r.code !== 0) broken('a join with a fresh invite succeeds', `${cluster.name(step.node)}: exit ${r.code}: ${r.stderr.trim().slice(0, 600)}`)
      cluster.slots[step.node].token = token
      return { ok: true }
    }
    case 'rejoin-same-token': {
      const token = cluster.slots[step.node].token as string
      const r = await cluster.daemon(step.node).cli(['team', 'join', token, '--json'])
      if (r.code === 0) return { ok: true, note: 'the used token was accepted' }
      return { ok: false, note: `refused: ${clearLine(r.stderr, 'join with a used token')}` }
    }
    case 'leave': {
      const r = await cluster.daemon(step.node).cli(['team', 'leave', '--json'])
      if (r.code !== 0) broken('a member can leave', `${cluster.name(step.node)}: exit ${r.code}: ${r.stderr.trim().slice(0, 600)}`)
      return { ok: true }
    }
    case 'remove': {
      const r = await cluster.daemon(0).cli(['team', 'remove', cluster.slots[step.node].peerId, '--json'])
      if (r.code !== 0) broken('the admin can remove a member', `${cluster.name(step.node)}: exit ${r.code}: ${r.stderr.trim().slice(0, 600)}`)
      return { ok: true }
    }
    case 'reset':
      await cluster.reset(step.node)
      return { ok: true }
    case 'rotate':
      return await rotate(w)
    case 'restart': {
      const code = await cluster.stop(step.node)
      if (code !== 0) broken('SIGTERM stops a daemon cleanly', `${cluster.name(step.node)} exited ${String(code)}`)
      await start(w, step.node)
      return { ok: true }
    }
    case 'kill9':
      await cluster.kill9(step.node)
      return { ok: true }
    case 'start':
      await start(w, step.node)
      return { ok: true }
    case 'partition':
      cluster.partition(step.a, step.b)
      if (step.holdMs > 0) await sleep(step.holdMs)
      return { ok: true }
    case 'heal':
      return await heal(w)
  }
}

/** how soon after a heal every running member must list every other as connected again */
export const RECONNECT_AFTER_HEAL_MS = 15_000

async function heal (w: World): Promise<StepOutcome> {
  const { cluster, model } = w
  const healedAt = Date.now()
  cluster.heal()
  const live = model.nodes.flatMap((n, i) => n.up && n.membership === 'member' ? [i] : [])
  const ids = live.map(i => cluster.slots[i].peerId)
  let last = ''
  await eventually('every running member connected again after the heal', async () => {
    for (const i of live) {
      const rows = await apiGet<MemberRow[]>(cluster.daemon(i), 'team/members')
      const off = ids.filter(p => p !== cluster.slots[i].peerId && rows.find(r => r.peerId === p)?.connected !== true)
      if (off.length > 0) { last = `${cluster.name(i)} lists ${off.map(p => peerName(w, p)).join(', ')} as not connected`; return undefined }
    }
    return true
  }, RECONNECT_AFTER_HEAL_MS, 100).catch(err => broken(`members reconnect within ${RECONNECT_AFTER_HEAL_MS / 1000} s of a heal`, `${(err as Error).message}; ${last}`))
  const connected = Date.now() - healedAt
  // a figure, not an assertion (the checks after the step assert the writes and the hashes):
  // "connected" can be a stale connection, so also note when the members hold the same ops
  const same = await eventually('one state digest on every running member', async () => {
    const digests = await Promise.all(live.map(async i => (await apiGet<Status>(cluster.daemon(i), 'status')).stateDigest))
    return new Set(digests).size === 1 ? Date.now() - healedAt : undefined
  }, 30_000, 100).catch(() => undefined)
  return { ok: true, note: `all connected ${connected} ms, one state digest ${same == null ? 'not within 30 s' : `${same} ms`} after the heal` }
}

async function start (w: World, i: number): Promise<void> {
  try {
    await w.cluster.startNode(i)
  } catch (err) {
    broken('a stopped daemon starts again', `${w.cluster.name(i)}: ${(err as Error).message.slice(0, 1500)}`)
  }
}

/** the admin rotates once it is connected to every member (a member it cannot reach needs a new invite) */
async function rotate (w: World): Promise<StepOutcome> {
  const { cluster, model } = w
  const admin = cluster.daemon(0)
  const members = model.nodes.flatMap((n, i) => n.membership === 'member' && i !== 0 ? [cluster.slots[i].peerId] : [])
  await eventually('the admin connected to every member before it rotates', async () => {
    const rows = await apiGet<MemberRow[]>(admin, 'team/members')
    return members.every(p => rows.find(r => r.peerId === p)?.connected === true) ? true : undefined
  }, 30_000, 250).catch(err => broken('running members reconnect', (err as Error).message))
  let r: { keyEpoch: number, missed: string[] }
  try {
    r = await apiPost<{ keyEpoch: number, missed: string[] }>(admin, 'team/rotate-key', {})
  } catch (err) {
    broken('the admin can rotate the key', (err as Error).message.slice(0, 400))
  }
  if (r.missed.length > 0) broken('a rotation reaches every connected member', `epoch ${r.keyEpoch} missed ${r.missed.join(', ')}`)
  return { ok: true, note: `epoch ${r.keyEpoch}` }
}

/**
 * `step.node` submits a long task; once it runs, a member that neither submitted, runs nor
 * coordinates it is stopped, signs a forged end for it in its own op log, and starts again.
 */
async function forge (w: World, step: Extract<Step, { kind: 'forge' }>, n: number): Promise<StepOutcome> {
  const { cluster, model } = w
  const submitter = cluster.daemon(step.node)
  let taskId: string
  try {
    taskId = (await apiPost<{ taskId: string }>(submitter, 'tasks/submit', { agent: 'sleep', input: { ms: FORGED_TASK_MS } })).taskId
  } catch (err) {
    broken('a valid submit is acknowledged', `on ${cluster.name(step.node)}: ${(err as Error).message.slice(0, 300)}`)
  }
  const tracked = { taskId, submitter: step.node, submitterPeer: cluster.slots[step.node].peerId, good: true, step: n, forgers: [] as string[], checked: false }
  w.tasks.push(tracked)
  const row = await eventually('the task to forge runs', async () => {
    const t = await apiGet<TaskRow>(submitter, `tasks/${taskId}`)
    return t.state === 'running' && t.executor != null ? t : undefined
  }, 20_000, 100).catch(() => undefined)
  if (row == null) return { ok: true, note: 'the task did not start in 20 s: nothing forged' }
  const involved = new Set([row.submitter, row.executor, row.coordinator])
  const bystanders = model.nodes.flatMap((x, i) => x.up && x.membership === 'member' && !involved.has(cluster.slots[i].peerId) ? [i] : [])
  if (bystanders.length === 0) return { ok: true, note: 'no bystander: nothing forged' }
  const f = bystanders[step.pick % bystanders.length]
  const forger = cluster.slots[f]
  const code = await cluster.stop(f)
  if (code !== 0) broken('SIGTERM stops a daemon cleanly', `${cluster.name(f)} exited ${String(code)}`)
  const result = await forgeInHome(forger.daemon.home, forgedDraft(step.op, taskId, row.attempt, forger.peerId))
  await start(w, f)
  if (result.refused != null) return { ok: true, note: `${cluster.name(f)}'s own store refused the forged ${step.op}: ${result.refused}` }
  tracked.forgers.push(forger.peerId)
  w.forgers.add(forger.peerId)
  const note = `${cluster.name(f)} forged task:${step.op} seq ${result.seq} for ${taskId} run by ${peerName(w, row.executor as string)}`
  // once the submitter holds what the forger holds, the forgery must show nowhere: a fail
  // ends the task at once (a later success would hide it), a result claims it
  const synced = await eventually('the submitter holds the forger\'s ops', async () => {
    const [a, b] = await Promise.all([apiGet<Status>(forger.daemon, 'status'), apiGet<Status>(submitter, 'status')])
    return a.stateDigest === b.stateDigest ? true : undefined
  }, 15_000, 100).catch(() => false)
  const t = await apiGet<TaskRow>(submitter, `tasks/${taskId}`)
  const show = `${t.state}, result ${t.result == null ? 'none' : `by ${peerName(w, t.result.executor)}`}`
  if (step.op === 'fail' && t.state === 'failed' && t.results.length === 0) {
    broken('only the coordinator or the submitter ends a task', `${note}; on the submitter the task is ${show} while ${peerName(w, row.executor as string)} still runs it`)
  }
  // a forged result may be kept and shown, but must be marked as not counting, and never commit
  if (t.result?.executor === forger.peerId || t.results.some(r => r.executor === forger.peerId && r.notCounted == null)) {
    broken('one committed result per task, by its real executor', `${note}; the submitter counts a result by the forger, which never held a lease (task ${show})`)
  }
  const late = t.results.some(r => r.notCounted == null) ? '; the real result was in first, so the check saw nothing' : ''
  return { ok: true, note: `${note}${synced === true ? '' : '; the submitter did not catch up in 15 s'}${late}` }
}
