/** `paired task explain ID`: why a task runs where it runs, or why it waits. */
import type { TaskExplainDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { onTask, taskIdArg } from './task.js'

export const usage = 'task explain ID'
export const summary = 'why a task is placed where it is, or why it waits'
export const details = [
  'Prints the placement as this daemon computes it now: the ranking of the candidates,',
  'the peers that were refused and why.',
  'With --json: {taskId, state, lines, placement}.'
].join('\n')
export const args = ['ID'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const taskId = taskIdArg(parsed)
  const client = await ctx.client()
  const doc = await onTask(taskId, async () => await client.get<TaskExplainDoc>(`tasks/${encodeURIComponent(taskId)}/explain`))
  ctx.result(doc, () => doc.lines.length > 0 ? doc.lines.join('\n') : `task ${doc.taskId} is ${doc.state} (nothing to explain)`)
  return undefined
}
