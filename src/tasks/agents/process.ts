/**
 * Runs one child process in its own process group, for the command and shell agents.
 *
 * The child is spawned from an argv (never through a shell unless the argv is a shell),
 * with `detached: true` so it leads a new process group. Timeout, cancel and too much
 * stdout all stop the whole group: SIGTERM, then SIGKILL after `KILL_GRACE_MS`. When the
 * child exits on its own, whatever it left running in its group is stopped the same way,
 * so a task never leaves processes behind. The run resolves only once the child has
 * exited and its pipes have closed, or at the latest `PIPE_CLOSE_WAIT_MS` after the
 * SIGKILL (for a process that escaped the group and still holds the pipes, or a child
 * stuck in the kernel), so a run can always end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { access } from 'node:fs/promises'
import { constants as osConstants } from 'node:os'
import { logger } from '@libp2p/logger'
import {
  EXIT_CANCELLED, EXIT_OUTPUT_TOO_LARGE, EXIT_SPAWN, EXIT_TIMEOUT, KILL_GRACE_MS, PIPE_CLOSE_WAIT_MS
} from './constants.js'
import { LogLines } from './log-lines.js'
import { callHook, isJsonValue, makeOutcome, timeoutMessage } from './outcome.js'
import type { AgentOutcome, AgentRunOptions } from './types.js'

export interface ProcessSpec {
  file: string
  args: string[]
  /** @default the daemon's working directory */
  cwd?: string
  /** added to (and overriding) the daemon's environment */
  env?: Record<string, string>
  /** written to stdin, which is then closed; `undefined` closes stdin at once */
  stdin?: string
  maxOutputBytes: number
  /** the run's timeout (ms), already resolved */
  timeoutMs: number
}

export interface ProcessHooks {
  signal?: AbortSignal
  onLog?: AgentRunOptions['onLog']
  onStart?: AgentRunOptions['onStart']
  /** `performance.now()` when the run began */
  startedAt: number
}

const log = logger('paired:agents')

type StopReason = 'timeout' | 'cancelled' | 'output-too-large'

/** Run `spec` to the end; never rejects. */
export async function runProcess (spec: ProcessSpec, hooks: ProcessHooks): Promise<AgentOutcome> {
  const { startedAt } = hooks
  if (hooks.signal?.aborted === true) {
    return makeOutcome({ exitCode: EXIT_CANCELLED, output: '', reason: 'cancelled', error: 'cancelled', startedAt })
  }
  let child: ChildProcess
  try {
    child = spawn(spec.file, spec.args, {
      shell: false,
      detached: true,
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true
    })
  } catch (err) {
    return spawnFailure(spec, err, startedAt)
  }
  return await new Promise<AgentOutcome>(resolve => { watch(child, spec, hooks, resolve) })
}

async function spawnFailure (spec: ProcessSpec, err: unknown, startedAt: number): Promise<AgentOutcome> {
  let why = err instanceof Error ? err.message : String(err)
  // spawn reports a missing cwd as the program missing: say which it was
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' && spec.cwd != null) {
    try {
      await access(spec.cwd)
    } catch {
      why = `working directory ${JSON.stringify(spec.cwd)} does not exist`
    }
  }
  return makeOutcome({
    exitCode: EXIT_SPAWN, output: '', reason: 'spawn', error: `cannot start ${JSON.stringify(spec.file)}: ${why}`, startedAt
  })
}

/** stdout parsed as JSON when its trimmed text parses, else the text itself */
export function parseOutput (text: string): unknown {
  const trimmed = text.trim()
  if (trimmed === '') return text
  try {
    const value: unknown = JSON.parse(trimmed)
    // JSON.parse accepts what canonical JSON refuses (1e999, nesting past its depth)
    if (isJsonValue(value)) return value
  } catch {}
  return text
}

function watch (child: ChildProcess, spec: ProcessSpec, hooks: ProcessHooks, resolve: (outcome: AgentOutcome) => void): void {
  const { startedAt, signal } = hooks
  const pid = child.pid
  const stdout: Buffer[] = []
  let stdoutBytes = 0
  const stderrLines = new LogLines(hooks.onLog)
  let stopReason: StopReason | undefined
  let exit: { code: number | null, signal: NodeJS.Signals | null } | undefined
  let spawnFailed = false
  let settled = false
  let terminating = false
  let killTimer: ReturnType<typeof setTimeout> | undefined
  let closeTimer: ReturnType<typeof setTimeout> | undefined

  const signalGroup = (sig: NodeJS.Signals): void => {
    if (pid == null) return
    try {
      process.kill(-pid, sig)
    } catch {
      return // ESRCH: the group is gone already
    }
    log('sent %s to process group %d', sig, pid)
  }

  /** SIGTERM the group now, SIGKILL it after the grace, give up on the pipes after that */
  const terminate = (): void => {
    if (terminating) return
    terminating = true
    signalGroup('SIGTERM')
    killTimer = setTimeout(() => {
      signalGroup('SIGKILL')
      closeTimer = setTimeout(() => {
        for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy()
        finish()
      }, PIPE_CLOSE_WAIT_MS)
    }, KILL_GRACE_MS)
  }

  const stop = (reason: StopReason): void => {
    if (stopReason == null) log('stopping pid %d: %s', pid, reason)
    stopReason ??= reason
    terminate()
  }

  const timeoutTimer = setTimeout(() => { if (exit == null) stop('timeout') }, spec.timeoutMs)
  const onAbort = (): void => { if (exit == null) stop('cancelled') }
  signal?.addEventListener('abort', onAbort, { once: true })

  const cleanup = (): void => {
    clearTimeout(timeoutTimer)
    clearTimeout(killTimer)
    clearTimeout(closeTimer)
    signal?.removeEventListener('abort', onAbort)
  }

  const finish = (): void => {
    if (settled) return
    settled = true
    cleanup()
    stderrLines.end()
    const text = Buffer.concat(stdout).toString('utf8')
    const base = { pid, startedAt }
    if (stopReason === 'timeout') {
      resolve(makeOutcome({ ...base, exitCode: EXIT_TIMEOUT, output: parseOutput(text), reason: 'timeout', error: timeoutMessage(spec.timeoutMs) }))
    } else if (stopReason === 'cancelled') {
      resolve(makeOutcome({ ...base, exitCode: EXIT_CANCELLED, output: parseOutput(text), reason: 'cancelled', error: 'cancelled' }))
    } else if (stopReason === 'output-too-large') {
      resolve(makeOutcome({
        ...base, exitCode: EXIT_OUTPUT_TOO_LARGE, output: text, reason: 'output-too-large', error: `stdout exceeds ${spec.maxOutputBytes} bytes`
      }))
    } else {
      const { exitCode, error } = describeExit(exit)
      resolve(makeOutcome({ ...base, exitCode, output: parseOutput(text), reason: 'exit', error }))
    }
  }

  child.on('error', (err: NodeJS.ErrnoException) => {
    // after a successful spawn, 'error' only reports a failed child.kill(), which is not used
    if (pid != null || settled) return
    spawnFailed = true
    settled = true
    cleanup()
    void spawnFailure(spec, err, startedAt).then(resolve)
  })
  child.on('spawn', () => {
    log('started %s as pid %d', spec.file, pid)
    callHook(hooks.onStart, { pid })
  })
  child.on('exit', (code, sig) => {
    if (spawnFailed) return
    exit = { code, signal: sig }
    clearTimeout(timeoutTimer)
    // stop whatever the child left running in its group
    terminate()
  })
  child.on('close', () => { if (!spawnFailed) finish() })

  let overflowed = false
  child.stdout?.on('data', (chunk: Buffer) => {
    if (overflowed) return // keep draining so the child never blocks on a full pipe
    const room = spec.maxOutputBytes - stdoutBytes
    if (chunk.length > room) {
      overflowed = true
      if (room > 0) stdout.push(chunk.subarray(0, room))
      stdoutBytes = spec.maxOutputBytes
      stop('output-too-large')
      return
    }
    stdout.push(chunk)
    stdoutBytes += chunk.length
  })
  child.stderr?.on('data', (chunk: Buffer) => { stderrLines.push(chunk) })
  for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.on('error', () => {}) // EPIPE: the child did not read
  child.stdin?.end(spec.stdin)
}

/** 128 + signal number for a signal death, else the exit code */
function describeExit (exit: { code: number | null, signal: NodeJS.Signals | null } | undefined): { exitCode: number, error: string } {
  if (exit == null) return { exitCode: 1, error: 'did not exit' }
  if (exit.code != null) return { exitCode: exit.code, error: `exited with code ${exit.code}` }
  const number = exit.signal != null ? osConstants.signals[exit.signal] : undefined
  if (number == null) return { exitCode: 1, error: 'exited for an unknown reason' }
  return { exitCode: 128 + number, error: `killed by ${exit.signal}` }
}
