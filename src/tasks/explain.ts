/**
 * `paired task explain`: where a task ran (from its replicated record: results and
 * leases, never from a placement computed afterwards), who submitted and coordinates it,
 * each peer with its member name; then, for a task still pending, the placement and why
 * it waits, and for any other, the ranking as this daemon would place it now, marked so.
 * Pure: no I/O, no clock of its own.
 */
import type { TaskExplainDoc } from '../model/docs.js'
import { committedResult, isTerminalState, resultProblem, type TaskRecord } from '../state/crdt/index.js'
import { blameless, explainAuthority } from './judge.js'
import { explainPlacement, type Placement } from './placement.js'

/** a peer where a task ran or runs, as `paired task explain --json` gives it */
export interface TaskSite {
  peerId: string
  /** its member name, when known */
  name: string | null
  attempt: number
  /** `committed`: its result is the task's result; `failed`, `succeeded` (not committed, e.g. outvoted), `running` */
  outcome: 'committed' | 'succeeded' | 'failed' | 'running'
}

export interface ExplainInput {
  record: TaskRecord
  /** the placement the coordinator tracks (pending tasks), if this daemon coordinates it */
  tracked?: { placement?: Placement, waiting?: string }
  /** a placement computed now, from this daemon's view */
  placementNow: () => Placement
  selfId: string
  /** a member's name, when known */
  nameOf: (peer: string) => string | undefined
  /** @default Date.now() */
  now?: number
}

/** `alice (12D3Koo…)`, or the bare peer id when the name is unknown */
export function named (peer: string, nameOf: (peer: string) => string | undefined, selfId?: string): string {
  const name = nameOf(peer)
  const self = peer === selfId ? ', this daemon' : ''
  return name != null && name !== '' ? `${name} (${peer}${self})` : `${peer}${self !== '' ? ' (this daemon)' : ''}`
}

/** where the task ran or runs, from the record's results and leases */
export function taskSites (record: TaskRecord, nameOf: (peer: string) => string | undefined, now = Date.now()): TaskSite[] {
  const committed = committedResult(record)
  const committedKeys = new Set<string>()
  if (committed !== undefined) {
    for (const r of Object.values(record.results)) {
      if (r.exitCode === 0 && r.outputHash === committed.outputHash) committedKeys.add(`${r.attempt}:${r.executor}`)
    }
  }
  const sites: TaskSite[] = []
  const site = (peerId: string, attempt: number, outcome: TaskSite['outcome']): TaskSite => ({ peerId, name: nameOf(peerId) ?? null, attempt, outcome })
  for (const r of Object.values(record.results)) {
    // a result that fails its proof (a forgery) is no place where the task ran
    if (resultProblem(r, record) !== undefined) continue
    const key = `${r.attempt}:${r.executor}`
    sites.push(site(r.executor, r.attempt, committedKeys.has(key) ? 'committed' : r.exitCode === 0 ? 'succeeded' : 'failed'))
  }
  if (!isTerminalState(record.state)) {
    for (const lease of Object.values(record.leases)) {
      const reported = Object.hasOwn(record.results, `${lease.attempt}:${lease.executor}`)
      if (!reported && lease.attempt === record.attempt && lease.expiresWall > now) sites.push(site(lease.executor, lease.attempt, 'running'))
    }
  }
  return sites.sort((a, b) => a.attempt - b.attempt || a.peerId.localeCompare(b.peerId))
}

function siteLine (s: TaskSite, record: TaskRecord, input: ExplainInput): string {
  const where = named(s.peerId, input.nameOf, input.selfId)
  const result = record.results[`${s.attempt}:${s.peerId}`]
  switch (s.outcome) {
    case 'committed':
      return `ran on ${where}: attempt ${s.attempt}, committed, output sha256 ${result?.outputHash.slice(0, 16) ?? ''}…`
    case 'succeeded':
      return `ran on ${where}: attempt ${s.attempt}, succeeded, output sha256 ${result?.outputHash.slice(0, 16) ?? ''}… (not the committed output)`
    case 'failed': {
      const excuse = result === undefined ? undefined : blameless(result, record.spec)
      return `ran on ${where}: attempt ${s.attempt}, failed: ${result?.error ?? `exit code ${result?.exitCode ?? '?'}`}${excuse === undefined ? '' : ` (not held against it: ${excuse})`}`
    }
    case 'running':
      return `running on ${where}: attempt ${s.attempt}`
  }
}

/** the explanation document of `record` */
export function explainTask (input: ExplainInput): TaskExplainDoc & { ranOn: TaskSite[] } {
  const { record, nameOf, selfId } = input
  const spec = record.spec
  const lines: string[] = [`task ${record.taskId}: ${record.state}, attempt ${record.attempt}, agent ${spec.agent}, priority ${spec.priority}`]
  lines.push(`submitted by ${named(spec.submitter, nameOf, selfId)}`)
  if (record.coordinator.peer !== spec.submitter) lines.push(`coordinated by ${named(record.coordinator.peer, nameOf, selfId)}`)
  const sites = taskSites(record, nameOf, input.now)
  for (const s of sites) lines.push(siteLine(s, record, input))
  lines.push(...explainAuthority(record))
  if (record.state === 'pending') {
    // not placed yet: the placement is the explanation
    const placement = input.tracked?.placement ?? input.placementNow()
    if (record.coordinator.peer !== selfId) lines.push('the ranking below is this daemon\'s view; the coordinator decides')
    lines.push(...explainPlacement(placement, { nameOf }))
    if (input.tracked?.waiting !== undefined && placement.waiting === undefined) lines.push(`waiting: ${input.tracked.waiting}`)
    return { taskId: record.taskId, state: record.state, lines, placement, ranOn: sites }
  }
  if (sites.length === 0) lines.push(record.state === 'cancelled' ? 'it was cancelled before it ran anywhere' : 'no machine has reported on it')
  // placed already: what ran where is above; a ranking now only says where it would go today
  const placement = input.placementNow()
  lines.push('if it were placed now (this daemon\'s view):')
  lines.push(...explainPlacement(placement, { nameOf, choice: false }).map(l => `  ${l}`))
  return { taskId: record.taskId, state: record.state, lines, placement, ranOn: sites }
}
