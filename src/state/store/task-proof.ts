/**
 * The proof checks of a `task:result` op, run once when the op is applied (every member
 * runs them on the same op, so every member marks the result the same way):
 *
 * - the executor's **receipt** verifies with the key of the op's author and names the
 *   op's task, attempt, exit code and output hash (`src/tasks/receipt.ts`);
 * - the coordinator's **lease grant** verifies, for the op's task, attempt and author
 *   (`src/tasks/grant.ts`).
 *
 * The result is marked with the grant it carries (whether that grant's signer really
 * coordinates the task is decided later, by the task lattice, from the replicated
 * adoption facts) or with why it was rejected. Receipts and grants signed per batch share
 * one signature over a Merkle root; the proof cache (`src/tasks/proof-cache.ts`) holds
 * the roots this member already checked or signed, so a batch costs it one Ed25519
 * verification per signer and each result only hashing. The cache answers yes only where
 * Ed25519 would, so every member still marks every result the same way.
 */
import type { TaskGrantRef } from '../crdt/index.js'
import type { Op, TaskResultBody } from '../ops/index.js'
import { verifyGrant, type LeaseGrant } from '../../tasks/grant.js'
import { verifyReceipt, type Receipt } from '../../tasks/receipt.js'

export type ResultProof = { grant: TaskGrantRef } | { rejected: string }

/** The proof marks of the result `op` states (a `task:result` op that passed validation). */
export function resultProof (op: Op): ResultProof {
  const body = op.body as TaskResultBody
  const subject = { taskId: body.taskId, attempt: body.attempt, executor: op.author }
  if (body.receipt === undefined) return { rejected: 'no receipt' }
  const receipt = verifyReceipt(body.receipt, subject)
  if (!receipt.ok) return { rejected: `its receipt does not verify: ${receipt.reason}` }
  const r = body.receipt as Receipt
  if (r.outputHash !== body.outputHash || r.exitCode !== body.exitCode) return { rejected: 'its receipt names another output or exit code' }
  if (body.grant === undefined) return { rejected: 'no lease grant from the task\'s coordinator' }
  const grant = verifyGrant(body.grant, subject)
  if (!grant.ok) return { rejected: grant.reason }
  const g = body.grant as LeaseGrant
  return { grant: { coordinator: g.coordinator, epoch: g.epoch } }
}
