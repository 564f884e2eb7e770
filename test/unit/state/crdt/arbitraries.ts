/**
 * fast-check arbitraries for CRDT states. Pools are deliberately tiny so generated
 * states overlap: shared keys, equal hlcs from different authors, one tag reused with
 * different content, prototype-ish keys.
 */
import fc from 'fast-check'
import {
  createTask, lwwDelete, lwwEmpty, lwwSet, rwAdd, rwEmpty, rwRemove, taskCancel, taskFail, taskLease,
  taskResult, taskRetry, taskReplicas, taskAdopt, type Hlc, type LwwMap, type RwSet, type TaskRecord, type TaskSpec, type VersionVector
} from '../../../../src/state/crdt/index.js'

export const NODES = ['a', 'ab', 'b', 'c'] as const
export const KEYS = ['k0', 'k1', 'k2', '__proto__', 'constructor'] as const

// plain prototypes everywhere: fast-check may otherwise build null-prototype records,
// which strict equality tells apart from the same content built by the code under test
const rec = { noNullPrototype: true } as const

export const hlcArb: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.integer({ min: 1_000, max: 1_003 }),
  logical: fc.integer({ min: 0, max: 2 }),
  node: fc.constantFrom(...NODES)
}, rec)

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom('x', 'y', null, true),
  fc.record({ n: fc.integer({ min: 0, max: 2 }), s: fc.constantFrom('p', 'q') }, rec)
)

// ---- LWW map ----

export type LwwOp = { key: string, value: unknown, hlc: Hlc, author: string }

export const lwwOpArb: fc.Arbitrary<LwwOp> = fc.record({
  key: fc.constantFrom(...KEYS),
  value: fc.option(valueArb, { nil: undefined, freq: 4 }), // undefined = delete
  hlc: hlcArb,
  author: fc.constantFrom(...NODES)
}, rec)

export function applyLwwOps (ops: readonly LwwOp[], map: LwwMap = lwwEmpty()): LwwMap {
  return ops.reduce<LwwMap>((m, op) => op.value === undefined
    ? lwwDelete(m, op.key, op.hlc, op.author)
    : lwwSet(m, op.key, op.value, op.hlc, op.author), map)
}

export const lwwMapArb: fc.Arbitrary<LwwMap> = fc.array(lwwOpArb, { maxLength: 12 }).map(ops => applyLwwOps(ops))

// ---- RW set ----

export const ELEMENTS = ['e0', 'e1', '__proto__'] as const
const TAGS = ['a:1', 'a:2', 'b:1', 'b:2', 'c:1', 'ab:1'] as const

export type RwOp =
  | { kind: 'add', element: string, tag: string, hlc: Hlc }
  | { kind: 'remove', element: string, tag: string, hlc: Hlc, covers: string[] | undefined }

export const rwOpArb: fc.Arbitrary<RwOp> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const), element: fc.constantFrom(...ELEMENTS), tag: fc.constantFrom(...TAGS), hlc: hlcArb
  }, rec),
  fc.record({
    kind: fc.constant('remove' as const),
    element: fc.constantFrom(...ELEMENTS),
    tag: fc.constantFrom(...TAGS),
    hlc: hlcArb,
    // undefined = a local remove covering whatever the replica has observed
    covers: fc.option(fc.subarray([...TAGS]), { nil: undefined })
  }, rec)
)

export function applyRwOps (ops: readonly RwOp[], set: RwSet = rwEmpty()): RwSet {
  return ops.reduce<RwSet>((s, op) => op.kind === 'add'
    ? rwAdd(s, op.element, op.tag, op.hlc)
    : rwRemove(s, op.element, op.tag, op.hlc, op.covers), set)
}

export const rwSetArb: fc.Arbitrary<RwSet> = fc.array(rwOpArb, { maxLength: 12 }).map(ops => applyRwOps(ops))

// ---- version vectors ----

export const vvArb: fc.Arbitrary<VersionVector> = fc.array(
  fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', '__proto__', 'toString'), fc.integer({ min: 0, max: 6 })),
  { maxLength: 6 }
).map(entries => Object.fromEntries(entries))

// ---- task records ----

export const TASK_ID = 't1'
const EXECUTORS = ['x', 'y', 'z'] as const

export const SPECS: readonly TaskSpec[] = [
  { agent: 'lint', input: { files: ['a.ts'] }, priority: 'normal', submitter: 'a', createdHlc: { wall: 1_000, logical: 0, node: 'a' } },
  // a conflicting spec for the same task id: must still merge deterministically
  { agent: 'lint', input: { files: ['b.ts'] }, priority: 'high', submitter: 'b', createdHlc: { wall: 1_000, logical: 0, node: 'a' } }
]

export type TaskOp =
  | { kind: 'lease', executor: string, attempt: number, expiresWall: number }
  | { kind: 'result', executor: string, attempt: number, exitCode: number, outputHash: string, hlc: Hlc, proof: ResultProofArb }
  | { kind: 'retry' } | { kind: 'cancel', by: string } | { kind: 'fail', by: string }
  | { kind: 'replicas', replicas: number, by: string } | { kind: 'adopt', peer: string, epoch: number }

const attemptArb = fc.integer({ min: 1, max: 3 })

/**
 * The proof marks a result gets on apply: none (recorded before grants), a grant by the
 * submitter of SPECS[0] ('a', epoch 0), by a possible adopter ('x' at epoch 1), by a
 * member that never coordinates ('w', a forger granting itself), or rejected (a forgery
 * whose receipt or grant does not verify).
 */
export type ResultProofArb = { grant?: { coordinator: string, epoch: number }, rejected?: string }
export const PROOFS: readonly ResultProofArb[] = [
  {}, { grant: { coordinator: 'a', epoch: 0 } }, { grant: { coordinator: 'x', epoch: 1 } },
  { grant: { coordinator: 'w', epoch: 0 } }, { rejected: 'forged' }
]

export const taskOpArb: fc.Arbitrary<TaskOp> = fc.oneof(
  fc.record({
    kind: fc.constant('lease' as const),
    executor: fc.constantFrom(...EXECUTORS),
    attempt: attemptArb,
    expiresWall: fc.constantFrom(5_000, 6_000)
  }, rec),
  fc.record({
    kind: fc.constant('result' as const),
    executor: fc.constantFrom(...EXECUTORS),
    attempt: attemptArb,
    exitCode: fc.constantFrom(0, 0, 1),
    outputHash: fc.constantFrom('h1', 'h2'),
    hlc: hlcArb,
    proof: fc.constantFrom(...PROOFS)
  }, rec),
  fc.constant({ kind: 'retry' as const }),
  // the submitters of SPECS ('a', 'b') and a bystander: only the submitter's cancel counts
  fc.record({ kind: fc.constant('cancel' as const), by: fc.constantFrom('a', 'b', 'x') }, rec),
  // the submitters, possible adopters, and a bystander: only the submitter's and adopters' fail counts
  fc.record({ kind: fc.constant('fail' as const), by: fc.constantFrom('a', 'b', 'x', 'w') }, rec),
  fc.record({ kind: fc.constant('replicas' as const), replicas: fc.integer({ min: 1, max: 3 }), by: fc.constantFrom('a', 'x', 'w') }, rec),
  fc.record({ kind: fc.constant('adopt' as const), peer: fc.constantFrom(...EXECUTORS), epoch: fc.integer({ min: 1, max: 2 }) }, rec)
)

export function applyTaskOp (task: TaskRecord, op: TaskOp): TaskRecord {
  switch (op.kind) {
    case 'lease': return taskLease(task, { executor: op.executor, attempt: op.attempt, expiresWall: op.expiresWall })
    case 'result': return taskResult(task, {
      executor: op.executor, attempt: op.attempt, exitCode: op.exitCode, outputHash: op.outputHash, hlc: op.hlc, ...op.proof
    })
    case 'retry': return taskRetry(task)
    case 'cancel': return taskCancel(task, op.by)
    case 'fail': return taskFail(task, op.by)
    case 'replicas': return taskReplicas(task, op.replicas, op.by)
    case 'adopt': return taskAdopt(task, { peer: op.peer, epoch: op.epoch })
  }
}

export const taskArb: fc.Arbitrary<TaskRecord> = fc.tuple(
  fc.constantFrom(...SPECS), fc.array(taskOpArb, { maxLength: 8 })
).map(([spec, ops]) => ops.reduce(applyTaskOp, createTask(TASK_ID, spec)))
