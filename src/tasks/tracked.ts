/**
 * A task as its coordinator tracks it: the bookkeeping of its attempts (executor slots,
 * executors to avoid, failures, losses, extra replicas), and the pure questions the
 * coordinator asks of it: how many executors it still wants, and what to ask `place()` for.
 * Kept apart from the coordinator's wiring so the counting rules are tested on their own.
 */
import { isTerminalState, type TaskRecord } from '../state/crdt/index.js'
import type { Slot } from './lease-watch.js'
import type { Placement, PlacementRequest } from './placement.js'

export interface Tracked {
  taskId: string
  record: TaskRecord
  priority: TaskRecord['spec']['priority']
  slots: Map<string, Slot>
  /** executors that failed this task or lost it */
  avoid: Set<string>
  /** executors that already produced a result in a replicated run */
  reported: Set<string>
  failures: number
  lost: number
  /** replicas beyond `replicas` asked for because no output had a majority */
  extra: number
  /** the retry budget is spent: place nothing more */
  gaveUp: boolean
  notBefore: number
  inQueue: boolean
  /** since when (wall ms) only members held back by the share rule had a free slot for it */
  heldSince?: number
  waiting?: string
  placement?: Placement
}

/**
 * A new entry for `record`, with no slots: the successes of its current attempt count as
 * reported, and every failed result (not a cancel's exit code 130) as a failure.
 */
export function newTracked (record: TaskRecord): Tracked {
  const t: Tracked = {
    taskId: record.taskId,
    record,
    priority: record.spec.priority,
    slots: new Map(),
    avoid: new Set(),
    reported: new Set(),
    failures: 0,
    lost: 0,
    extra: 0,
    gaveUp: false,
    notBefore: 0,
    inQueue: false
  }
  for (const r of Object.values(record.results)) {
    if (r.attempt === record.attempt && r.exitCode === 0) t.reported.add(r.executor)
    if (r.exitCode !== 0 && r.exitCode !== 130) t.failures++
  }
  return t
}

/** executors still wanted for the current attempt */
export function wanted (t: Tracked): number {
  if (t.gaveUp || isTerminalState(t.record.state)) return 0
  const replicas = t.record.replicas
  if (replicas <= 1) return t.slots.size === 0 ? 1 : 0
  return Math.max(0, replicas + t.extra - t.slots.size - t.reported.size)
}

/**
 * What to ask `place()` for `record`: with its tracked entry `t`, avoiding the executors that
 * failed or lost it, excluding those that hold (or, replicated, reported) it, for the
 * executors still wanted; without, a fresh placement of all its replicas.
 */
export function placementRequest (record: TaskRecord, t?: Tracked): PlacementRequest {
  const { spec } = record
  return {
    agent: spec.agent,
    ...(spec.labels === undefined ? {} : { labels: { ...spec.labels } }),
    ...(spec.needs === undefined ? {} : { needs: { ...spec.needs } }),
    avoid: t === undefined ? [] : [...t.avoid],
    exclude: t === undefined ? [] : [...t.slots.keys(), ...(record.replicas > 1 ? t.reported : [])],
    replicas: t === undefined ? Math.max(1, record.replicas) : Math.max(1, wanted(t))
  }
}

/**
 * What a task with no history asks of `place()` (agent, labels, needs), as a key: in one
 * placement pass, a task with the same key as one that found no place finds none either.
 * `undefined` for a task that avoids or excludes executors, or wants several.
 */
export function placementShape (t: Tracked): string | undefined {
  const { spec } = t.record
  return t.avoid.size === 0 && t.slots.size === 0 && t.record.replicas <= 1
    ? `${spec.agent}\n${JSON.stringify(spec.labels ?? {})}\n${JSON.stringify(spec.needs ?? {})}`
    : undefined
}
