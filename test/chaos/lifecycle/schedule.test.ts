/**
 * The lifecycle schedule is pure: the same seed gives the same steps, the weights shape
 * what is drawn, and no step is drawn whose preconditions fail in the model it was drawn from.
 */
import { describe, expect, it } from 'vitest'
import { replayCommand, restrictWeights } from './driver.js'
import { Rng } from './rng.js'
import {
  BIG_VALUE_BYTES, DEFAULT_WEIGHTS, MAX_DOWN, applyStep, generate, initialModel, nextStep, type Model, type Step, type Weights
} from './schedule.js'

/** the precondition of `step` in `model`, restated from the schedule's contract */
function allowed (model: Model, step: Step): string | undefined {
  const n = (i: number): Model['nodes'][number] => model.nodes[i]
  const whole = model.partition === undefined
  const liveMember = (i: number): boolean => n(i).up && n(i).membership === 'member'
  const adminUp = liveMember(0)
  switch (step.kind) {
    case 'kv':
    case 'kv-too-big':
    case 'task':
    case 'task-bad':
      return liveMember(step.node) ? undefined : 'writer is not a running member'
    case 'forge':
      if (!whole) return 'forge during a cut'
      return liveMember(step.node) && model.nodes.filter(x => x.up && x.membership === 'member').length >= 3 ? undefined : 'forge without three running members'
    case 'join':
      return whole && adminUp && n(step.node).up && ['outsider', 'left'].includes(n(step.node).membership) ? undefined : 'join of a member, a removed or stopped daemon, or without the admin'
    case 'rejoin-same-token':
      return whole && n(step.node).up && n(step.node).membership === 'left' ? undefined : 'rejoin of a daemon that did not leave'
    case 'leave':
      return whole && step.node !== 0 && liveMember(step.node) ? undefined : 'leave of the admin or a non-member'
    case 'remove':
      return whole && adminUp && step.node !== 0 && n(step.node).membership === 'member' ? undefined : 'remove of a non-member or the admin'
    case 'reset':
      return n(step.node).membership === 'removed' ? undefined : 'reset of a daemon that was not removed'
    case 'rotate':
      return whole && adminUp && model.nodes.every(x => x.up) ? undefined : 'rotate with a daemon down'
    case 'restart':
      return n(step.node).up ? undefined : 'restart of a stopped daemon'
    case 'kill9':
      return n(step.node).up && model.nodes.filter(x => !x.up).length < MAX_DOWN ? undefined : 'kill of a stopped daemon, or too many down'
    case 'start':
      return n(step.node).up ? 'start of a running daemon' : undefined
    case 'partition':
      return model.canPartition && whole && step.a.length > 0 && step.b.length > 0 &&
        [...step.a, ...step.b].sort().join() === model.nodes.map((_, i) => i).sort().join()
        ? undefined
        : 'bad partition'
    case 'heal':
      return whole ? 'heal of a whole network' : undefined
  }
}

function walk (seed: number, count: number, model: Model, weights?: Weights): { steps: Step[], broken: string[] } {
  const rng = new Rng(seed)
  const steps: Step[] = []
  const broken: string[] = []
  let m = model
  for (let i = 0; i < count; i++) {
    const step = nextStep(m, rng, weights)
    const why = allowed(m, step)
    if (why != null) broken.push(`step ${i} ${JSON.stringify(step)}: ${why}`)
    steps.push(step)
    // refuse every other join, as a daemon may: the model must stay consistent either way
    m = applyStep(m, step, !(step.kind === 'join' && i % 2 === 0))
  }
  return { steps, broken }
}

describe('lifecycle schedule', () => {
  it('the same seed gives the same steps; another seed gives others', () => {
    const a = generate(42, 500, initialModel(5, true))
    const b = generate(42, 500, initialModel(5, true))
    const c = generate(43, 500, initialModel(5, true))
    expect(b).toStrictEqual(a)
    expect(c).not.toStrictEqual(a)
  })

  it('the generator keeps no state between runs: seeds interleaved give the same steps', () => {
    const alone = generate(7, 200, initialModel(4, false))
    generate(8, 100, initialModel(4, false))
    expect(generate(7, 200, initialModel(4, false))).toStrictEqual(alone)
  })

  it('no step is drawn whose preconditions fail, over 20 seeds x 1,000 steps, with and without partitions', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const canPartition of [true, false]) {
        const { broken, steps } = walk(seed, 1_000, initialModel(5, canPartition))
        expect(broken).toStrictEqual([])
        if (!canPartition) expect(steps.some(s => s.kind === 'partition')).toBe(false)
      }
    }
  })

  it('every kind of step is drawn in a long walk, large values at the limit included', () => {
    const { steps } = walk(1234, 3_000, initialModel(5, true))
    const kinds = new Set(steps.map(s => s.kind))
    for (const kind of Object.keys(DEFAULT_WEIGHTS).filter(k => k !== 'kv-big')) expect(kinds, kind).toContain(kind)
    const sizes = new Set(steps.flatMap(s => s.kind === 'kv' ? [s.bytes] : []))
    for (const size of BIG_VALUE_BYTES) expect(sizes).toContain(size)
  })

  it('weights shape the draw: a zero weight is never drawn, a heavy one dominates', () => {
    const noKills: Weights = { ...DEFAULT_WEIGHTS, kill9: 0, restart: 0 }
    const { steps } = walk(99, 2_000, initialModel(5, true), noKills)
    expect(steps.some(s => s.kind === 'kill9' || s.kind === 'restart')).toBe(false)
    const kvHeavy: Weights = { ...DEFAULT_WEIGHTS, kv: 1_000 }
    const heavy = walk(99, 1_000, initialModel(5, true), kvHeavy).steps.filter(s => s.kind === 'kv').length
    expect(heavy).toBeGreaterThan(800)
  })

  it('only a member that exists is removed, and a removed one only comes back through a reset', () => {
    let m = initialModel(4, false)
    m = applyStep(m, { kind: 'remove', node: 2 })
    const rng = new Rng(5)
    for (let i = 0; i < 300; i++) {
      const step = nextStep(m, rng, { ...DEFAULT_WEIGHTS, reset: 0 })
      expect(step).not.toMatchObject({ kind: 'remove', node: 2 })
      expect(step).not.toMatchObject({ kind: 'join', node: 2 })
      expect(step).not.toMatchObject({ kind: 'kv', node: 2 })
      m = applyStep(m, step)
    }
    expect(m.nodes[2].membership).toBe('removed')
  })

  it('a refused join changes nothing; a cut lasts until a heal, and membership steps wait for it', () => {
    let m = applyStep(initialModel(4, true), { kind: 'leave', node: 3 })
    expect(applyStep(m, { kind: 'join', node: 3 }, false).nodes[3].membership).toBe('left')
    m = applyStep(m, { kind: 'partition', a: [0], b: [1, 2, 3], holdMs: 0 })
    const rng = new Rng(11)
    let healed = false
    for (let i = 0; i < 200 && !healed; i++) {
      const step = nextStep(m, rng)
      expect(['join', 'leave', 'remove', 'rotate', 'forge', 'rejoin-same-token', 'partition']).not.toContain(step.kind)
      healed = step.kind === 'heal'
      m = applyStep(m, step)
    }
    expect(healed).toBe(true)
    expect(m.partition).toBeUndefined()
  })

  it('ONLY keeps the kinds named (and start, heal); SKIP drops kinds; an unknown kind is refused', () => {
    const only = restrictWeights(DEFAULT_WEIGHTS, ['forge'])
    expect(Object.entries(only).filter(([, v]) => v > 0).map(([k]) => k).sort()).toStrictEqual(['forge', 'heal', 'start'])
    const skip = restrictWeights(DEFAULT_WEIGHTS, undefined, ['kv-big', 'remove'])
    expect(skip['kv-big']).toBe(0)
    expect(skip.remove).toBe(0)
    expect(skip.kv).toBe(DEFAULT_WEIGHTS.kv)
    expect(() => restrictWeights(DEFAULT_WEIGHTS, ['fly'])).toThrow(RangeError)
    const { steps } = walk(3, 300, initialModel(5, true), restrictWeights(DEFAULT_WEIGHTS, ['remove', 'reset', 'kv']))
    expect(new Set(steps.map(s => s.kind))).toStrictEqual(new Set(['remove', 'reset', 'kv']))
  })

  it('the replay command carries the seed, the step count and the restrictions', () => {
    expect(replayCommand({ seed: 9, only: ['forge'], skip: ['kv-big'] }, 12))
      .toBe('npm run build && PAIRED_LIFECYCLE_SEED=9 PAIRED_LIFECYCLE_STEPS=12 PAIRED_LIFECYCLE_ONLY=forge PAIRED_LIFECYCLE_SKIP=kv-big npx vitest run test/chaos/lifecycle.test.ts')
  })
})
