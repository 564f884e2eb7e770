/**
 * What the `paired task ...` commands and `paired submit` share: the task id argument, 404 → "no task ID", and
 * `TaskFollower`, which follows one task on the daemon's event stream (polling when the
 * stream is gone).
 */
import type { ApiClient } from '../../api/client.js'
import { TERMINAL_TASK_STATE_NAMES, checkTaskId } from '../../api/task-validate.js'
import type { DaemonEvent, TaskDoc, TaskResultDoc, TaskStateName, TaskSummaryDoc } from '../../model/docs.js'
import { DaemonNotRunningError, NotFoundError } from '../../errors.js'
import type { CommandArgs, CommandContext } from '../context.js'

/** polling period of `submit --wait` once the event stream is gone. @default 250 ms */
export const POLL_MS = 250
/** while the event stream is up, a slower poll catches an event missed at subscription */
export const SAFETY_POLL_MS = 2000
/** events of not-yet-known tasks kept while a submit is in flight */
const MAX_BUFFERED_EVENTS = 1000

/** What the task commands take besides the common context; tests pass theirs. */
export interface TaskIo {
  /** the input of `submit --stdin`. @default process.stdin */
  stdin?: AsyncIterable<string | Uint8Array>
  /** stops `submit --wait` and `task logs --follow`, as SIGINT does */
  signal?: AbortSignal
  /** where `submit --wait` draws its live progress line; null for none. @default process.stderr when it is a TTY */
  tty?: { write: (chunk: string) => unknown, columns?: number } | null
  /** @default POLL_MS */
  pollMs?: number
}

export type TaskCommandContext = CommandContext & TaskIo

/** The task ended in failed or cancelled: exit code 5. */
export class TaskFailedError extends Error {
  override name = 'TaskFailedError'
}

/** the `data` of a `task:updated` event */
export type TaskUpdate = TaskSummaryDoc & { startedWall: number | null, result: TaskResultDoc | null, waiting: string | null }

export function isTerminal (state: TaskStateName): boolean {
  return TERMINAL_TASK_STATE_NAMES.includes(state)
}

function isUpdate (data: unknown): data is TaskUpdate {
  const d = data as Partial<TaskUpdate> | null
  return typeof d === 'object' && d != null && typeof d.taskId === 'string' && typeof d.state === 'string'
}

function isLog (data: unknown): data is { taskId: string, line: string } {
  const d = data as { taskId?: unknown, line?: unknown } | null
  return typeof d === 'object' && d != null && typeof d.taskId === 'string' && typeof d.line === 'string'
}

/** the ID argument, checked */
export function taskIdArg (parsed: CommandArgs): string {
  return checkTaskId(parsed.positionals[0], 'ID')
}

/** a 404 about the task itself, not about the route (a daemon older than tasks) */
export function isMissingTask (err: unknown): boolean {
  const { name, message } = err as { name?: unknown, message?: unknown }
  return name === 'NotFoundError' && !(typeof message === 'string' && message.startsWith('no route '))
}

/** `call()`, with a 404 for the task turned into `NotFoundError: no task ID` (exit 4) */
export async function onTask<T> (taskId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (isMissingTask(err)) throw new NotFoundError(`no task ${taskId}`)
    throw err
  }
}

export async function getTask (client: ApiClient, taskId: string): Promise<TaskDoc> {
  return await onTask(taskId, async () => await client.get<TaskDoc>(`tasks/${encodeURIComponent(taskId)}`))
}

/** why a task in a terminal state did not succeed, in a few words */
export function failureReason (doc: TaskDoc): string {
  const report = doc.result ?? doc.results.at(-1)
  if (report?.error != null && report.error !== '') return report.error
  if (report != null) return `exit code ${report.exitCode}`
  return doc.waiting ?? 'no attempt reported a result'
}

export interface FollowInit {
  client: ApiClient
  /** each state the task is seen in: its events, and the documents of polls */
  onUpdate?: (update: TaskUpdate) => void
  /** each `task:log` line of the task */
  onLog?: (line: string) => void
  /** when the event stream ends: poll instead, or fail with `DaemonNotRunningError` */
  onDrop: 'poll' | 'fail'
  /** @default POLL_MS */
  pollMs?: number
  signal?: AbortSignal
  /** the home, for the error message */
  home: string
}

/**
 * Follows one task until a terminal state. `open()` subscribes to the event stream
 * before the request that creates or reads the task; `follow(id)` then replays what came
 * for that id meanwhile, polls once (the task may have ended before the subscription),
 * and resolves with the final `TaskDoc` (undefined when the signal aborts).
 */
export class TaskFollower {
  private readonly init: FollowInit
  private readonly stop = new AbortController()
  private readonly signal: AbortSignal
  private taskId?: string
  private buffer: DaemonEvent[] = []
  private streaming = false
  private failure?: Error
  private ended = false
  private wake: () => void = () => {}

  constructor (init: FollowInit) {
    this.init = init
    this.signal = init.signal != null ? AbortSignal.any([init.signal, this.stop.signal]) : this.stop.signal
    this.signal.addEventListener('abort', () => { this.wake() }, { once: true })
  }

  open (): void {
    this.streaming = true
    this.init.client.events('events', event => { this.onEvent(event) }, this.signal).then(
      () => { this.dropped() },
      () => { this.dropped() }
    )
  }

  close (): void {
    this.stop.abort()
  }

  async follow (taskId: string): Promise<TaskDoc | undefined> {
    this.taskId = taskId
    for (const event of this.buffer.splice(0)) this.onEvent(event)
    try {
      while (!this.signal.aborted) {
        if (this.failure != null) throw this.failure
        const doc = await getTask(this.init.client, taskId)
        if (isTerminal(doc.state)) return doc
        if (this.signal.aborted) break
        this.init.onUpdate?.(doc)
        await this.sleep(this.streaming && !this.ended ? SAFETY_POLL_MS : (this.init.pollMs ?? POLL_MS))
      }
      return undefined
    } finally {
      this.close()
    }
  }

  private onEvent (event: DaemonEvent): void {
    if (event.type === 'reset') {
      // the daemon no longer holds what this stream missed: the next poll reads the task now
      this.wake()
      return
    }
    if (this.taskId == null) {
      if (event.type === 'task:updated' || event.type === 'task:log') {
        this.buffer.push(event)
        if (this.buffer.length > MAX_BUFFERED_EVENTS) this.buffer.shift()
      }
      return
    }
    if (event.type === 'task:updated' && isUpdate(event.data) && event.data.taskId === this.taskId) {
      this.init.onUpdate?.(event.data)
      if (isTerminal(event.data.state)) {
        this.ended = true
        this.wake()
      }
    } else if (event.type === 'task:log' && isLog(event.data) && event.data.taskId === this.taskId) {
      this.init.onLog?.(event.data.line)
    }
  }

  private dropped (): void {
    if (this.stop.signal.aborted || this.signal.aborted) return
    this.streaming = false
    if (this.init.onDrop === 'fail') {
      this.failure = new DaemonNotRunningError(`the daemon for home ${this.init.home} closed the event stream (it stopped)`)
    }
    this.wake()
  }

  /** `ms`, or less when an event, a dropped stream or the signal wakes it */
  private async sleep (ms: number): Promise<void> {
    if (this.ended || this.failure != null) ms = this.init.pollMs ?? POLL_MS
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, ms)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
    this.wake = () => {}
  }
}

/** SIGINT aborts the returned signal (combined with `signal`) until `release()` */
export function interruptible (signal?: AbortSignal): { signal: AbortSignal, release: () => void } {
  const interrupt = new AbortController()
  const onSigint = (): void => { interrupt.abort() }
  process.once('SIGINT', onSigint)
  return {
    signal: signal != null ? AbortSignal.any([signal, interrupt.signal]) : interrupt.signal,
    release: () => { process.off('SIGINT', onSigint) }
  }
}
