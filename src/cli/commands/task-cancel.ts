/** `paired task cancel ID`: stop a task; a task already ended stays as it is. */
import type { TaskDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { onTask, taskIdArg } from './task.js'

export const usage = 'task cancel ID'
export const summary = 'cancel a task this machine submitted (no error when it has already ended)'
export const details = 'With --json: the task {taskId, state, ...} as `paired task show --json` prints it.'
export const args = ['ID'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const taskId = taskIdArg(parsed)
  const client = await ctx.client()
  const doc = await onTask(taskId, async () => await client.post<TaskDoc>(`tasks/${encodeURIComponent(taskId)}/cancel`, {}))
  ctx.result(doc, () => doc.state === 'cancelled' || doc.cancelled
    ? `cancelled task ${doc.taskId}`
    : `task ${doc.taskId} already ${doc.state} (nothing to cancel)`)
  return undefined
}
