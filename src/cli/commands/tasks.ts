/** `paired tasks [--state S] [--limit N]`: the team's tasks, newest first as the daemon lists them. */
import { formatDuration } from '../../model/duration.js'
import { MAX_TASK_LIST_LIMIT, TASK_STATE_NAMES } from '../../api/task-validate.js'
import type { TaskSummaryDoc } from '../../model/docs.js'
import { UsageError, intOption, stringOption } from '../args.js'
import type { CommandArgs, CommandContext, CommandOptions } from '../context.js'
import { table } from '../format.js'
import { memberNameMap, shortWithName } from '../members.js'

export const usage = 'tasks [--state S] [--limit N]'
export const summary = 'the team\'s tasks: id, state, agent, priority, executor, age'
export const details = [
  `  --state S   only tasks in state S: ${TASK_STATE_NAMES.join(', ')}`,
  `  --limit N   at most N tasks (1 to ${MAX_TASK_LIST_LIMIT}, default 1000)`,
  'With --json: [{taskId, agent, state, submitter, executor, priority, attempt, createdWall}].'
].join('\n')
export const options: CommandOptions = {
  state: { type: 'string' },
  limit: { type: 'string' }
}

/** how long ago `wall` was: `5s`, `3m 2s`, `2d 1h` */
export function age (wall: number, now = Date.now()): string {
  return formatDuration(Math.max(0, now - wall)).split(' ').slice(0, 2).join(' ')
}

/** `names`: peer id → member name, shown beside the short peer id */
export function formatTasks (tasks: TaskSummaryDoc[], now = Date.now(), names: ReadonlyMap<string, string> = new Map()): string {
  return table(
    ['ID', 'STATE', 'AGENT', 'PRIORITY', 'EXECUTOR', 'AGE'],
    tasks.map(t => [t.taskId, t.state, t.agent, t.priority, t.executor != null ? shortWithName(t.executor, names) : '-', age(t.createdWall, now)])
  )
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const query = new URLSearchParams()
  const state = stringOption(parsed, 'state')
  if (state != null) {
    if (!(TASK_STATE_NAMES as readonly string[]).includes(state)) {
      throw new UsageError(`--state must be one of ${TASK_STATE_NAMES.join(', ')}, not "${state}"`)
    }
    query.set('state', state)
  }
  const limit = intOption(parsed, 'limit', 1, MAX_TASK_LIST_LIMIT)
  if (limit != null) query.set('limit', String(limit))
  const text = query.toString()
  const client = await ctx.client()
  const tasks = await client.get<TaskSummaryDoc[]>(`tasks${text !== '' ? `?${text}` : ''}`)
  const names = ctx.json || tasks.length === 0 ? new Map<string, string>() : await memberNameMap(client)
  ctx.result(tasks, () => tasks.length === 0 ? (state != null ? `no ${state} tasks` : 'no tasks') : formatTasks(tasks, Date.now(), names))
  return undefined
}
