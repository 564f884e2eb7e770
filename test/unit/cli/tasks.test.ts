import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ApiClient } from '../../../src/api/client.js'
import { ApiServer, ensureApiToken } from '../../../src/api/index.js'
import type {
  DaemonEvent, TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskStateName, TaskSubmit, TaskSummaryDoc, TaskVerifyDoc
} from '../../../src/model/docs.js'
import { parseCommandArgs } from '../../../src/cli/args.js'
import { COMMANDS } from '../../../src/cli/commands/index.js'
import { inputValue, parseLabels, parseTimeout } from '../../../src/cli/commands/submit.js'
import { TaskFollower, type TaskIo } from '../../../src/cli/commands/task.js'
import { makeContext } from '../../../src/cli/context.js'
import { exitCodeFor } from '../../../src/cli/exit-codes.js'
import { main } from '../../../src/cli/main.js'
import { homePaths } from '../../../src/daemon/home.js'
import { NotFoundError } from '../../../src/errors.js'
import { PEER_B, StubControl, pendingTaskDoc } from '../api/helpers.js'

interface Run { code: number, stdout: string, stderr: string }

const OUTPUT_HASH = 'ab'.repeat(32)

/**
 * A fake task system: tasks in a map, ids t1, t2...; `set` changes a task and publishes
 * `task:updated` as the daemon does; `onSubmit` lets a test act right after a submit.
 */
class TaskStubControl extends StubControl implements TaskControl {
  readonly tasks = new Map<string, TaskDoc>()
  logs: string[] = ['starting']
  verify: Omit<TaskVerifyDoc, 'taskId'> = { ok: true, executor: PEER_B, receipt: { taskId: 't1', attempt: 1, executor: PEER_B, outputHash: OUTPUT_HASH } }
  onSubmit?: (doc: TaskDoc) => void
  private next = 0

  reset (): void {
    this.tasks.clear()
    this.calls.length = 0
    this.onSubmit = undefined
    this.next = 0
  }

  private known (taskId: string): TaskDoc {
    const doc = this.tasks.get(taskId)
    if (doc == null) throw new NotFoundError(`no task ${taskId}`)
    return structuredClone(doc)
  }

  /** changes a task and publishes its `task:updated` event */
  set (taskId: string, patch: Partial<TaskDoc>): void {
    const doc = { ...this.known(taskId), ...patch }
    this.tasks.set(taskId, doc)
    const { taskId: id, agent, state, submitter, executor, priority, attempt, createdWall, startedWall, result, waiting } = doc
    this.publish({ type: 'task:updated', data: { taskId: id, agent, state, submitter, executor, priority, attempt, createdWall, startedWall, result, waiting } })
  }

  async taskSubmit (spec: TaskSubmit): Promise<TaskDoc> {
    this.record('taskSubmit', spec)
    const doc = pendingTaskDoc(`t${++this.next}`, spec, { createdWall: Date.now() - 5_000, waiting: 'no peer has agent ' + spec.agent })
    this.tasks.set(doc.taskId, doc)
    this.onSubmit?.(structuredClone(doc))
    return structuredClone(doc)
  }

  async taskSubmitMany (specs: TaskSubmit[]): Promise<Array<{ taskId: string }>> {
    return await Promise.all(specs.map(async spec => ({ taskId: (await this.taskSubmit(spec)).taskId })))
  }

  async taskList (filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]> {
    this.record('taskList', filter)
    return [...this.tasks.values()]
      .filter(t => filter.state == null || t.state === filter.state)
      .map(({ taskId, agent, state, submitter, executor, priority, attempt, createdWall }) => ({ taskId, agent, state, submitter, executor, priority, attempt, createdWall }))
  }

  async taskGet (taskId: string): Promise<TaskDoc> {
    this.record('taskGet', taskId)
    return this.known(taskId)
  }

  async taskCancel (taskId: string): Promise<TaskDoc> {
    this.record('taskCancel', taskId)
    const doc = this.known(taskId)
    if (['succeeded', 'failed', 'cancelled'].includes(doc.state)) return doc
    this.set(taskId, { state: 'cancelled', cancelled: true })
    return this.known(taskId)
  }

  async taskExplain (taskId: string): Promise<TaskExplainDoc> {
    this.record('taskExplain', taskId)
    const doc = this.known(taskId)
    return { taskId, state: doc.state, lines: ['PEER       SCORE', 'bob        0.90', 'alice      refused: no agent echo'], placement: {} }
  }

  async taskLogs (taskId: string): Promise<TaskLogsDoc> {
    this.record('taskLogs', taskId)
    this.known(taskId)
    return { taskId, lines: [...this.logs], truncated: false, source: PEER_B }
  }

  async taskVerify (taskId: string): Promise<TaskVerifyDoc> {
    this.record('taskVerify', taskId)
    this.known(taskId)
    return { taskId, ...this.verify }
  }
}

function result (output: unknown, patch: Partial<TaskDoc['result'] & object> = {}): NonNullable<TaskDoc['result']> {
  return { executor: PEER_B, attempt: 1, exitCode: 0, outputHash: OUTPUT_HASH, output, ...patch }
}

function oneLine (text: string): string {
  const lines = text.trimEnd().split('\n')
  expect(lines, text).toHaveLength(1)
  return lines[0]
}

describe('submit flags (pure)', () => {
  it('--input is JSON when it parses, else a string unless it starts like JSON', () => {
    expect(inputValue('hello')).toBe('hello')
    expect(inputValue('42')).toBe(42)
    expect(inputValue('"42"')).toBe('42')
    expect(inputValue('{"a":[1,true]}')).toEqual({ a: [1, true] })
    expect(inputValue('')).toBe('')
    expect(inputValue('null')).toBeNull()
    expect(inputValue('1.2.3')).toBe('1.2.3')
  })

  it('--input that starts like JSON and does not parse is a usage error naming the parse error', () => {
    for (const text of ['{bad json', '{a:1}', '[1,', ' {"a":', '"unterminated']) {
      let caught: unknown
      try { inputValue(text) } catch (err) { caught = err }
      expect(caught, text).toBeInstanceOf(Error)
      expect((caught as Error).name, text).toBe('UsageError')
      expect((caught as Error).message, text).toMatch(/^--input is not valid JSON: .*(JSON|position|Unexpected|Expected)/)
    }
  })

  it('--label K=V: the first = splits; no name, no =, or a name twice is an error', () => {
    expect(parseLabels(['os=linux', 'expr=a=b', 'empty='])).toEqual({ os: 'linux', expr: 'a=b', empty: '' })
    expect(() => parseLabels(['os'])).toThrow('--label must be K=V, not "os"')
    expect(() => parseLabels(['=x'])).toThrow('--label must be K=V, not "=x"')
    expect(() => parseLabels(['os=a', 'os=b'])).toThrow('--label os is given twice')
    expect(() => parseLabels([`k=${'v'.repeat(257)}`])).toThrow(/^--label\.k must be at most 256 characters/)
  })

  it('--timeout takes durations from 1ms to 24h', () => {
    expect(parseTimeout('30s')).toBe(30_000)
    expect(parseTimeout('10m')).toBe(600_000)
    expect(parseTimeout('1h30m')).toBe(5_400_000)
    expect(parseTimeout('24h')).toBe(86_400_000)
    expect(parseTimeout('1500ms')).toBe(1500)
    expect(() => parseTimeout('25h')).toThrow('--timeout must be from 1ms to 24h, not "25h"')
    expect(() => parseTimeout('0s')).toThrow(/^--timeout must be from 1ms/)
    expect(() => parseTimeout('soon')).toThrow(/^--timeout: invalid duration "soon"/)
  })

  it('--timeout with a bare number is refused: it would silently mean milliseconds', () => {
    for (const text of ['5', '1500', '2.5']) {
      let caught: unknown
      try { parseTimeout(text) } catch (err) { caught = err }
      expect((caught as Error | undefined)?.name, text).toBe('UsageError')
      expect((caught as Error).message).toBe(`--timeout ${text} has no unit: write ${text}s, ${text}m or ${text}ms (units: ms, s, m, h, d)`)
    }
  })
})

describe('TaskFollower without an event stream', () => {
  it('falls back to polling every pollMs and resolves with the terminal TaskDoc', async () => {
    const states: TaskStateName[] = ['pending', 'running', 'running', 'succeeded']
    let gets = 0
    const client = {
      events: async () => {},
      get: async () => ({ taskId: 't9', state: states[Math.min(gets++, states.length - 1)] })
    } as unknown as ApiClient
    const seen: string[] = []
    const follower = new TaskFollower({ client, onDrop: 'poll', pollMs: 5, home: '/h', onUpdate: u => { seen.push(u.state) } })
    follower.open()
    const started = Date.now()
    const doc = await follower.follow('t9')
    expect(doc).toEqual({ taskId: 't9', state: 'succeeded' })
    expect(gets).toBe(4)
    expect(seen).toEqual(['pending', 'running', 'running'])
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('with onDrop fail, a dropped stream is DaemonNotRunningError', async () => {
    const client = {
      events: async () => {},
      get: async () => ({ taskId: 't9', state: 'running' })
    } as unknown as ApiClient
    const follower = new TaskFollower({ client, onDrop: 'fail', pollMs: 5, home: '/h' })
    follower.open()
    await expect(follower.follow('t9')).rejects.toMatchObject({ name: 'DaemonNotRunningError', message: expect.stringMatching(/^the daemon for home \/h closed the event stream/) })
  })
})

describe('paired submit / tasks / task against a real ApiServer', () => {
  let home: string
  let control: TaskStubControl
  let server: ApiServer

  async function run (argv: string[]): Promise<Run> {
    let stdout = ''
    let stderr = ''
    const code = await main([...argv, '--home', home], { out: s => { stdout += s }, err: s => { stderr += s }, env: {} })
    return { code, stdout, stderr }
  }

  /** one command with the inputs `main` cannot pass (stdin, tty, stop signal); errors as `main` reports them */
  async function runTask (name: string, argv: string[], io: TaskIo = {}): Promise<Run> {
    let stdout = ''
    let stderr = ''
    const command = COMMANDS[name]
    try {
      const args = parseCommandArgs(argv, command.options ?? {})
      const ctx = makeContext({ home, json: args.values.json === true, env: {}, write: { out: s => { stdout += s }, err: s => { stderr += s } }, usage: () => '' })
      const code = (await command.run(args, { ...ctx, tty: null, ...io } as typeof ctx)) ?? 0
      return { code, stdout, stderr }
    } catch (err) {
      return { code: exitCodeFor(err), stdout, stderr: stderr + `paired: ${(err as Error).message}\n` }
    }
  }

  const submits = (): TaskSubmit[] => control.calls.filter(c => c.method === 'taskSubmit').map(c => c.args[0] as TaskSubmit)

  /** waits until the command has submitted and subscribed, as the daemon would see it */
  async function submittedAndSubscribed (listenersBefore: number): Promise<string> {
    await expect.poll(() => control.tasks.size > 0 && control.listeners.size > listenersBefore).toBe(true)
    return [...control.tasks.keys()].at(-1) ?? ''
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'paired-cli-tasks-'))
    const paths = homePaths(home)
    control = new TaskStubControl()
    server = new ApiServer({ control, token: await ensureApiToken(paths.apiToken), socketPath: paths.apiSocket, events: { retainMs: 0 } })
    await server.start()
  })

  afterAll(async () => {
    await server.stop()
    await rm(home, { recursive: true, force: true })
  })

  beforeEach(async () => {
    control.reset()
    // streams of earlier commands close on the server a moment after the command ends
    await expect.poll(() => control.listeners.size).toBe(0)
  })

  it('submit prints the task id; --json {taskId, state, executor?}', async () => {
    const r = await run(['submit', 'echo', '--input', 'hello'])
    expect(r).toEqual({ code: 0, stdout: 't1\n', stderr: '' })
    expect(submits()).toEqual([{ agent: 'echo', input: 'hello', priority: 'normal' }])
    const json = await run(['submit', 'echo', '--json'])
    expect(JSON.parse(json.stdout)).toEqual({ taskId: 't2', state: 'pending' })
    expect(submits()[1]).toEqual({ agent: 'echo', input: null, priority: 'normal' })
  })

  it('submit sends every flag, checked', async () => {
    const r = await run([
      'submit', 'build', '--input', '{"files":["a"]}', '--priority', 'high', '--label', 'os=linux', '--label', 'arch=x86_64',
      '--replicas', '3', '--retries', '0', '--timeout', '10m', '--cpu', '4', '--mem', '2048'
    ])
    expect(r.code).toBe(0)
    expect(submits()).toEqual([{
      agent: 'build',
      input: { files: ['a'] },
      priority: 'high',
      labels: { os: 'linux', arch: 'x86_64' },
      replicas: 3,
      retries: 0,
      timeoutMs: 600_000,
      needs: { cores: 4, memMb: 2048 }
    }])
  })

  it('submit reads the input from a file or from stdin, by the same rule', async () => {
    const file = join(home, 'input.json')
    await writeFile(file, '{"n": 1}\n')
    expect((await run(['submit', 'echo', '--input-file', file])).code).toBe(0)
    const text = join(home, 'input.txt')
    await writeFile(text, 'plain text\n')
    expect((await run(['submit', 'echo', '--input-file', text])).code).toBe(0)
    const stdin = await runTask('submit', ['echo', '--stdin'], { stdin: (async function * () { yield '[1,'; yield Buffer.from('2]') })() })
    expect(stdin.code).toBe(0)
    expect(submits().map(s => s.input)).toEqual([{ n: 1 }, 'plain text\n', [1, 2]])
    const missing = await run(['submit', 'echo', '--input-file', join(home, 'nope')])
    expect(missing.code).toBe(2)
    expect(oneLine(missing.stderr)).toMatch(/^paired: cannot read --input-file .*nope: no such file/)
  })

  it('bad command lines are usage errors (exit 2), and nothing is sent', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['submit'], /^paired: missing AGENT: paired submit AGENT/],
      [['submit', 'Echo'], /^paired: AGENT must be 1 to 64 characters of a-z/],
      [['submit', 'echo', '--input', '1', '--stdin'], /^paired: --input and --stdin cannot be used together/],
      [['submit', 'echo', '--input', '1', '--input-file', 'f'], /^paired: --input and --input-file cannot be used together/],
      [['submit', 'echo', '--priority', 'urgent'], /^paired: --priority must be one of critical, high, normal, low, not "urgent"/],
      [['submit', 'echo', '--label', 'os'], /^paired: --label must be K=V, not "os"/],
      [['submit', 'echo', '--replicas', '8'], /^paired: --replicas must be a whole number from 1 to 7, not "8"/],
      [['submit', 'echo', '--retries', 'x'], /^paired: --retries must be a whole number from 0 to 20/],
      [['submit', 'echo', '--timeout', '2d'], /^paired: --timeout must be from 1ms to 24h, not "2d"/],
      [['submit', 'echo', '--timeout', 'later'], /^paired: --timeout: invalid duration "later"/],
      [['submit', 'echo', '--timeout', '5'], /^paired: --timeout 5 has no unit: write 5s, 5m or 5ms/],
      [['submit', 'echo', '--input', '{bad json'], /^paired: --input is not valid JSON: /],
      [['submit', 'echo', '--cpu', 'two'], /^paired: --cpu must be a whole number/],
      [['submit', 'echo', '--input', 'x'.repeat(1024 * 1024)], /^paired: input of 1048578 bytes is over the 1 MiB limit/],
      [['tasks', '--state', 'done'], /^paired: --state must be one of pending, running, succeeded, failed, cancelled, not "done"/],
      [['tasks', '--limit', '0'], /^paired: --limit must be a whole number from 1 to 10000/],
      [['task', 'show'], /^paired: missing ID: paired task show ID/],
      [['task', 'show', 'a/b'], /^paired: ID must be 1 to 64 characters of A-Z a-z 0-9/],
      [['task', 'frob', 'x'], /^paired: unknown command 'task frob'/]
    ]
    for (const [argv, message] of cases) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(oneLine(r.stderr), argv.join(' ')).toMatch(message)
    }
    expect(submits()).toEqual([])
  })

  it('an unknown task id: exit 4 and "no task ID", for every task command', async () => {
    for (const command of ['show', 'logs', 'cancel', 'explain', 'verify']) {
      const r = await run(['task', command, 'nope'])
      expect(r.code, command).toBe(4)
      expect(r.stdout).toBe('')
      expect(r.stderr, command).toBe('paired: no task nope\n')
    }
    expect((await run(['task', 'logs', 'nope', '-f'])).stderr).toBe('paired: no task nope\n')
  })

  describe('submit --wait', () => {
    it('follows the events and prints the output; one stderr line per change off a TTY', async () => {
      const before = control.listeners.size
      const waiting = run(['submit', 'echo', '--input', 'hi', '--wait'])
      const id = await submittedAndSubscribed(before)
      control.set(id, { state: 'running', executor: PEER_B, attempt: 1, startedWall: Date.now(), waiting: null })
      control.set(id, { state: 'running', executor: PEER_B, attempt: 1 })
      control.set(id, { state: 'succeeded', result: result('hi there') })
      const r = await waiting
      expect(r.code).toBe(0)
      expect(r.stdout).toBe('hi there\n')
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `task ${id}: pending · no peer has agent echo`,
        `task ${id}: running on bob · attempt 1`,
        `task ${id}: succeeded on bob · attempt 1`
      ])
      await expect.poll(() => control.listeners.size).toBe(before)
    })

    it('prints JSON output indented; --json prints {taskId, state, executor, result}', async () => {
      control.onSubmit = doc => { setImmediate(() => { control.set(doc.taskId, { state: 'succeeded', executor: PEER_B, attempt: 1, result: result({ ok: [1] }) }) }) }
      const text = await run(['submit', 'echo', '--wait'])
      expect(text.code).toBe(0)
      expect(text.stdout).toBe(JSON.stringify({ ok: [1] }, null, 2) + '\n')
      const json = await run(['submit', 'echo', '--wait', '--json'])
      expect(json.code).toBe(0)
      expect(JSON.parse(json.stdout)).toEqual({ taskId: 't2', state: 'succeeded', executor: PEER_B, result: result({ ok: [1] }) })
    })

    it('a task that ends before the first event is caught by the poll after submit', async () => {
      // no event at all: the task is simply done by the time the command looks
      control.onSubmit = doc => { control.tasks.set(doc.taskId, { ...doc, state: 'succeeded', executor: PEER_B, attempt: 1, result: result('quick') }) }
      const started = Date.now()
      const r = await run(['submit', 'echo', '--wait'])
      expect(r).toMatchObject({ code: 0, stdout: 'quick\n' })
      expect(Date.now() - started).toBeLessThan(1500)
    })

    it('a failed task: exit 5 and one line "task ID failed: ERROR"; --json still prints the document', async () => {
      const failed = (doc: TaskDoc): void => {
        setImmediate(() => {
          control.set(doc.taskId, { state: 'failed', executor: PEER_B, attempt: 3, result: result(null, { exitCode: 1, error: 'agent exited with code 1' }) })
        })
      }
      control.onSubmit = failed
      const r = await run(['submit', 'echo', '--wait'])
      expect(r.code).toBe(5)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('paired: task t1 failed: agent exited with code 1')
      const json = await run(['submit', 'echo', '--wait', '--json'])
      expect(json.code).toBe(5)
      expect(JSON.parse(json.stdout)).toMatchObject({ taskId: 't2', state: 'failed', executor: PEER_B })
      control.onSubmit = doc => { setImmediate(() => { control.set(doc.taskId, { state: 'cancelled', cancelled: true }) }) }
      const cancelled = await run(['submit', 'echo', '--wait'])
      expect(cancelled.code).toBe(5)
      expect(cancelled.stderr.trimEnd().split('\n').at(-1)).toBe('paired: task t3 was cancelled')
    })

    it('on a TTY: one progress line rewritten in place, cleared at the end', async () => {
      const writes: string[] = []
      const before = control.listeners.size
      const waiting = runTask('submit', ['echo', '--wait'], { tty: { write: (chunk: string) => { writes.push(chunk) }, columns: 100 } })
      const id = await submittedAndSubscribed(before)
      control.set(id, { state: 'running', executor: PEER_B, attempt: 1, startedWall: Date.now() - 3_200, waiting: null })
      await expect.poll(() => writes.some(w => w.includes('running'))).toBe(true)
      control.set(id, { state: 'succeeded', result: result('done') })
      const r = await waiting
      expect(r).toEqual({ code: 0, stdout: 'done\n', stderr: '' })
      // every write starts by going back to the start of the line and clearing it
      const clear = '\r\x1b[K'
      expect(writes.every(w => w.startsWith(clear))).toBe(true)
      expect(writes[0].slice(clear.length)).toMatch(/^⠿ pending · no peer has agent echo · \d+\.\d s$/)
      expect(writes.find(w => w.includes('running'))?.slice(clear.length)).toMatch(/^⠿ running on bob · attempt 1 · 3\.\d s$/)
      expect(writes.at(-1)).toBe(clear)
    })

    it('Ctrl-C (the signal) stops waiting; the task goes on', async () => {
      const stop = new AbortController()
      const before = control.listeners.size
      const waiting = runTask('submit', ['echo', '--wait'], { signal: stop.signal })
      const id = await submittedAndSubscribed(before)
      stop.abort()
      const r = await waiting
      expect(r.code).toBe(130)
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`stopped waiting for task ${id}; it goes on (see: paired task show ${id})`)
      expect(control.tasks.get(id)?.state).toBe('pending')
    })
  })

  it('tasks: a table, or the JSON array', async () => {
    expect((await run(['tasks'])).stdout).toBe('no tasks\n')
    await run(['submit', 'echo'])
    await run(['submit', 'build', '--priority', 'low'])
    control.set('t2', { state: 'running', executor: PEER_B, attempt: 1 })
    const r = await run(['tasks'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID +STATE +AGENT +PRIORITY +EXECUTOR +AGE$/)
    expect(lines[1]).toMatch(/^t1 +pending +echo +normal +- +5s$/)
    expect(lines[2]).toMatch(new RegExp(`^t2 +running +build +low +bob …${PEER_B.slice(-8)} +5s$`))
    const json = JSON.parse((await run(['tasks', '--state', 'running', '--limit', '5', '--json'])).stdout) as TaskSummaryDoc[]
    expect(json.map(t => t.taskId)).toEqual(['t2'])
    expect(control.calls.at(-1)).toEqual({ method: 'taskList', args: [{ state: 'running', limit: 5 }] })
    expect((await run(['tasks', '--state', 'failed'])).stdout).toBe('no failed tasks\n')
  })

  it('task show: a readable view; --json the TaskDoc', async () => {
    await run(['submit', 'echo', '--input', '{"a":1}', '--label', 'os=linux', '--timeout', '30s', '--cpu', '2'])
    control.set('t1', { state: 'succeeded', executor: PEER_B, attempt: 1, result: result('out'), results: [result('out')] })
    const r = await run(['task', 'show', 't1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^task +t1$/m)
    expect(r.stdout).toMatch(/^state +succeeded \(attempt 1\)$/m)
    // member names beside the peer ids
    expect(r.stdout).toMatch(new RegExp(`^executor +bob \\(${PEER_B}\\)$`, 'm'))
    expect(r.stdout).toMatch(/^labels +os=linux$/m)
    expect(r.stdout).toMatch(/^needs +2 cores$/m)
    expect(r.stdout).toMatch(/^timeout +30s$/m)
    expect(r.stdout).toMatch(/^input +\{"a":1\}$/m)
    expect(r.stdout).toMatch(/^result +attempt 1 · bob …\w+ · exit 0 · output sha256 abababababab…$/m)
    expect(r.stdout).toMatch(/^output +out$/m)
    expect(JSON.parse((await run(['task', 'show', 't1', '--json'])).stdout)).toEqual(control.tasks.get('t1'))
  })

  it('task cancel, explain and verify', async () => {
    await run(['submit', 'echo'])
    expect(await run(['task', 'cancel', 't1'])).toEqual({ code: 0, stdout: 'cancelled task t1\n', stderr: '' })
    expect((await run(['task', 'cancel', 't1'])).stdout).toBe('cancelled task t1\n')
    await run(['submit', 'echo'])
    control.set('t2', { state: 'succeeded' })
    expect((await run(['task', 'cancel', 't2'])).stdout).toBe('task t2 already succeeded (nothing to cancel)\n')
    expect(JSON.parse((await run(['task', 'cancel', 't2', '--json'])).stdout)).toMatchObject({ taskId: 't2', state: 'succeeded' })

    expect((await run(['task', 'explain', 't1'])).stdout).toBe('PEER       SCORE\nbob        0.90\nalice      refused: no agent echo\n')
    expect(JSON.parse((await run(['task', 'explain', 't1', '--json'])).stdout)).toMatchObject({ taskId: 't1', lines: expect.any(Array) })

    const ok = await run(['task', 'verify', 't1'])
    expect(ok).toEqual({ code: 0, stdout: `receipt OK: task t1 attempt 1 executor ${PEER_B} output sha256 ${OUTPUT_HASH}\n`, stderr: '' })
    control.verify = { ok: false, reason: 'the signature does not verify', executor: PEER_B, receipt: {} }
    try {
      expect(await run(['task', 'verify', 't1'])).toEqual({ code: 5, stdout: 'receipt INVALID: the signature does not verify\n', stderr: '' })
      control.verify = { ok: false, reason: 'no committed result (task is failed)', executor: null, receipt: null }
      expect(await run(['task', 'verify', 't1'])).toEqual({ code: 5, stdout: 'no receipt to verify: no committed result (task is failed)\n', stderr: '' })
      control.verify = { ok: false, reason: 'the signature does not verify', executor: PEER_B, receipt: {} }
      const json = await run(['task', 'verify', 't1', '--json'])
      expect(json.code).toBe(5)
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: 'the signature does not verify' })
    } finally {
      control.verify = { ok: true, executor: PEER_B, receipt: { taskId: 't1', attempt: 1, executor: PEER_B, outputHash: OUTPUT_HASH } }
    }
  })

  it('task logs prints the lines; -f follows task:log events until the task ends', async () => {
    await run(['submit', 'echo'])
    expect(await run(['task', 'logs', 't1'])).toEqual({ code: 0, stdout: 'starting\n', stderr: '' })
    expect(JSON.parse((await run(['task', 'logs', 't1', '--json'])).stdout)).toEqual({ taskId: 't1', lines: ['starting'], truncated: false, source: PEER_B })

    const before = control.listeners.size
    const following = run(['task', 'logs', 't1', '-f'])
    await expect.poll(() => control.listeners.size).toBe(before + 1)
    await expect.poll(() => control.calls.filter(c => c.method === 'taskGet').length).toBe(1)
    const log = (taskId: string, line: string): void => { control.publish({ type: 'task:log', data: { taskId, line } } satisfies DaemonEvent) }
    log('t1', 'step 1')
    log('other', 'not mine')
    log('t1', 'step 2')
    control.set('t1', { state: 'succeeded' })
    const r = await following
    expect(r).toEqual({ code: 0, stdout: 'starting\nstep 1\nstep 2\n', stderr: '' })

    // a task already ended: -f prints the lines and returns
    const done = await run(['task', 'logs', 't1', '--follow', '--json'])
    expect(done.code).toBe(0)
    expect(done.stdout.trimEnd().split('\n').map(l => JSON.parse(l) as unknown)).toEqual([{ taskId: 't1', line: 'starting' }])
  })

  it('help: the overview lists the task commands; paired task lists its commands', async () => {
    const overview = await run(['help'])
    for (const command of ['submit [options]', 'tasks [--state S] [--limit N]', 'task show ID', 'task logs ID [-f|--follow]', 'task cancel ID', 'task explain ID', 'task verify ID']) {
      expect(overview.stdout).toContain(command)
    }
    const group = await run(['task'])
    expect(group.code).toBe(0)
    expect(group.stdout).toMatch(/^usage: paired task <command> ID/)
    expect(group.stdout).toMatch(/^ {2}task verify ID +check the executor's signed receipt/m)
    expect((await run(['submit', '--help'])).stdout).toMatch(/--input hello sends "hello"/)
    expect((await run(['help', 'task', 'logs'])).stdout).toMatch(/^usage: paired task logs ID \[-f\|--follow\]/)
  })
})
