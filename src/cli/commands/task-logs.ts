/**
 * `paired task logs ID [--follow]`: the stderr lines of a task's agent; with `--follow`,
 * then each new line as it comes, until the task ends.
 */
import type { TaskLogsDoc } from '../../model/docs.js'
import { flag } from '../args.js'
import type { CommandArgs, CommandOptions } from '../context.js'
import { TaskFollower, interruptible, onTask, taskIdArg, type TaskCommandContext } from './task.js'

export const usage = 'task logs ID [-f|--follow]'
export const summary = 'the log (stderr) lines of a task\'s agent; -f follows them until the task ends'
export const details = [
  '  -f, --follow   then print each new line until the task ends (or Ctrl-C); a line may',
  '                 show twice when it comes while the command starts',
  'The lines come from this daemon, or from the executor when this daemon has none.',
  'With --json: {taskId, lines, truncated, source}; with --follow, NDJSON instead:',
  'one {taskId, line} document per line. Exits 3 if the daemon stops while following.'
].join('\n')
export const args = ['ID'] as const
export const options: CommandOptions = {
  follow: { type: 'boolean', short: 'f' }
}

export async function run (parsed: CommandArgs, ctx: TaskCommandContext): Promise<number | undefined> {
  const taskId = taskIdArg(parsed)
  const client = await ctx.client()
  const path = `tasks/${encodeURIComponent(taskId)}/logs`
  if (!flag(parsed, 'follow')) {
    const doc = await onTask(taskId, async () => await client.get<TaskLogsDoc>(path))
    if (ctx.json) {
      ctx.result(doc, () => '')
    } else {
      for (const line of doc.lines) ctx.out(line)
      if (doc.truncated) ctx.err(`(the log of task ${taskId} was truncated: these are its last lines)`)
    }
    return undefined
  }
  const print = (line: string): void => { ctx.out(ctx.json ? JSON.stringify({ taskId, line }) : line) }
  const { signal, release } = interruptible(ctx.signal)
  const follower = new TaskFollower({ client, onDrop: 'fail', pollMs: ctx.pollMs, signal, home: ctx.home, onLog: print })
  try {
    // subscribe first, so no line is missed between the fetch and the stream
    follower.open()
    const doc = await onTask(taskId, async () => await client.get<TaskLogsDoc>(path))
    doc.lines.forEach(print)
    if (doc.truncated && !ctx.json) ctx.err(`(the log of task ${taskId} was truncated: these are its last lines)`)
    await follower.follow(taskId)
  } finally {
    follower.close()
    release()
  }
  return undefined
}
