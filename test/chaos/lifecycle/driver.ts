/**
 * The lifecycle model test's driver: draws each step from the seeded schedule, carries it
 * out on the real daemons, updates the model with how it ended, and checks the invariants.
 * The first broken invariant ends the run with the seed, the steps so far and the command
 * that replays them.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, fullLog } from './cluster.js'
import { InvariantBrokenError, checkQuiet, checkStep, type World } from './invariants.js'
import { Rng } from './rng.js'
import { DEFAULT_WEIGHTS, applyStep, describeStep, initialModel, nextStep, type Step, type StepKind, type Weights } from './schedule.js'
import { runStep } from './steps.js'

export interface RunOptions {
  seed: number
  /** stop after this many steps... */
  steps?: number
  /** ...or after this long */
  minutes?: number
  /** daemons. @default 5 */
  nodes?: number
  /** a quiet check (tasks end, state hashes equal) every this many steps. @default 40 */
  quietEvery?: number
  weights?: Weights
  /** only these step kinds (plus `start` and `heal`, so the model can always move) */
  only?: string[]
  /** never these step kinds (`kv-big` for the large writes) */
  skip?: string[]
  /** false: loopback only, no partitions, even where namespaces exist */
  namespaces?: boolean
  log?: (line: string) => void
}

export interface RunReport {
  seed: number
  steps: number
  quietChecks: number
  ms: number
  partitions: string
  /** steps drawn, by kind */
  kinds: Partial<Record<StepKind, number>>
  /** mean ms per step kind, the check after it included */
  meanMs: Partial<Record<StepKind, number>>
  notes: string[]
}

export class LifecycleRunBroken extends Error {
  override name = 'LifecycleRunBroken'
  constructor (readonly invariant: string, message: string) { super(message) }
}

/** the weights with every kind but `only` (and start, heal) and every kind of `skip` at zero */
export function restrictWeights (weights: Weights, only?: string[], skip?: string[]): Weights {
  const known = new Set(Object.keys(weights))
  for (const k of [...(only ?? []), ...(skip ?? [])]) if (!known.has(k)) throw new RangeError(`no step kind "${k}": one of ${[...known].join(', ')}`)
  const keep = only != null && only.length > 0 ? new Set([...only, 'start', 'heal']) : known
  const drop = new Set(skip ?? [])
  return Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, keep.has(k) && !drop.has(k) ? v : 0])) as Weights
}

export function replayCommand (o: RunOptions, steps: number): string {
  const env = [`PAIRED_LIFECYCLE_SEED=${o.seed}`, `PAIRED_LIFECYCLE_STEPS=${steps}`]
  if (o.nodes != null) env.push(`PAIRED_LIFECYCLE_NODES=${o.nodes}`)
  if (o.only != null && o.only.length > 0) env.push(`PAIRED_LIFECYCLE_ONLY=${o.only.join(',')}`)
  if (o.skip != null && o.skip.length > 0) env.push(`PAIRED_LIFECYCLE_SKIP=${o.skip.join(',')}`)
  if (o.namespaces === false) env.push('PAIRED_LIFECYCLE_NAMESPACES=0')
  return `npm run build && ${env.join(' ')} npx vitest run test/chaos/lifecycle.test.ts`
}

export async function runLifecycle (o: RunOptions): Promise<RunReport> {
  const log = o.log ?? (() => {})
  const cluster = new Cluster(o.nodes ?? 5, { namespaces: o.namespaces })
  const weights = restrictWeights(o.weights ?? DEFAULT_WEIGHTS, o.only, o.skip)
  const rng = new Rng(o.seed)
  const quietEvery = o.quietEvery ?? 40
  const deadline = o.minutes != null ? Date.now() + o.minutes * 60_000 : Infinity
  const maxSteps = o.steps ?? (o.minutes != null ? Infinity : 200)
  const history: string[] = []
  const report: RunReport = {
    seed: o.seed, steps: 0, quietChecks: 0, ms: 0, kinds: {}, meanMs: {}, notes: [],
    partitions: cluster.noPartitions == null ? 'on (network namespaces, nftables)' : `off: ${cluster.noPartitions}`
  }
  const spent: Partial<Record<StepKind, number>> = {}
  const t0 = Date.now()
  const w: World = { cluster, model: initialModel(o.nodes ?? 5, cluster.noPartitions == null), writes: new Map(), tasks: [], forgers: new Set() }
  const fail = (err: unknown, phase: string): never => {
    const invariant = err instanceof InvariantBrokenError ? err.invariant : 'the driver itself'
    const logs = join(tmpdir(), `paired-lifecycle-${o.seed}-${process.pid}`)
    try {
      mkdirSync(logs, { recursive: true })
      for (const s of cluster.slots) writeFileSync(join(logs, `${cluster.name(s.index)}.log`), fullLog(s))
    } catch {}
    const lines = [
      `lifecycle model test: ${phase}`,
      `  ${(err as Error).message}`,
      `  seed ${o.seed}; ${history.length} steps (${cluster.noPartitions == null ? 'with' : 'without'} partitions):`,
      ...history.map(h => `    ${h}`),
      `  replay: ${replayCommand(o, history.length)}`,
      `  daemon logs: ${logs}`
    ]
    throw new LifecycleRunBroken(invariant, lines.join('\n'))
  }
  try {
    try {
      await cluster.start()
      await checkStep(w)
    } catch (err) {
      fail(err, 'the team did not form')
    }
    log(`lifecycle: seed ${o.seed}, ${cluster.size} daemons, partitions ${report.partitions}; replay with PAIRED_LIFECYCLE_SEED=${o.seed}`)
    let n = 0
    while (n < maxSteps && Date.now() < deadline) {
      n++
      const step: Step = nextStep(w.model, rng, weights)
      const line = `${n}. ${describeStep(step, i => cluster.name(i))}`
      history.push(line)
      const started = Date.now()
      let phase = `step ${n} (${describeStep(step, i => cluster.name(i))})`
      try {
        const outcome = await runStep(w, step, n)
        if (outcome.note != null) {
          history[history.length - 1] += ` — ${outcome.note}`
          report.notes.push(`${n}: ${outcome.note}`)
        }
        w.model = applyStep(w.model, step, outcome.ok)
        phase = `the check after step ${n}`
        await checkStep(w)
        history[history.length - 1] += ` (${Date.now() - started} ms)`
        if (w.model.partition == null && (step.kind === 'heal' || n % quietEvery === 0)) {
          phase = `the quiet check after step ${n}`
          await checkQuiet(w)
          report.quietChecks++
        }
      } catch (err) {
        fail(err, phase)
      }
      report.kinds[step.kind] = (report.kinds[step.kind] ?? 0) + 1
      spent[step.kind] = (spent[step.kind] ?? 0) + Date.now() - started
      if (n % 25 === 0) log(`lifecycle: ${n} steps, ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    }
    // the end: heal, start whatever is down, and check everything once more
    try {
      if (w.model.partition != null) {
        history.push(`${++n}. heal (end of run)`)
        cluster.heal()
        w.model = applyStep(w.model, { kind: 'heal' })
      }
      for (const [i, x] of w.model.nodes.entries()) {
        if (x.up) continue
        history.push(`${++n}. start ${cluster.name(i)} (end of run)`)
        await runStep(w, { kind: 'start', node: i }, n)
        w.model = applyStep(w.model, { kind: 'start', node: i })
      }
      await checkStep(w)
      await checkQuiet(w)
      report.quietChecks++
    } catch (err) {
      fail(err, 'the final check')
    }
    report.steps = history.length
  } finally {
    report.ms = Date.now() - t0
    await cluster.cleanup()
  }
  for (const [k, ms] of Object.entries(spent) as Array<[StepKind, number]>) report.meanMs[k] = Math.round(ms / (report.kinds[k] ?? 1))
  return report
}
