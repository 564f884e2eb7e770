/** `paired task verify ID`: check the signed receipt of a task's committed result. */
import type { TaskVerifyDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { EXIT_TASK_FAILED } from '../exit-codes.js'
import { onTask, taskIdArg } from './task.js'

export const usage = 'task verify ID'
export const summary = 'check the executor\'s signed receipt of a task\'s result (exit 5 when invalid)'
export const details = [
  'Prints "receipt OK: task ... attempt ... executor ... output sha256 ..." and exits 0,',
  'or "receipt INVALID: <reason>" and exits 5; a task with no committed result has no',
  'receipt to check: "no receipt to verify: <reason>", also exit 5.',
  'With --json: {taskId, ok, reason?, executor, receipt}, and the same exit code.'
].join('\n')
export const args = ['ID'] as const

/** a field of the receipt, when it is an object that has it */
function receiptField (receipt: unknown, field: string): unknown {
  return typeof receipt === 'object' && receipt != null ? (receipt as Record<string, unknown>)[field] : undefined
}

export function formatVerify (doc: TaskVerifyDoc): string {
  // no committed result means no receipt: nothing was checked, so nothing is "invalid"
  if (!doc.ok && doc.receipt == null) return `no receipt to verify: ${doc.reason ?? 'the task has no committed result'}`
  if (!doc.ok) return `receipt INVALID: ${doc.reason ?? 'no reason given'}`
  const field = (name: string, fallback: unknown = undefined): string => String(receiptField(doc.receipt, name) ?? fallback ?? '?')
  return `receipt OK: task ${field('taskId', doc.taskId)} attempt ${field('attempt')} executor ${field('executor', doc.executor)} output sha256 ${field('outputHash')}`
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const taskId = taskIdArg(parsed)
  const client = await ctx.client()
  const doc = await onTask(taskId, async () => await client.get<TaskVerifyDoc>(`tasks/${encodeURIComponent(taskId)}/verify`))
  ctx.result(doc, () => formatVerify(doc))
  return doc.ok ? undefined : EXIT_TASK_FAILED
}
