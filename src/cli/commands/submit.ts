/**
 * `paired submit AGENT`: hand a task to the team. Prints the task id; with `--wait`,
 * follows the task on the daemon's event stream (live progress on stderr) and prints its
 * output, exiting 5 when it fails.
 */
import { readFile } from 'node:fs/promises'
import { checkAgent, checkLabels, checkTaskInput } from '../../api/task-validate.js'
import {
  MAX_TASK_CORES, MAX_TASK_MEM_MB, MAX_TASK_REPLICAS, MAX_TASK_RETRIES, MAX_TASK_TIMEOUT_MS, TASK_PRIORITIES
} from '../../model/task.js'
import type { ApiClient } from '../../api/client.js'
import { formatDuration, parseDuration } from '../../model/duration.js'
import type { MemberDoc, TaskDoc, TaskPriorityName, TaskSubmit } from '../../model/docs.js'
import { UsageError, checkDurationUnit, flag, intOption, stringList, stringOption } from '../args.js'
import type { CommandArgs, CommandOptions } from '../context.js'
import { shortId, truncate, valueText } from '../format.js'
import {
  TaskFailedError, TaskFollower, failureReason, interruptible, isTerminal, type TaskCommandContext, type TaskIo, type TaskUpdate
} from './task.js'

/** exit code of a `--wait` stopped by Ctrl-C (the task goes on) */
export const EXIT_INTERRUPTED = 130

export const usage = 'submit AGENT [--input JSON | --input-file PATH | --stdin] [--priority P] [--label K=V]... [--replicas N] [--retries N] [--timeout D] [--cpu N] [--mem MB] [--wait]'
export const summary = 'hand a task to the team; print its id (or, with --wait, its output)'
export const details = [
  '  --input JSON       the input as JSON: --input 42 sends the number 42, --input \'"42"\'',
  '                     the string "42"; text that is not JSON and does not start like',
  '                     JSON ({, [ or ") is sent as a string: --input hello sends "hello";',
  '                     text that starts like JSON and does not parse is refused; default null',
  '  --input-file PATH  the input from a file, by the same rule',
  '  --stdin            the input from stdin, by the same rule (one of the three at most)',
  '  --priority P       critical, high, normal (default) or low',
  '  --label K=V        a label the executor must carry (repeat for more)',
  `  --replicas N       distinct executors run it; the majority output commits (1 to ${MAX_TASK_REPLICAS}, default 1)`,
  `  --retries N        further attempts after a failure (0 to ${MAX_TASK_RETRIES}, default 2)`,
  '  --timeout D        per attempt, with a unit: 500ms, 30s, 10m or 1h (at most 24h)',
  '  --cpu N            cores the executor must have free',
  '  --mem MB           memory the executor must have free, in MB',
  '  --wait             follow the task: progress on stderr, then its output on stdout',
  '                     (a string as it is, else indented JSON); exit 5 if it fails',
  'The input is at most 1 MiB of JSON.',
  'With --json: {taskId, state, executor?}; with --wait, {taskId, state, executor, result}.'
].join('\n')
export const args = ['AGENT'] as const
export const options: CommandOptions = {
  input: { type: 'string' },
  'input-file': { type: 'string' },
  stdin: { type: 'boolean' },
  priority: { type: 'string' },
  label: { type: 'string', multiple: true },
  replicas: { type: 'string' },
  retries: { type: 'string' },
  timeout: { type: 'string' },
  cpu: { type: 'string' },
  mem: { type: 'string' },
  wait: { type: 'boolean' }
}

/**
 * JSON when `text` parses as JSON; else `text` itself as a string, unless it starts like
 * JSON (`{`, `[` or `"`): then it is a broken document, refused with the parse error.
 */
export function inputValue (text: string, flagName = '--input'): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    if (/^\s*[[{"]/.test(text)) throw new UsageError(`${flagName} is not valid JSON: ${(err as Error).message} (to send it as a string, JSON-quote it)`)
    return text
  }
}

/** `K=V` flags as labels; the first `=` splits, a name given twice is an error */
export function parseLabels (flags: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const text of flags) {
    const eq = text.indexOf('=')
    if (eq <= 0) throw new UsageError(`--label must be K=V, not "${text}"`)
    const key = text.slice(0, eq)
    if (Object.hasOwn(labels, key)) throw new UsageError(`--label ${key} is given twice`)
    labels[key] = text.slice(eq + 1)
  }
  return checkLabels(labels, '--label')
}

/** `--timeout D` in ms: a duration from 1 ms to 24 h */
export function parseTimeout (text: string): number {
  const ms = parseDuration(checkDurationUnit(text, '--timeout'), '--timeout')
  if (ms < 1 || ms > MAX_TASK_TIMEOUT_MS) throw new UsageError(`--timeout must be from 1ms to 24h, not "${text}"`)
  return ms
}

async function readAll (input: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

async function readInputFile (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read --input-file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
}

/** the input of the command line: at most one of --input, --input-file, --stdin */
async function readInput (parsed: CommandArgs, ctx: TaskCommandContext): Promise<unknown> {
  const text = stringOption(parsed, 'input')
  const file = stringOption(parsed, 'input-file')
  const stdin = flag(parsed, 'stdin')
  const given = [text != null && '--input', file != null && '--input-file', stdin && '--stdin'].filter(f => f !== false)
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be used together: give the input one way`)
  let raw: string | undefined = text
  if (file != null) raw = await readInputFile(file)
  if (stdin) raw = await readAll(ctx.stdin ?? process.stdin)
  if (raw == null) return null
  return checkTaskInput(inputValue(raw.replace(/^\uFEFF/, ''), given[0] ?? '--input'), 'input')
}

/** the `TaskSubmit` of a command line; every check before anything is sent */
export async function submitSpec (parsed: CommandArgs, ctx: TaskCommandContext): Promise<TaskSubmit> {
  const spec: TaskSubmit = { agent: checkAgent(parsed.positionals[0], 'AGENT') }
  const priority = stringOption(parsed, 'priority')
  if (priority != null) {
    if (!(TASK_PRIORITIES as readonly string[]).includes(priority)) {
      throw new UsageError(`--priority must be one of ${TASK_PRIORITIES.join(', ')}, not "${priority}"`)
    }
    spec.priority = priority as TaskPriorityName
  }
  const labels = stringList(parsed, 'label')
  if (labels.length > 0) spec.labels = parseLabels(labels)
  const replicas = intOption(parsed, 'replicas', 1, MAX_TASK_REPLICAS)
  if (replicas != null) spec.replicas = replicas
  const retries = intOption(parsed, 'retries', 0, MAX_TASK_RETRIES)
  if (retries != null) spec.retries = retries
  const timeout = stringOption(parsed, 'timeout')
  if (timeout != null) spec.timeoutMs = parseTimeout(timeout)
  const cores = intOption(parsed, 'cpu', 0, MAX_TASK_CORES)
  const memMb = intOption(parsed, 'mem', 0, MAX_TASK_MEM_MB)
  if (cores != null || memMb != null) spec.needs = { ...(cores != null ? { cores } : {}), ...(memMb != null ? { memMb } : {}) }
  spec.input = await readInput(parsed, ctx)
  return spec
}

/** peer id → member name, best effort (an empty map when the team is unknown) */
async function memberNames (client: ApiClient): Promise<Map<string, string>> {
  try {
    return new Map((await client.get<MemberDoc[]>('team/members')).map(m => [m.peerId, m.name]))
  } catch {
    return new Map()
  }
}

/** `3.2 s` under a minute, else `1m 5s` */
function elapsed (ms: number): string {
  const clamped = Math.max(0, ms)
  return clamped < 60_000 ? `${(clamped / 1000).toFixed(1)} s` : formatDuration(clamped)
}

/**
 * The progress of `submit --wait` on stderr: on a terminal, one line rewritten in place
 * (`⠿ running on bob · attempt 1 · 3.2 s`) and ticking; elsewhere one line per change
 * of state, executor, attempt or waiting reason.
 */
class TaskProgress {
  private readonly since = Date.now()
  private latest?: TaskUpdate
  private runningSince?: number
  private lastKey = ''
  private timer?: ReturnType<typeof setInterval>
  private drawn = false
  private done = false

  constructor (private readonly init: { taskId: string, names: Map<string, string>, tty: TaskIo['tty'], err: (text: string) => void }) {}

  update (update: TaskUpdate): void {
    if (this.done) return
    const previous = this.latest
    if (update.state === 'running' && (previous?.state !== 'running' || previous.attempt !== update.attempt)) this.runningSince = Date.now()
    this.latest = update
    const tty = this.init.tty
    if (tty != null) {
      this.draw()
      if (this.timer == null) {
        this.timer = setInterval(() => { this.draw() }, 100)
        this.timer.unref()
      }
      return
    }
    const key = [update.state, update.executor, update.attempt, update.waiting].join('|')
    if (key === this.lastKey || isTerminal(update.state)) return
    this.lastKey = key
    this.init.err(`task ${this.init.taskId}: ${this.describe(update, false)}`)
  }

  /** stops the ticking and clears the line; off a terminal, says that it succeeded */
  finish (doc?: TaskDoc): void {
    if (this.done) return
    this.done = true
    if (this.timer != null) clearInterval(this.timer)
    if (this.init.tty != null) {
      if (this.drawn) this.init.tty.write('\r\x1b[K')
    } else if (doc?.state === 'succeeded') {
      this.init.err(`task ${this.init.taskId}: ${this.describe(doc, false)}`)
    }
  }

  private draw (): void {
    const tty = this.init.tty
    if (tty == null || this.latest == null) return
    const line = truncate(`⠿ ${this.describe(this.latest, true)}`, Math.max(20, (tty.columns ?? 80) - 1))
    tty.write(`\r\x1b[K${line}`)
    this.drawn = true
  }

  private describe (u: TaskUpdate, withTime: boolean): string {
    const executor = u.executor != null ? ` on ${this.init.names.get(u.executor) ?? shortId(u.executor)}` : ''
    const parts = [`${u.state}${u.state === 'pending' ? '' : executor}`]
    if (u.state !== 'pending' && u.attempt > 0) parts.push(`attempt ${u.attempt}`)
    if (u.waiting != null && u.waiting !== '' && !isTerminal(u.state)) parts.push(u.waiting)
    if (withTime) {
      const start = u.state === 'running' ? (u.startedWall ?? this.runningSince ?? this.since) : this.since
      parts.push(elapsed(Date.now() - Math.min(start, Date.now())))
    }
    return parts.join(' · ')
  }
}

/** submit, then follow the task to its end; the exit code */
async function submitAndWait (spec: TaskSubmit, ctx: TaskCommandContext): Promise<number | undefined> {
  const client = await ctx.client()
  const { signal, release } = interruptible(ctx.signal)
  const tty = ctx.tty !== undefined ? ctx.tty : (process.stderr.isTTY ? process.stderr : null)
  let progress: TaskProgress | undefined
  const follower = new TaskFollower({
    client,
    onDrop: 'poll',
    pollMs: ctx.pollMs,
    signal,
    home: ctx.home,
    onUpdate: update => { progress?.update(update) }
  })
  let doc: TaskDoc | undefined
  try {
    // subscribe first, so no event of the new task is missed
    follower.open()
    const names = await memberNames(client)
    const submitted = await client.post<TaskDoc>('tasks/submit', spec)
    progress = new TaskProgress({ taskId: submitted.taskId, names, tty, err: ctx.err })
    progress.update(submitted)
    doc = await follower.follow(submitted.taskId)
    progress.finish(doc)
    if (doc == null) {
      ctx.err(`stopped waiting for task ${submitted.taskId}; it goes on (see: paired task show ${submitted.taskId})`)
      return EXIT_INTERRUPTED
    }
  } finally {
    progress?.finish()
    follower.close()
    release()
  }
  const result = { taskId: doc.taskId, state: doc.state, executor: doc.executor, result: doc.result }
  if (ctx.json) ctx.out(JSON.stringify(result, null, 2))
  if (doc.state === 'succeeded') {
    const output = doc.result?.output
    if (!ctx.json && output !== undefined) ctx.out(valueText(output))
    return undefined
  }
  throw new TaskFailedError(doc.state === 'cancelled' ? `task ${doc.taskId} was cancelled` : `task ${doc.taskId} failed: ${failureReason(doc)}`)
}

export async function run (parsed: CommandArgs, ctx: TaskCommandContext): Promise<number | undefined> {
  const spec = await submitSpec(parsed, ctx)
  if (flag(parsed, 'wait')) return await submitAndWait(spec, ctx)
  const doc = await (await ctx.client()).post<TaskDoc>('tasks/submit', spec)
  const result = { taskId: doc.taskId, state: doc.state, ...(doc.executor != null ? { executor: doc.executor } : {}) }
  ctx.result(result, () => doc.taskId)
  return undefined
}
