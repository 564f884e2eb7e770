/**
 * The lifecycle model test's schedule: a pure generator of steps over an abstract model
 * of the team (which daemon runs, which is a member, whether the network is cut). It does
 * no I/O and has no timers: the same seed and the same outcomes give the same steps, so a
 * failing run replays from its seed. The driver (`driver.ts`) carries the steps out on
 * real daemons and tells the model how each membership step ended (`applyStep`).
 */
import { MAX_KV_VALUE_BYTES } from '../../../src/api/kv-validate.js'
import { Rng } from './rng.js'

/** how a daemon stands with the team; node 0 founded it and is its admin */
export type Membership = 'member' | 'left' | 'removed' | 'outsider'

export interface NodeModel {
  up: boolean
  membership: Membership
}

export interface Model {
  nodes: NodeModel[]
  /** the two sides of a cut, as node indexes; absent when the network is whole */
  partition?: { a: number[], b: number[] }
  /** steps taken since the cut began */
  cutSteps: number
  /** network namespaces exist: partition steps may be drawn */
  canPartition: boolean
}

export type ForgedKind = 'result' | 'fail'

export type Step =
  /** a member writes a fresh key; `bytes` is the size of the value's JSON */
  | { kind: 'kv', node: number, bytes: number }
  /** a member writes one byte past the limit: refused with ValueTooLargeError, nothing written */
  | { kind: 'kv-too-big', node: number }
  /** a member submits a task with valid input (sleep `ms` or echo) */
  | { kind: 'task', node: number, agent: 'sleep' | 'echo', ms: number }
  /** a member submits tasks whose input the agent refuses, with no retries */
  | { kind: 'task-bad', node: number }
  /** `node` submits a long task; a member that neither submitted, runs nor coordinates it
   * signs a forged `task:result` or `task:fail` for it; `pick` chooses that member */
  | { kind: 'forge', node: number, op: ForgedKind, pick: number }
  /** an outsider (fresh, or left) joins with a new invite from the admin */
  | { kind: 'join', node: number }
  /** a member that left joins again with the token it first joined with */
  | { kind: 'rejoin-same-token', node: number }
  | { kind: 'leave', node: number }
  /** the admin removes a member (running or not) */
  | { kind: 'remove', node: number }
  /** a removed daemon gets a new home (new identity): a new laptop, an outsider */
  | { kind: 'reset', node: number }
  /** the admin rotates the network key */
  | { kind: 'rotate' }
  /** SIGTERM, then start again */
  | { kind: 'restart', node: number }
  /** kill -9; the daemon stays down until a `start` */
  | { kind: 'kill9', node: number }
  | { kind: 'start', node: number }
  /** cut the network between `a` and `b`, then wait `holdMs` (long enough, the sides declare each other dead) */
  | { kind: 'partition', a: number[], b: number[], holdMs: number }
  | { kind: 'heal' }

export type StepKind = Step['kind']

/** relative weights of the step kinds; a kind whose preconditions fail is not drawn */
export type Weights = Record<StepKind | 'kv-big', number>

export const DEFAULT_WEIGHTS: Weights = {
  kv: 34,
  'kv-big': 5,
  'kv-too-big': 2,
  task: 14,
  'task-bad': 5,
  forge: 2,
  join: 5,
  'rejoin-same-token': 2,
  leave: 3,
  remove: 3,
  reset: 4,
  rotate: 1,
  restart: 3,
  kill9: 3,
  start: 12,
  partition: 3,
  // multiplied by the steps the cut has lasted: cuts last a few steps
  heal: 4
}

/** the largest value the API takes: a JSON string of MAX_KV_VALUE_BYTES bytes */
export const LARGEST_VALUE_BYTES = MAX_KV_VALUE_BYTES
/** sizes of the large writes: the one of issue 12 item 1 (~1 MB), a mid one, and the limit */
export const BIG_VALUE_BYTES = [200_000, 700_000, LARGEST_VALUE_BYTES] as const
/** how long a cut is held before the next step: most are brief, some outlast the failure detector */
export const PARTITION_HOLDS_MS = [0, 0, 12_000] as const
/** most daemons down at once */
export const MAX_DOWN = 2

/** a team of `size` daemons that all joined node 0's team, all running */
export function initialModel (size: number, canPartition: boolean): Model {
  if (size < 4) throw new RangeError('the lifecycle model needs at least 4 daemons (forging needs a bystander)')
  return {
    nodes: Array.from({ length: size }, () => ({ up: true, membership: 'member' as Membership })),
    cutSteps: 0,
    canPartition
  }
}

function indexes (model: Model, keep: (n: NodeModel, i: number) => boolean): number[] {
  return model.nodes.flatMap((n, i) => keep(n, i) ? [i] : [])
}

/** every step that is allowed now, with its weight */
export function candidates (model: Model, rng: Rng, weights: Weights = DEFAULT_WEIGHTS): Array<{ weight: number, make: () => Step }> {
  const out: Array<{ weight: number, make: () => Step }> = []
  const add = (weight: number, list: number[], make: (node: number) => Step): void => {
    if (weight > 0 && list.length > 0) out.push({ weight, make: () => make(rng.pick(list)) })
  }
  const whole = model.partition === undefined
  const adminUp = model.nodes[0].up && model.nodes[0].membership === 'member'
  const liveMembers = indexes(model, n => n.up && n.membership === 'member')
  const members = indexes(model, n => n.membership === 'member')
  const down = indexes(model, n => !n.up)
  const up = indexes(model, n => n.up)

  add(weights.kv, liveMembers, node => ({ kind: 'kv', node, bytes: rng.int(2, 200) }))
  add(weights['kv-big'], liveMembers, node => ({ kind: 'kv', node, bytes: rng.pick(BIG_VALUE_BYTES) }))
  add(weights['kv-too-big'], liveMembers, node => ({ kind: 'kv-too-big', node }))
  add(weights.task, liveMembers, node => rng.chance(0.7)
    ? { kind: 'task', node, agent: 'sleep', ms: rng.int(50, 1500) }
    : { kind: 'task', node, agent: 'echo', ms: 0 })
  add(weights['task-bad'], liveMembers, node => ({ kind: 'task-bad', node }))
  if (whole && liveMembers.length >= 3) {
    add(weights.forge, liveMembers, node => ({ kind: 'forge', node, op: rng.chance(0.5) ? 'result' : 'fail', pick: rng.int(0, 1_000_000) }))
  }
  if (whole && adminUp) {
    add(weights.join, indexes(model, n => n.up && (n.membership === 'outsider' || n.membership === 'left')), node => ({ kind: 'join', node }))
    add(weights.remove, members.filter(i => i !== 0), node => ({ kind: 'remove', node }))
    if (down.length === 0 && members.every(i => model.nodes[i].up)) out.push({ weight: weights.rotate, make: () => ({ kind: 'rotate' }) })
  }
  if (whole) {
    add(weights['rejoin-same-token'], indexes(model, n => n.up && n.membership === 'left'), node => ({ kind: 'rejoin-same-token', node }))
    // a leaver needs another running member, which holds what it wrote
    if (liveMembers.length >= 2) add(weights.leave, liveMembers.filter(i => i !== 0), node => ({ kind: 'leave', node }))
  }
  add(weights.reset, indexes(model, n => n.membership === 'removed'), node => ({ kind: 'reset', node }))
  add(weights.restart, up, node => ({ kind: 'restart', node }))
  if (down.length < MAX_DOWN) add(weights.kill9, up, node => ({ kind: 'kill9', node }))
  add(weights.start, down, node => ({ kind: 'start', node }))
  if (model.canPartition && whole && weights.partition > 0) {
    out.push({
      weight: weights.partition,
      make: () => {
        const all = model.nodes.map((_, i) => i)
        const sizeA = rng.int(1, Math.floor(all.length / 2))
        const a: number[] = []
        while (a.length < sizeA) {
          const i = rng.pick(all.filter(x => !a.includes(x)))
          a.push(i)
        }
        a.sort((x, y) => x - y)
        return { kind: 'partition', a, b: all.filter(x => !a.includes(x)), holdMs: rng.pick(PARTITION_HOLDS_MS) }
      }
    })
  }
  if (!whole) out.push({ weight: weights.heal * (model.cutSteps + 1), make: () => ({ kind: 'heal' }) })
  return out
}

/** draws the next step: a weighted pick among the allowed ones */
export function nextStep (model: Model, rng: Rng, weights: Weights = DEFAULT_WEIGHTS): Step {
  const list = candidates(model, rng, weights)
  if (list.length === 0) throw new Error('no step is allowed in this model (all weights zero?)')
  const total = list.reduce((s, c) => s + c.weight, 0)
  let x = rng.next() * total
  for (const c of list) {
    x -= c.weight
    if (x < 0) return c.make()
  }
  return list[list.length - 1].make()
}

/**
 * The model after `step`. `ok` says whether a step that may be refused (a join, a rejoin
 * with a used token) took effect; every other step must succeed, or the driver stops.
 */
export function applyStep (model: Model, step: Step, ok = true): Model {
  const nodes = model.nodes.map(n => ({ ...n }))
  const next: Model = { ...model, nodes, cutSteps: model.partition === undefined ? 0 : model.cutSteps + 1 }
  switch (step.kind) {
    case 'join':
    case 'rejoin-same-token':
      if (ok) nodes[step.node].membership = 'member'
      break
    case 'leave':
      nodes[step.node].membership = 'left'
      break
    case 'remove':
      nodes[step.node].membership = 'removed'
      break
    case 'reset':
      nodes[step.node] = { up: true, membership: 'outsider' }
      break
    case 'restart':
    case 'start':
      nodes[step.node].up = true
      break
    case 'kill9':
      nodes[step.node].up = false
      break
    case 'partition':
      next.partition = { a: [...step.a], b: [...step.b] }
      next.cutSteps = 0
      break
    case 'heal':
      delete next.partition
      next.cutSteps = 0
      break
    default:
      break
  }
  return next
}

/** `count` steps from `seed`, every refusable step taken as succeeding (for tests and listings) */
export function generate (seed: number, count: number, model: Model, weights: Weights = DEFAULT_WEIGHTS): Step[] {
  const rng = new Rng(seed)
  const steps: Step[] = []
  let m = model
  for (let i = 0; i < count; i++) {
    const step = nextStep(m, rng, weights)
    steps.push(step)
    m = applyStep(m, step)
  }
  return steps
}

/** one line per step, for failure reports */
export function describeStep (step: Step, name: (node: number) => string = i => `n${i}`): string {
  switch (step.kind) {
    case 'kv': return `kv ${name(step.node)} ${step.bytes} B`
    case 'task': return `task ${name(step.node)} ${step.agent}${step.agent === 'sleep' ? ` ${step.ms} ms` : ''}`
    case 'forge': return `forge ${step.op} on a task of ${name(step.node)} (pick ${step.pick})`
    case 'partition': return `partition [${step.a.map(name).join(' ')}] | [${step.b.map(name).join(' ')}]${step.holdMs > 0 ? `, held ${step.holdMs / 1000} s` : ''}`
    case 'rotate':
    case 'heal': return step.kind
    default: return `${step.kind} ${name(step.node)}`
  }
}
