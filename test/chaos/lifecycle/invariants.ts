/**
 * The invariants of the lifecycle model test, checked on the real daemons after every
 * step (`checkStep`) and, when the network is whole, after the team went quiet
 * (`checkQuiet`). Each throws `InvariantBrokenError` naming the invariant and what was
 * seen; the driver adds the seed and the steps.
 */
import { apiGet, eventually, type DaemonProcess } from '../../e2e/harness.js'
import type { TaskRow } from '../../e2e/tasks-helpers.js'
import { logTail, type Cluster, type MemberRow, type Status } from './cluster.js'
import type { Model } from './schedule.js'

export class InvariantBrokenError extends Error {
  override name = 'InvariantBrokenError'
  constructor (readonly invariant: string, detail: string) {
    super(`invariant "${invariant}" broken: ${detail}`)
  }
}

/** an acknowledged write: the daemon answered 200 */
export interface AckedWrite {
  key: string
  /** a prefix of the value (large values are checked by prefix and length) */
  head: string
  length: number
  writer: number
  step: number
  /** seen on every running member once: from then on every running member must hold it */
  everywhere: boolean
}

/** a task this run submitted */
export interface TrackedTask {
  taskId: string
  submitter: number
  submitterPeer: string
  /** valid input: must succeed while its submitter stays in the team */
  good: boolean
  step: number
  /** peer ids that signed forged ends for it */
  forgers: string[]
  checked: boolean
}

export interface World {
  cluster: Cluster
  model: Model
  writes: Map<string, AckedWrite>
  tasks: TrackedTask[]
  /** peer ids that signed forged ops */
  forgers: Set<string>
}

/** generous: the machine is shared and busy */
export const AGREE_MS = 20_000
export const TASKS_FINAL_MS = 90_000

const FINAL = new Set(['succeeded', 'failed', 'cancelled'])

function liveMembers (w: World): number[] {
  return w.model.nodes.flatMap((n, i) => n.up && n.membership === 'member' ? [i] : [])
}

/** polls `check` for `ms`; then the invariant is broken, with what `detail` says was last seen */
async function within<T> (invariant: string, what: string, check: () => Promise<T | undefined>, ms = AGREE_MS, detail?: () => string): Promise<T> {
  try {
    return await eventually(what, check, ms, 250)
  } catch (err) {
    const more = detail?.() ?? ''
    throw new InvariantBrokenError(invariant, `${(err as Error).message}${more !== '' ? `; ${more}` : ''}`)
  }
}

/** no daemon exited unless this run stopped or killed it */
export function checkExits (w: World): void {
  const bad = w.cluster.unexpectedExits()
  if (bad.length === 0) return
  throw new InvariantBrokenError('no daemon exited unless killed',
    bad.map(b => `${w.cluster.name(b.slot.index)} (${b.slot.peerId}) ${b.how}; log tail:\n${logTail(b.slot.daemon, 40)}`).join('\n'))
}

/** every running member lists exactly the model's members; every running outsider knows it is out */
export async function checkRosters (w: World): Promise<void> {
  const { cluster, model } = w
  const expected = model.nodes.flatMap((n, i) => n.membership === 'member' ? [cluster.slots[i].peerId] : []).sort()
  let last = ''
  await within('rosters agree within seconds', 'every running member to list the model\'s members', async () => {
    const live = liveMembers(w)
    const lists = await Promise.all(live.map(async i => (await apiGet<MemberRow[]>(cluster.daemon(i), 'team/members')).map(r => r.peerId).sort()))
    const k = lists.findIndex(have => have.join() !== expected.join())
    if (k < 0) return true
    last = `${cluster.name(live[k])} lists [${lists[k].map(p => peerName(w, p)).join(' ')}], the model has [${expected.map(p => peerName(w, p)).join(' ')}]`
    return undefined
  }, AGREE_MS, () => last)

  for (const [i, n] of model.nodes.entries()) {
    if (!n.up || n.membership === 'member') continue
    // one that left is in a team of its own; a removed one stays on the team's id but shows
    // (and acts on) its removal: it dials nobody and refuses writes
    await within('a daemon out of the team knows it', `${cluster.name(i)} (${n.membership}) to know it is out of team ${cluster.teamId}`, async () => {
      const s = await apiGet<Status>(cluster.daemon(i), 'status')
      if (s.team?.teamId !== cluster.teamId) return true
      return n.membership === 'removed' && s.team?.removed != null ? true : undefined
    })
  }
}

async function holds (d: DaemonProcess, write: AckedWrite, small: Map<string, unknown>): Promise<boolean> {
  if (write.length <= 256) {
    const v = small.get(write.key)
    return typeof v === 'string' && v.length === write.length && v.startsWith(write.head)
  }
  try {
    const e = await apiGet<{ value: unknown }>(d, `kv/get?key=${encodeURIComponent(write.key)}`)
    return typeof e.value === 'string' && e.value.length === write.length && e.value.startsWith(write.head)
  } catch {
    return false
  }
}

async function smallValues (d: DaemonProcess): Promise<Map<string, unknown>> {
  const rows = await apiGet<Array<{ key: string, value: unknown }>>(d, 'kv/list?prefix=lc/s/')
  return new Map(rows.map(r => [r.key, r.value]))
}

/**
 * Acknowledged writes are present: a write not yet seen everywhere must reach every
 * running member on its writer's side; one seen everywhere must stay on every running
 * member. Large values already seen everywhere are sampled (`sampleBig` of them) to keep
 * the step cheap; `checkQuiet` reads them all.
 */
export async function checkWrites (w: World, sampleBig = 2): Promise<void> {
  const { cluster } = w
  const whole = w.model.partition == null
  const fresh = [...w.writes.values()].filter(x => !x.everywhere)
  const old = [...w.writes.values()].filter(x => x.everywhere)
  const oldBig = old.filter(x => x.length > 256).slice(-sampleBig)
  await Promise.all(liveMembers(w).map(async i => {
    const d = cluster.daemon(i)
    let missing: string[] = []
    await within('acknowledged writes present', `${cluster.name(i)} to hold every acknowledged write`, async () => {
      const small = await smallValues(d)
      missing = []
      for (const x of [...old.filter(y => y.length <= 256), ...oldBig, ...fresh]) {
        // during a cut a daemon is sure to hold only its own writes (one started during the
        // cut may lack what the other side holds): the rest is checked at the heal
        if (!whole && x.writer !== i) continue
        if (!await holds(d, x, small)) missing.push(`${x.key} (${x.length} B by ${cluster.name(x.writer)} at step ${x.step})`)
      }
      return missing.length === 0 ? true : undefined
    }, AGREE_MS, () => `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`)
  }))
  if (whole) for (const x of fresh) x.everywhere = true
}

/** every running member sees every other running member connected */
export async function checkConnected (w: World): Promise<void> {
  const { cluster } = w
  const live = liveMembers(w)
  const ids = live.map(i => cluster.slots[i].peerId)
  let last = ''
  await within('running members reconnect', 'every running member connected to every other', async () => {
    for (const i of live) {
      const rows = await apiGet<MemberRow[]>(cluster.daemon(i), 'team/members')
      const off = ids.filter(id => id !== cluster.slots[i].peerId && rows.find(r => r.peerId === id)?.connected !== true)
      if (off.length > 0) {
        last = `${cluster.name(i)} sees ${off.map(p => cluster.name(cluster.slots.findIndex(s => s.peerId === p))).join(', ')} disconnected`
        return undefined
      }
    }
    return true
  }, 30_000, () => last)
}

/**
 * One committed result per task, by its real executor: on every running member each
 * tracked task ends; a result was written by a holder of that attempt's lease; the members
 * agree on it; a task with valid input succeeded (while its submitter stayed in the team),
 * whatever anyone forged.
 */
export async function checkTasks (w: World): Promise<void> {
  const { cluster } = w
  const live = liveMembers(w)
  const open = w.tasks.filter(t => !t.checked && w.model.nodes[t.submitter].membership === 'member' &&
    cluster.slots[t.submitter].peerId === t.submitterPeer)
  if (open.length === 0 || live.length === 0) return
  const rows = new Map<number, TaskRow[]>()
  for (const i of live) {
    const d = cluster.daemon(i)
    rows.set(i, await eventually(`${open.length} tasks final on ${cluster.name(i)}`, async () => {
      const list = await Promise.all(open.map(async t => await apiGet<TaskRow>(d, `tasks/${t.taskId}`).catch(() => undefined)))
      return list.every(r => r != null && FINAL.has(r.state)) ? list as TaskRow[] : undefined
    }, TASKS_FINAL_MS, 250).catch(async err => {
      const stuck = await Promise.all(open.map(async t => {
        const r = await apiGet<TaskRow>(d, `tasks/${t.taskId}`).catch(() => undefined)
        if (r != null && FINAL.has(r.state)) return undefined
        const why = await apiGet<unknown>(d, `tasks/${t.taskId}/explain`).catch(e => (e as Error).message)
        return `${t.taskId} (step ${t.step}) ${r?.state ?? 'unknown'}: ${JSON.stringify(why).slice(0, 400)}`
      }))
      throw new InvariantBrokenError('tasks end', `${(err as Error).message}; ${stuck.filter(x => x != null).join('; ')}`)
    }))
  }
  for (const [k, t] of open.entries()) {
    const seen = live.map(i => ({ i, r: (rows.get(i) as TaskRow[])[k] }))
    const show = (i: number, r: TaskRow): string =>
      `${cluster.name(i)}: ${r.state}, result ${r.result == null ? 'none' : `by ${peerName(w, r.result.executor)} attempt ${r.result.attempt} exit ${r.result.exitCode}`}, leases ${r.leases.map(l => `${peerName(w, l.executor)}#${l.attempt}`).join(' ') || 'none'}`
    for (const { i, r } of seen) {
      if (r.result != null && !r.leases.some(l => l.executor === r.result?.executor && l.attempt === r.result.attempt)) {
        throw new InvariantBrokenError('one committed result per task, by its real executor',
          `task ${t.taskId} (step ${t.step}${t.forgers.length > 0 ? `, forged by ${t.forgers.map(p => peerName(w, p)).join(', ')}` : ''}) on ${show(i, r)}`)
      }
      // known gap (docs/THREAT_MODEL.md): a forger that later adopts the task (it was the
      // rendezvous heir while the coordinator was cut off or seemed dead) is a coordinator,
      // and its fail, even one written before the adoption, counts, whoever coordinates
      // now; the invariant holds for everyone else
      if (t.good && r.state === 'failed' && r.adoptions.some(a => t.forgers.includes(a.peerId))) continue
      if (t.good && r.state !== 'succeeded') {
        throw new InvariantBrokenError('a task with valid input succeeds',
          `task ${t.taskId} (step ${t.step}${t.forgers.length > 0 ? `, forged by ${t.forgers.map(p => peerName(w, p)).join(', ')}` : ''}) on ${show(i, r)}`)
      }
      if (!t.good && r.state !== 'failed') {
        throw new InvariantBrokenError('a task with refused input fails', `task ${t.taskId} (step ${t.step}) on ${show(i, r)}`)
      }
    }
    const key = (r: TaskRow): string => `${r.state}/${r.result?.executor ?? ''}/${r.result?.attempt ?? ''}/${r.result?.outputHash ?? ''}`
    if (new Set(seen.map(s => key(s.r))).size > 1) {
      throw new InvariantBrokenError('one committed result per task, by its real executor',
        `members disagree on task ${t.taskId} (step ${t.step}): ${seen.map(s => show(s.i, s.r)).join('; ')}`)
    }
    t.checked = true
  }
}

export function peerName (w: World, peerId: string): string {
  const i = w.cluster.slots.findIndex(s => s.peerId === peerId)
  return i < 0 ? peerId.slice(-8) : w.cluster.name(i)
}

/**
 * Nobody is quarantined who did nothing wrong: refused input is not the executor's fault.
 * Forgers are exempt, and so is a peer with a lapsed lease (`timeout`) in its history: this
 * run kills and stops daemons while they run tasks.
 */
export async function checkNoQuarantine (w: World): Promise<void> {
  const { cluster } = w
  const live = liveMembers(w)
  const views = await Promise.all(live.map(async i => await apiGet<Array<{ peerId: string, reputationStatus?: string | null }>>(cluster.daemon(i), 'peers')))
  for (const [k, rows] of views.entries()) {
    const i = live[k]
    for (const r of rows.filter(x => x.reputationStatus === 'quarantined' && !w.forgers.has(x.peerId))) {
      const doc = await apiGet<{ reputationHistory: Array<{ event: string, score: number }> }>(cluster.daemon(i), `peers/${r.peerId}`)
      if (doc.reputationHistory.some(h => h.event === 'timeout')) continue
      const history = doc.reputationHistory.slice(-8).map(h => `${h.event} → ${h.score.toFixed(2)}`).join(', ')
      throw new InvariantBrokenError('no executor quarantined for what it did not do', `${cluster.name(i)} quarantines ${peerName(w, r.peerId)}: ${history}`)
    }
  }
}

/** the running members reach one state hash */
export async function checkHashes (w: World): Promise<void> {
  const { cluster } = w
  const live = liveMembers(w)
  let last: string[] = []
  await within('state hashes equal after quiet', 'one state hash on every running member', async () => {
    last = await Promise.all(live.map(async i => (await apiGet<Status>(cluster.daemon(i), 'status')).stateHash ?? 'none'))
    return new Set(last).size === 1 ? true : undefined
  }, 30_000, () => live.map((i, k) => `${cluster.name(i)} ${last[k]?.slice(0, 12)}`).join(', '))
}

/** after every step */
export async function checkStep (w: World): Promise<void> {
  checkExits(w)
  await checkRosters(w)
  await checkWrites(w)
  await checkNoQuarantine(w)
  checkExits(w)
}

/** when the network is whole, after the tasks in flight ended */
export async function checkQuiet (w: World): Promise<void> {
  checkExits(w)
  await checkRosters(w)
  await checkConnected(w)
  await checkTasks(w)
  await checkWrites(w, Number.MAX_SAFE_INTEGER)
  await checkHashes(w)
  await checkNoQuarantine(w)
  checkExits(w)
}
