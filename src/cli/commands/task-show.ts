/** `paired task show ID`: one task, readable. */
import { formatDuration } from '../../model/duration.js'
import type { TaskDoc, TaskResultDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { keyValues, oneLineValue, truncate } from '../format.js'
import { memberNameMap, shortWithName, withName } from '../members.js'
import { age } from './tasks.js'
import { getTask, taskIdArg } from './task.js'

export const usage = 'task show ID'
export const summary = 'one task: its spec, state, executor, result and attempts'
export const details = [
  'Input and output are cut to 200 characters; --json prints the whole task',
  '{taskId, agent, state, submitter, executor, priority, attempt, input, labels, needs,',
  'timeoutMs, retries, replicas, coordinator, result, results, leases, startedWall, waiting, ...}.'
].join('\n')
export const args = ['ID'] as const

/** widest input or output */
export const VALUE_WIDTH = 200

function when (wall: number, now: number): string {
  return `${new Date(wall).toISOString()} (${age(wall, now)} ago)`
}

function report (r: TaskResultDoc, names: ReadonlyMap<string, string>): string {
  const parts = [`attempt ${r.attempt}`, shortWithName(r.executor, names), `exit ${r.exitCode}`, `output sha256 ${r.outputHash.slice(0, 12)}…`]
  if (r.error != null && r.error !== '') parts.push(truncate(r.error.replace(/\s*\n\s*/g, ' '), 80))
  if (r.notCounted != null) parts.push(`not counted: ${truncate(r.notCounted, 80)}`)
  return parts.join(' · ')
}

/** `names`: peer id → member name, shown beside the peer ids */
export function formatTask (doc: TaskDoc, now = Date.now(), names: ReadonlyMap<string, string> = new Map()): string {
  const needs = [
    doc.needs.cores != null ? `${doc.needs.cores} core${doc.needs.cores === 1 ? '' : 's'}` : '',
    doc.needs.memMb != null ? `${doc.needs.memMb} MB` : ''
  ].filter(n => n !== '')
  const pairs: Array<[string, string | string[]]> = [
    ['task', doc.taskId],
    ['agent', doc.agent],
    ['state', `${doc.state}${doc.attempt > 0 ? ` (attempt ${doc.attempt})` : ''}${doc.cancelled && doc.state !== 'cancelled' ? ', cancel requested' : ''}`],
    ['priority', doc.priority],
    ['submitter', withName(doc.submitter, names)],
    ['coordinator', withName(doc.coordinator, names)],
    ['executor', doc.executor != null ? withName(doc.executor, names) : '-'],
    ['created', when(doc.createdWall, now)]
  ]
  if (doc.startedWall != null) pairs.push(['started', when(doc.startedWall, now)])
  if (doc.waiting != null && doc.waiting !== '') pairs.push(['waiting', doc.waiting])
  pairs.push(
    ['timeout', doc.timeoutMs != null ? formatDuration(doc.timeoutMs) : 'the agent\'s own'],
    ['retries', String(doc.retries)],
    ['replicas', String(doc.replicas)],
    ['labels', Object.entries(doc.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
    ['needs', needs.join(', ') || '-'],
    ['input', truncate(oneLineValue(doc.input), VALUE_WIDTH)]
  )
  if (doc.result != null) {
    pairs.push(['result', report(doc.result, names)])
    if (doc.result.output !== undefined) pairs.push(['output', truncate(oneLineValue(doc.result.output), VALUE_WIDTH)])
  }
  if (doc.results.length > 0 && (doc.results.length > 1 || doc.result == null)) pairs.push(['reports', doc.results.map(r => report(r, names))])
  if (doc.leases.length > 0 && !['succeeded', 'failed', 'cancelled'].includes(doc.state)) {
    pairs.push(['leases', doc.leases.map(l => `attempt ${l.attempt} · ${shortWithName(l.executor, names)} · expires in ${formatDuration(Math.max(0, l.expiresWall - now))}`)])
  }
  return keyValues(pairs)
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const client = await ctx.client()
  const doc = await getTask(client, taskIdArg(parsed))
  const names = ctx.json ? new Map<string, string>() : await memberNameMap(client)
  ctx.result(doc, () => formatTask(doc, Date.now(), names))
  return undefined
}
