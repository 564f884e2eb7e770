/**
 * Real daemon processes for end-to-end tests: each has its own home under the OS temp
 * folder, listens on 127.0.0.1 with mDNS off, and is driven through the real CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const BIN = join(ROOT, 'bin', 'paired.js')
/** the node flags of bin/paired.js's shebang and `npm start`: a small young generation, and no idle-time
 * collections of it (V8's memory reducer costs ~1 % of a core on an idle daemon) */
export const NODE_FLAGS = ['--max-semi-space-size=1', '--no-memory-reducer', '--v8-pool-size=1']

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** run the real CLI (`node bin/paired.js ...`) to completion */
export async function cli (args: string[], options: { env?: NodeJS.ProcessEnv, prefix?: string[], timeoutMs?: number } = {}): Promise<CliResult> {
  const argv = [...(options.prefix ?? []), process.execPath, ...NODE_FLAGS, BIN, ...args]
  return await new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** poll `check` until it returns a value that is not undefined, or fail after `timeoutMs` */
export async function eventually<T> (what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last != null ? ` (last error: ${(last as Error).message})` : ''}`)
}

export async function tempHome (label: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `paired-${label}-`))
}

export interface DaemonOptions {
  name: string
  home?: string
  /** extra daemon flags; default listens on 127.0.0.1 only with mDNS off */
  args?: string[]
  /** run inside `ip netns exec NS` */
  netns?: string
}

/** one real `paired daemon` process */
export class DaemonProcess {
  proc?: ChildProcess
  log = ''
  home = ''
  private exited?: Promise<number | null>

  constructor (readonly options: DaemonOptions) {}

  get name (): string { return this.options.name }

  private prefix (): string[] {
    return this.options.netns != null ? ['ip', 'netns', 'exec', this.options.netns] : []
  }

  defaultArgs (): string[] {
    return this.options.args ?? ['--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns']
  }

  /** start the daemon and wait for its `ready` line (or another line of its log) */
  async start (extra: string[] = [], until: RegExp = /\bready\b/): Promise<void> {
    if (this.home === '') this.home = this.options.home ?? await tempHome(this.name)
    const argv = [...this.prefix(), process.execPath, ...NODE_FLAGS, BIN, 'daemon', '--home', this.home, '--name', this.name, ...this.defaultArgs(), ...extra]
    const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } })
    this.proc = proc
    this.exited = new Promise(resolve => { proc.on('exit', code => { resolve(code) }) })
    const onData = (d: Buffer): void => { this.log += d.toString() }
    proc.stdout?.on('data', onData)
    proc.stderr?.on('data', onData)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name} did not get ready in 20 s:\n${this.log}`)) }, 20_000)
      const check = (): void => {
        if (until.test(this.log)) { clearTimeout(timer); resolve() }
      }
      proc.stderr?.on('data', check)
      proc.stdout?.on('data', check)
      proc.on('exit', code => { clearTimeout(timer); reject(new Error(`${this.name} exited with ${String(code)} before ready:\n${this.log}`)) })
    })
  }

  async cli (args: string[]): Promise<CliResult> {
    return await cli([...args, '--home', this.home], { prefix: this.prefix() })
  }

  /** run a command with --json and parse its one JSON document; throws on a non-zero exit */
  async json<T = any> (args: string[]): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.cli([...args, '--json'])
    if (r.code !== 0) throw new Error(`paired ${args.join(' ')} (${this.name}) exited ${r.code}: ${r.stderr.trim()}`)
    return JSON.parse(r.stdout) as T
  }

  /** SIGTERM (or another signal) and wait for the exit code */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc == null || this.proc.exitCode != null || this.proc.signalCode != null) return this.proc?.exitCode ?? null
    this.proc.kill(signal)
    const code = await this.exited
    this.proc = undefined
    return code ?? null
  }

  async kill9 (): Promise<void> {
    await this.stop('SIGKILL')
  }

  get pid (): number | undefined { return this.proc?.pid }

  async cleanup (): Promise<void> {
    await this.stop('SIGKILL').catch(() => {})
    if (this.home !== '' && this.options.home == null) await rm(this.home, { recursive: true, force: true })
  }
}

/** form a team: `a` invites, every other daemon joins; returns when all see each other */
export async function formTeam (admin: DaemonProcess, others: DaemonProcess[], teamName = 'crew'): Promise<void> {
  await admin.json(['team', 'create', teamName])
  for (const d of others) {
    const { token } = await admin.json<{ token: string }>(['team', 'invite'])
    await d.json(['team', 'join', token])
  }
  await allConnected([admin, ...others])
}

/** every daemon lists all the others as connected members */
export async function allConnected (daemons: DaemonProcess[], timeoutMs = 30_000): Promise<void> {
  const ids = await Promise.all(daemons.map(async d => (await d.json<{ peerId: string }>(['status'])).peerId))
  await eventually('every member connected to every other', async () => {
    for (const d of daemons) {
      const members = await d.json<Array<{ peerId: string, connected: boolean }>>(['team', 'members'])
      for (const id of ids) {
        const m = members.find(x => x.peerId === id)
        if (m == null || !m.connected) return undefined
      }
    }
    return true
  }, timeoutMs, 300)
}

/** a call on a daemon's local API over its unix socket (for tight polling loops) */
export async function apiCall<T = any> (d: DaemonProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const { readFile } = await import('node:fs/promises')
  const { request } = await import('node:http')
  const token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  return await new Promise((resolve, reject) => {
    const req = request({
      socketPath: join(d.home, 'api.sock'),
      method,
      path: `/api/v1/${path}`,
      headers: { host: 'localhost', authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    }, res => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
        else resolve(JSON.parse(text) as T)
      })
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

export async function apiGet<T = any> (d: DaemonProcess, path: string): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return await apiCall<T>(d, 'GET', path)
}

export async function apiPost<T = any> (d: DaemonProcess, path: string, body: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return await apiCall<T>(d, 'POST', path, body)
}
