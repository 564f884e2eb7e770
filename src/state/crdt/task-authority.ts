/**
 * Who may end a task, as pure functions of a task's joined facts (so every member that
 * holds the same facts decides the same, whatever order they came in):
 *
 * - a task's **authorities** are its submitter and every member that adopted it (a
 *   `task:adopt` fact); only their `task:fail` fails the task;
 * - a **result counts** only when it passed the proof checks on apply (a receipt and a
 *   lease grant that verify; see `store/task-proof.ts`) and its grant was signed by an
 *   authority at the epoch it names: the submitter at epoch 0, an adopter at the epoch of
 *   its adoption. A result without either mark was recorded before grants existed.
 */
/** The grant behind a result, once its signature verified. */
export interface TaskGrantRef {
  readonly coordinator: string
  readonly epoch: number
}

/** What the authority checks read of a result. */
export interface ProvenResult {
  readonly grant?: TaskGrantRef
  /** why the result failed its proof checks on apply */
  readonly rejected?: string
}

/** What the authority checks read of a task. */
export interface TaskAuthorityFacts {
  /** the task's spec: only who submitted it is read */
  readonly spec: { readonly submitter: string }
  /** `${epoch}:${peer}` of every adoption, sorted */
  readonly adoptions: readonly string[]
}

/** The element of `TaskRecord.adoptions` for `peer` adopting at `epoch`. */
export function adoptionKey (epoch: number, peer: string): string {
  return `${epoch}:${peer}`
}

/** The peer of an element of `TaskRecord.adoptions`. */
export function adopterOf (key: string): string {
  return key.slice(key.indexOf(':') + 1)
}

/** Whether `peer` is the task's submitter or one of its adopters (may fail it). */
export function isTaskAuthority (facts: TaskAuthorityFacts, peer: string): boolean {
  if (facts.spec.submitter !== '' && peer === facts.spec.submitter) return true
  return facts.adoptions.some(key => adopterOf(key) === peer)
}

/** Whether a verified grant was signed by the task's coordinator at the epoch it names. */
export function isGrantAuthorized (facts: TaskAuthorityFacts, grant: TaskGrantRef): boolean {
  if (grant.epoch === 0) return facts.spec.submitter !== '' && grant.coordinator === facts.spec.submitter
  return facts.adoptions.includes(adoptionKey(grant.epoch, grant.coordinator))
}

/**
 * Why `result` does not count toward the task's committed result, or `undefined` when it
 * does. With `facts` undefined only the proof marks are read.
 */
export function resultProblem (result: ProvenResult, facts?: TaskAuthorityFacts): string | undefined {
  if (result.rejected !== undefined) return result.rejected
  if (result.grant === undefined || facts === undefined) return undefined
  if (facts.spec.submitter === '') return 'the task is not known yet'
  if (!isGrantAuthorized(facts, result.grant)) {
    return `its grant is by ${result.grant.coordinator} at epoch ${result.grant.epoch}, who does not coordinate the task`
  }
  return undefined
}
