import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  CommandAgent, DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_MAX_OUTPUT_BYTES, KILL_GRACE_MS, LOG_TRUNCATED_LINE, MAX_LOG_LINES,
  type CommandAgentConfig
} from '../../../../src/tasks/agents/index.js'
import { canonicalJson } from '../../../../src/team/canonical.js'
import { isRunning, killQuietly, tempDir, waitFor, waitGone } from './helpers.js'

const NODE = process.execPath

/** a command agent running `node -e <script>` */
function nodeAgent (script: string, config: Partial<CommandAgentConfig> = {}, name = 'test'): CommandAgent {
  return new CommandAgent(name, {
    command: [NODE, '-e', script],
    timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
    maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES,
    ...config
  })
}

/** reads all of stdin as JSON into `input`, then runs `body` */
const withStdin = (body: string): string =>
  `let t = ''; process.stdin.setEncoding('utf8'); process.stdin.on('data', d => { t += d }); process.stdin.on('end', () => { const input = JSON.parse(t); ${body} })`

const ECHO_STDIN = 'process.stdin.pipe(process.stdout)'

let dir: string
let cleanup: () => Promise<void>
const leftovers: number[] = []

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir())
})

afterEach(async () => {
  for (const pid of leftovers.splice(0)) killQuietly(pid)
  await cleanup()
})

describe('command agent', () => {
  it('gets the input as JSON on stdin; its stdout JSON is the output', async () => {
    const agent = nodeAgent(withStdin('process.stdout.write(JSON.stringify({ got: input, line: t }) + "\\n\\n")'))
    const input = { b: [1, 2, { c: 'ü' }], a: 'x' }
    const onStart = vi.fn()
    const outcome = await agent.run({ input, onStart })
    expect(outcome.exitCode).toBe(0)
    expect(outcome.output).toEqual({ got: input, line: JSON.stringify(input) + '\n' })
    expect(outcome.outputHash).toBe(createHash('sha256').update(canonicalJson(outcome.output)).digest('hex'))
    expect(outcome.reason).toBeUndefined()
    expect(outcome.error).toBeUndefined()
    expect(outcome.pid).toBeGreaterThan(0)
    expect(onStart).toHaveBeenCalledOnce()
    expect(onStart).toHaveBeenCalledWith({ pid: outcome.pid })
  })

  it('keeps stdout that is not JSON as text', async () => {
    const outcome = await nodeAgent('process.stdout.write("hello\\nworld\\n")').run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 0, output: 'hello\nworld\n' })
    expect((await nodeAgent('').run({ input: null })).output).toBe('')
    expect((await nodeAgent('console.log(" 42 ")').run({ input: null })).output).toBe(42)
  })

  it('sends stderr to onLog one line at a time, the partial last line at exit', async () => {
    const lines: string[] = []
    const script = 'process.stderr.write("first\\nsecond\\r\\n"); setTimeout(() => process.stderr.write("thi"), 20); setTimeout(() => process.stderr.write("rd\\nlast"), 40)'
    const outcome = await nodeAgent(script).run({ input: null, onLog: line => lines.push(line) })
    expect(outcome.exitCode).toBe(0)
    expect(lines).toEqual(['first', 'second', 'third', 'last'])
  })

  it('caps the log, then says it was truncated', async () => {
    const lines: string[] = []
    const script = 'for (let i = 0; i < 1500; i++) process.stderr.write("line " + i + "\\n")'
    await nodeAgent(script).run({ input: null, onLog: line => lines.push(line) })
    expect(lines).toHaveLength(MAX_LOG_LINES + 1)
    expect(lines[MAX_LOG_LINES - 1]).toBe(`line ${MAX_LOG_LINES - 1}`)
    expect(lines.at(-1)).toBe(LOG_TRUNCATED_LINE)
  })

  it('records a non-zero exit code and keeps what stdout had', async () => {
    const outcome = await nodeAgent('process.stdout.write("partial"); process.exitCode = 3').run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 3, reason: 'exit', error: 'exited with code 3', output: 'partial' })
  })

  it('reports a signal death as 128 + the signal number', async () => {
    const outcome = await nodeAgent('process.kill(process.pid, "SIGKILL")').run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 137, reason: 'exit', error: 'killed by SIGKILL', output: '' })
  })

  it('kills the command at its timeout with 124', async () => {
    const agent = nodeAgent('process.stdout.write("[1,"); setInterval(() => {}, 1000)', { timeoutMs: 60_000 })
    const outcome = await agent.run({ input: null, timeoutMs: 300 })
    expect(outcome).toMatchObject({ exitCode: 124, reason: 'timeout', error: 'timed out after 300ms' })
    expect(await waitGone(outcome.pid!)).toBe(true)
  })

  it('sends SIGKILL after the grace when SIGTERM is ignored', async () => {
    const controller = new AbortController()
    const script = 'process.on("SIGTERM", () => process.stderr.write("ignoring SIGTERM\\n")); process.stderr.write("ready\\n"); setInterval(() => {}, 1000)'
    const lines: string[] = []
    const outcome = await nodeAgent(script).run({
      input: null,
      signal: controller.signal,
      onLog: line => {
        lines.push(line)
        if (line === 'ready') controller.abort()
      }
    })
    expect(outcome).toMatchObject({ exitCode: 130, reason: 'cancelled', error: 'cancelled' })
    expect(lines).toEqual(['ready', 'ignoring SIGTERM'])
    expect(outcome.durationMs).toBeGreaterThanOrEqual(KILL_GRACE_MS - 100)
    expect(isRunning(outcome.pid!)).toBe(false)
  })

  it('cancel kills the whole process group, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild.pid')
    const agent = new CommandAgent('group', {
      command: ['/bin/sh', '-c', 'sleep 300 & echo $! > "$1"; wait', 'sh', pidFile],
      timeoutMs: 60_000,
      maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES
    })
    const controller = new AbortController()
    let childPid: number | undefined
    const running = agent.run({ input: null, signal: controller.signal, onStart: ({ pid }) => { childPid = pid } })
    // onStart comes on the 'spawn' event, which may follow the pid file on a fast machine
    await waitFor(() => childPid)
    const grandchild = await waitFor(() => {
      const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : ''
      return /^\d+$/.test(text) ? Number(text) : undefined
    })
    leftovers.push(grandchild)
    expect(childPid).toBeGreaterThan(0)
    expect(isRunning(childPid!)).toBe(true)
    expect(isRunning(grandchild)).toBe(true)
    controller.abort()
    const outcome = await running
    expect(outcome).toMatchObject({ exitCode: 130, reason: 'cancelled', pid: childPid })
    expect(await waitGone(childPid!)).toBe(true)
    expect(await waitGone(grandchild)).toBe(true)
  })

  it('stops what the command left running in its group when it exits', async () => {
    const pidFile = join(dir, 'leftover.pid')
    const agent = new CommandAgent('leftover', {
      command: ['/bin/sh', '-c', 'sleep 300 & echo $! > "$1"; echo done', 'sh', pidFile],
      timeoutMs: 60_000,
      maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES
    })
    const outcome = await agent.run({ input: null })
    const leftover = Number(readFileSync(pidFile, 'utf8').trim())
    leftovers.push(leftover)
    expect(outcome).toMatchObject({ exitCode: 0, output: 'done\n' })
    // without the group kill at exit, the run would wait for `sleep 300`, which holds stdout
    expect(await waitGone(leftover)).toBe(true)
  })

  it('passes hostile strings as data, never through a shell', async () => {
    const marker = (n: number): string => join(dir, `marker-${n}`)
    const input = {
      semicolon: '"; rm -rf ~',
      substitution: `$(touch ${marker(1)})`,
      backticks: `\`touch ${marker(2)}\``,
      quotes: `'; touch ${marker(3)}; echo '`,
      pipe: `| touch ${marker(4)}`,
      newline: `\ntouch ${marker(5)}\n`,
      glob: '*'
    }
    const outcome = await nodeAgent(ECHO_STDIN).run({ input })
    expect(outcome.exitCode).toBe(0)
    expect(outcome.output).toEqual(input)
    const asString = await nodeAgent(ECHO_STDIN).run({ input: input.substitution })
    expect(asString.output).toBe(input.substitution)
    // arguments from the config are argv entries too
    const args = ['$(touch ' + marker(6) + ')', '; rm -rf ~', '*']
    const argv = await new CommandAgent('argv', {
      command: [NODE, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...args],
      timeoutMs: 60_000,
      maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES
    }).run({ input: null })
    expect(argv.output).toEqual(args)
    for (let n = 1; n <= 6; n++) expect(existsSync(marker(n)), marker(n)).toBe(false)
  })

  it('kills a command whose stdout passes the cap: 125', async () => {
    const script = 'const chunk = "x".repeat(4096); const write = () => { while (process.stdout.write(chunk)); process.stdout.once("drain", write) }; write()'
    const outcome = await nodeAgent(script, { maxOutputBytes: 10_000 }).run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 125, reason: 'output-too-large', error: 'stdout exceeds 10000 bytes' })
    expect(outcome.output).toBe('x'.repeat(10_000))
    expect(await waitGone(outcome.pid!)).toBe(true)
  })

  it('allows stdout of exactly the cap', async () => {
    const outcome = await nodeAgent('process.stdout.write("y".repeat(1000))', { maxOutputBytes: 1000 }).run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 0, output: 'y'.repeat(1000) })
  })

  it('reports a program that cannot start: 127', async () => {
    const onStart = vi.fn()
    const agent = new CommandAgent('missing', { command: ['paired-no-such-program', '--flag'], timeoutMs: 60_000, maxOutputBytes: 1000 })
    const outcome = await agent.run({ input: { a: 1 }, onStart })
    expect(outcome).toMatchObject({ exitCode: 127, reason: 'spawn', output: '' })
    expect(outcome.error).toBe('cannot start "paired-no-such-program": spawn paired-no-such-program ENOENT')
    expect(outcome.pid).toBeUndefined()
    expect(onStart).not.toHaveBeenCalled()
  })

  it('says so when the working directory is missing', async () => {
    const outcome = await nodeAgent('', { cwd: join(dir, 'nope') }).run({ input: null })
    expect(outcome).toMatchObject({ exitCode: 127, reason: 'spawn' })
    expect(outcome.error).toBe(`cannot start ${JSON.stringify(NODE)}: working directory ${JSON.stringify(join(dir, 'nope'))} does not exist`)
  })

  it('runs in its cwd with its env added to the daemon\'s', async () => {
    const script = 'console.log(JSON.stringify({ cwd: process.cwd(), v: process.env.PAIRED_AGENT_TEST, path: process.env.PATH != null }))'
    const outcome = await nodeAgent(script, { cwd: dir, env: { PAIRED_AGENT_TEST: 'yes' } }).run({ input: null })
    expect(outcome.output).toEqual({ cwd: dir, v: 'yes', path: true })
  })

  it('copes with a command that never reads its stdin', async () => {
    const outcome = await nodeAgent('process.exit(0)').run({ input: 'z'.repeat(1_000_000) })
    expect(outcome).toMatchObject({ exitCode: 0, output: '' })
  })

  it('refuses input that is not JSON, and does not start when already cancelled', async () => {
    const onStart = vi.fn()
    const agent = nodeAgent(ECHO_STDIN)
    expect(await agent.run({ input: { n: 1n }, onStart })).toMatchObject({ exitCode: 2, reason: 'invalid-input', error: 'test input must be a JSON value' })
    expect(await agent.run({ input: 1, onStart, signal: AbortSignal.abort() })).toMatchObject({ exitCode: 130, reason: 'cancelled' })
    expect(onStart).not.toHaveBeenCalled()
  })

  it('exposes its name, kind, slots and timeout', () => {
    const agent = nodeAgent('', { slots: 2, timeoutMs: 5000 }, 'lint')
    expect(agent).toMatchObject({ name: 'lint', kind: 'command', slots: 2, timeoutMs: 5000 })
    expect(nodeAgent('').slots).toBeUndefined()
  })
})
