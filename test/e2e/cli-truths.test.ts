/**
 * What the CLI says is true (issue 12, items 9c and 10), on real daemon processes:
 * `--name` survives a restart, a taken `--listen` port is one clear line with exit 2,
 * `daemon --json` logs JSON lines, `status` shows the API, the home is made private,
 * a revoked invite and an unknown agent exit 2, and `task explain` says where a task ran.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, DaemonProcess, NODE_FLAGS, apiGet, cli, eventually, formTeam, tempHome } from './harness.js'

/** a `paired daemon` started with exactly `args` (the harness always adds --name) */
class RawDaemon {
  proc?: ChildProcess
  log = ''
  private exited?: Promise<number | null>

  constructor (readonly home: string) {}

  async start (args: string[]): Promise<void> {
    this.log = ''
    const proc = spawn(process.execPath, [...NODE_FLAGS, BIN, 'daemon', '--home', this.home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    this.exited = new Promise(resolve => { proc.on('exit', code => { resolve(code) }) })
    proc.stdout.on('data', (d: Buffer) => { this.log += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { this.log += d.toString() })
    await eventually(`the daemon of ${this.home} ready`, async () => {
      if (proc.exitCode != null) throw new Error(`exited ${proc.exitCode}: ${this.log}`)
      return /\bready\b/.test(this.log) ? true : undefined
    }, 30_000)
  }

  async stop (): Promise<number | null> {
    if (this.proc == null || this.proc.exitCode != null) return this.proc?.exitCode ?? null
    this.proc.kill('SIGTERM')
    const code = await this.exited
    this.proc = undefined
    return code ?? null
  }

  async json<T = any> (args: string[]): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await cli([...args, '--home', this.home, '--json'])
    if (r.code !== 0) throw new Error(`paired ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as T
  }
}

/** every path under `dir` (itself included) with its permission bits */
async function modes (dir: string): Promise<Array<[string, number, boolean]>> {
  const info = await stat(dir)
  const out: Array<[string, number, boolean]> = [[dir, info.mode & 0o777, info.isDirectory()]]
  if (info.isDirectory()) for (const entry of await readdir(dir)) out.push(...await modes(join(dir, entry)))
  return out
}

const QUIET = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns']

describe('one daemon: name, listen, --json, status, home permissions', () => {
  let home: string
  let other: string
  let solo: RawDaemon

  beforeAll(async () => {
    home = await tempHome('truths')
    other = await tempHome('truths-other')
    solo = new RawDaemon(home)
  })

  afterAll(async () => {
    await solo.stop().catch(() => {})
    await rm(home, { recursive: true, force: true })
    await rm(other, { recursive: true, force: true })
  })

  it('daemon --json logs one JSON object per line; status shows the API address (and --json has it)', async () => {
    await solo.start(['--name', 'truth-teller', '--json', ...QUIET])
    const lines = solo.log.trim().split('\n')
    expect(lines.length).toBeGreaterThan(3)
    const docs = lines.map(l => JSON.parse(l) as { time: string, msg: string })
    for (const d of docs) expect(d.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(docs.map(d => d.msg)).toContain('ready')
    expect(docs.some(d => /^api on http:\/\/127\.0\.0\.1:\d+ and /.test(d.msg))).toBe(true)

    const status = await solo.json<{ name: string, api: { url: string, socket: string } }>(['status'])
    expect(status.name).toBe('truth-teller')
    expect(status.api.socket).toBe(join(home, 'api.sock'))
    expect(status.api.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
    const human = await cli(['status', '--home', home])
    expect(human.stdout).toMatch(new RegExp(`^api +${status.api.url.replace(/\./g, '\\.')}$`, 'm'))
    expect(human.stdout).toContain(join(home, 'api.sock'))
    // the URL shown is the API's: it answers with the token
    const token = (await readFile(join(home, 'api.token'), 'utf8')).trim()
    const res = await fetch(`${status.api.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { name: string }).name).toBe('truth-teller')
  }, 90_000)

  it('an explicit --listen on a taken port: one clear line, exit 2 (and one JSON line with --json)', async () => {
    const status = await solo.json<{ addresses: string[] }>(['status'])
    const taken = status.addresses[0].replace(/\/p2p\/.*$/, '')
    expect(taken).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const r = await cli(['daemon', '--home', other, '--listen', taken, '--api-port', '0', '--no-mdns'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([`paired: cannot listen on ${taken}: the port is taken (by another paired daemon?): choose another port, or /tcp/0 for any free one`])
    const j = await cli(['daemon', '--home', other, '--json', '--listen', taken, '--api-port', '0', '--no-mdns'])
    expect(j.code).toBe(2)
    const last = JSON.parse(j.stderr.trim().split('\n').at(-1) ?? '') as { level: string, error: { name: string, message: string } }
    expect(last.level).toBe('error')
    expect(last.error).toEqual({ name: 'ListenAddressError', message: `cannot listen on ${taken}: the port is taken (by another paired daemon?): choose another port, or /tcp/0 for any free one` })
    for (const line of j.stderr.trim().split('\n')) expect(() => JSON.parse(line) as unknown, line).not.toThrow()
  }, 90_000)

  it('--name is kept across a restart without the flag', async () => {
    expect(await solo.stop()).toBe(0)
    await solo.start(QUIET)
    expect((await solo.json<{ name: string }>(['status'])).name).toBe('truth-teller')
  }, 90_000)

  it('a home left open to other users (0755, db files 0644) is made private at start; new files are 0600', async () => {
    await solo.json(['kv', 'set', 'before', 'x'])
    expect(await solo.stop()).toBe(0)
    // as an older version (or a hand-made home) left it
    for (const [path, , dir] of await modes(home)) {
      if (path.endsWith('api.sock')) continue
      await chmod(path, dir ? 0o755 : 0o644)
    }
    expect((await stat(join(home, 'db'))).mode & 0o777).toBe(0o755)
    await solo.start(QUIET)
    for (let i = 0; i < 3; i++) await solo.json(['kv', 'set', `after/${i}`, 'y'.repeat(1000)])
    const open = (await modes(home)).filter(([path, mode, dir]) => !path.endsWith('api.sock') && mode !== (dir ? 0o700 : 0o600))
    expect(open).toEqual([])
    expect((await modes(join(home, 'db'))).length).toBeGreaterThan(3)
    expect(solo.log).toMatch(/made .* private: \d+ paths were open to other users/)
  }, 90_000)
})

describe('a team of three: exit codes and task explain', () => {
  const alice = new DaemonProcess({ name: 'alice' })
  const bob = new DaemonProcess({ name: 'bob' })
  let carolHome: string
  let carol: DaemonProcess
  const dave = new DaemonProcess({ name: 'dave' })

  beforeAll(async () => {
    carolHome = await tempHome('carol')
    await mkdir(carolHome, { recursive: true })
    // only carol carries the label host=carol: a task that asks for it runs there
    await writeFile(join(carolHome, 'config.json'), JSON.stringify({ labels: { host: 'carol' } }))
    carol = new DaemonProcess({ name: 'carol', home: carolHome })
    await Promise.all([alice.start(), bob.start(), carol.start(), dave.start()])
    await formTeam(alice, [bob, carol])
  }, 90_000)

  afterAll(async () => {
    await Promise.all([alice, bob, carol, dave].map(async d => { await d.cleanup() }))
    await rm(carolHome, { recursive: true, force: true })
  }, 90_000)

  it('joining with a revoked invite exits 2 with one line, as every invite error does', async () => {
    const { token, inviteId } = await alice.json<{ token: string, inviteId: string }>(['team', 'invite'])
    await alice.json(['team', 'invite', 'revoke', inviteId])
    const r = await dave.cli(['team', 'join', token])
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: .*revoked/)
    expect(r.code).toBe(2)
    expect((await dave.json<{ team: { name: string } }>(['status'])).team.name).toBe('dave (personal)')
  }, 90_000)

  it('submitting to an agent no member serves exits 2', async () => {
    const r = await dave.cli(['submit', 'no-such-agent', '--input', '{"a":1}'])
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: no agent "no-such-agent" here/)
    expect(r.code).toBe(2)
  }, 90_000)

  it('task explain says where a task ran, by name, after that machine is gone; it does not name another as chosen', async () => {
    const carolId = (await carol.json<{ peerId: string }>(['status'])).peerId
    const done = await alice.json<{ taskId: string, state: string, executor: string }>(['submit', 'echo', '--input', '{"n":1}', '--label', 'host=carol', '--wait'])
    expect(done.state).toBe('succeeded')
    expect(done.executor).toBe(carolId)
    await carol.stop()
    for (const d of [alice, bob]) {
      const r = await d.cli(['task', 'explain', done.taskId])
      expect(r.code).toBe(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines).toContain(`ran on carol (${carolId}): attempt 1, committed, output sha256 ${lines.find(l => l.startsWith('ran on'))?.split('sha256 ')[1] ?? '?'}`)
      expect(lines.filter(l => /^\s*(chosen|waiting):/.test(l)), r.stdout).toEqual([])
      expect(lines.some(l => l.startsWith('submitted by alice (12D3'))).toBe(true)
      const doc = await d.json<{ ranOn: Array<{ peerId: string, name: string, outcome: string }> }>(['task', 'explain', done.taskId])
      expect(doc.ranOn).toEqual([{ peerId: carolId, name: 'carol', attempt: 1, outcome: 'committed' }])
    }
    // every peer id in the ranking table has its member name beside it
    const other = await alice.json<{ taskId: string }>(['submit', 'echo', '--input', '2', '--wait'])
    const table = (await alice.cli(['task', 'explain', other.taskId])).stdout
    expect(table).toMatch(/^ {2}#\s+name\s+peer\s+score/m)
    expect(table).toMatch(/^ {2}\d\s+(alice|bob)\s+12D3\w+\s+\d\.\d\d/m)
  }, 90_000)

  it('the status a member fetches from another over libp2p carries no local API address', async () => {
    const remote = await bob.json<Record<string, unknown>>(['query', 'alice'])
    expect(remote.name).toBe('alice')
    expect(remote.api).toBeUndefined()
    expect((await apiGet<{ api?: unknown }>(alice, 'status')).api).toBeDefined()
  }, 90_000)
})
