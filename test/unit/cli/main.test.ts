import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer, ensureApiToken } from '../../../src/api/index.js'
import { main } from '../../../src/cli/main.js'
import { homePaths } from '../../../src/daemon/home.js'
import { InvalidArgumentError, NotFoundError } from '../../../src/errors.js'
import { PEER_A, PEER_B, StubControl, named } from '../api/helpers.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { out: s => { stdout += s }, err: s => { stderr += s }, env })
  return { code, stdout, stderr }
}

function oneLine (text: string): string {
  const lines = text.trimEnd().split('\n')
  expect(lines, text).toHaveLength(1)
  return lines[0]
}

describe('CLI without a daemon', () => {
  let home: string
  beforeAll(async () => { home = await mkdtemp(join(tmpdir(), 'paired-cli-none-')) })
  afterAll(async () => { await rm(home, { recursive: true, force: true }) })

  it('status with no daemon: exit 3 and one line', async () => {
    const r = await run(['status', '--home', home])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(oneLine(r.stderr)).toBe(`paired: no daemon is running for home ${home} (start one with: paired daemon --home ${home})`)
  })

  it('a token file but no socket: exit 3 too', async () => {
    await ensureApiToken(homePaths(home).apiToken)
    const r = await run(['peers', '--home', home, '--json'])
    expect(r.code).toBe(3)
    expect(oneLine(r.stderr)).toMatch(/^paired: no daemon is running/)
    expect(r.stdout).toBe('')
  })

  it('the home comes from $PAIRED_HOME without --home', async () => {
    const r = await run(['status'], { PAIRED_HOME: home })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(home)
  })

  it('an unknown flag: exit 2, one line pointing at help', async () => {
    const r = await run(['status', '--frobnicate', '--home', home])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toBe('paired: unknown option --frobnicate (run \'paired help status\')')
  })

  it('usage mistakes are exit 2 with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['ping'], /^paired: missing PEER: paired ping PEER/],
      [['status', 'extra'], /^paired: unexpected argument 'extra'/],
      [['frobnicate'], /^paired: unknown command 'frobnicate'/],
      [['team', 'frobnicate'], /^paired: unknown command 'team frobnicate'/],
      [['status', '--home'], /^paired: option --home needs a value/],
      [['status', '--home', '--json'], /^paired: option --home needs a value/],
      [['status', '--json=yes'], /^paired: option --json does not take a value/],
      [['team', 'invite', '--uses', 'many'], /^paired: --uses must be a whole number/],
      [['daemon', '--api-port', '70000'], /^paired: --api-port must be a whole number from 0 to 65535/],
      [['--bogus'], /^paired: unknown option --bogus/]
    ]
    for (const [argv, message] of cases) {
      const r = await run(['--home', home, ...argv])
      expect(r.code, argv.join(' ')).toBe(2)
      expect(oneLine(r.stderr), argv.join(' ')).toMatch(message)
      expect(r.stderr).toMatch(/run 'paired help/)
    }
  })

  it('no command prints the overview on stderr with exit 2; help and --help print it on stdout', async () => {
    const none = await run([])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/usage: paired <command>/)
    for (const argv of [['help'], ['--help'], ['-h']]) {
      const r = await run(argv)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/team invite/)
    }
    const one = await run(['help', 'team', 'invite'])
    expect(one.code).toBe(0)
    expect(one.stdout).toMatch(/^usage: paired team invite \[--role R\]/)
    const flag = await run(['ping', '--help'])
    expect(flag.stdout).toMatch(/^usage: paired ping PEER/)
  })

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
    for (const argv of [['--version'], ['version']]) {
      const r = await run(argv)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(pkg.version + '\n')
    }
    expect(JSON.parse((await run(['version', '--json'])).stdout)).toEqual({ version: pkg.version })
  })
})

describe('CLI against a real ApiServer', () => {
  let home: string
  let control: StubControl
  let server: ApiServer

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'paired-cli-'))
    const paths = homePaths(home)
    control = new StubControl()
    server = new ApiServer({ control, token: await ensureApiToken(paths.apiToken), socketPath: paths.apiSocket })
    await server.start()
  })

  afterAll(async () => {
    await server.stop()
    await rm(home, { recursive: true, force: true })
  })

  it('status --json prints the status document and the API\'s own addresses', async () => {
    const r = await run(['status', '--home', home, '--json'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ ...control.statusDoc, api: { url: server.url, socket: homePaths(home).apiSocket } })
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
  })

  it('global flags may come before the command', async () => {
    const r = await run(['--home', home, '--json', 'status'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject(control.statusDoc)
  })

  it('status prints aligned key/value lines', async () => {
    const r = await run(['status', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^peer id +${PEER_A}$`, 'm'))
    expect(r.stdout).toMatch(/^team +crew \(admin, t1\)$/m)
    expect(r.stdout).toMatch(/^uptime +1m 1s$/m)
    expect(r.stdout).toContain(`api        ${server.url}\n           ${homePaths(home).apiSocket}\n`)
    const starts = r.stdout.trimEnd().split('\n').map(l => /^\S+(?: \S+)? +/.exec(l)?.[0].length ?? l.search(/\S/))
    expect(new Set(starts).size).toBe(1)
  })

  it('peers: short ids in columns; full ids with --json', async () => {
    const human = await run(['peers', '--home', home])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^PEER +NAME +STATE +RTT +SLOTS +REPUTATION +ADDRESS$/m)
    expect(human.stdout).toContain(`…${PEER_B.slice(-8)}`)
    expect(human.stdout).not.toContain(PEER_B)
    expect(human.stdout).toMatch(/0\.42 ms/)
    const json = await run(['peers', '--home', home, '--json'])
    expect((JSON.parse(json.stdout) as Array<{ peerId: string }>)[0].peerId).toBe(PEER_B)
  })

  it('peer show: the peer and the history behind its reputation; an unknown peer exits 4', async () => {
    const r = await run(['peer', 'show', 'bob', '--home', home])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^peer +${PEER_B}$`, 'm'))
    expect(r.stdout).toMatch(/^role +member$/m)
    expect(r.stdout).toMatch(/^WHEN +EVENT +SCORE +STATUS$/m)
    expect(r.stdout).toMatch(/success +0\.60 +unproven/)
    const json = await run(['peer', 'show', 'bob', '--home', home, '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ peerId: PEER_B, reputationHistory: [{ event: 'success' }] })
    const missing = await run(['peer', 'show', 'nobody', '--home', home])
    expect(missing.code).toBe(4)
    expect(missing.stderr).toMatch(/no peer nobody/)
  })

  it('team members: columns, marks this daemon', async () => {
    const r = await run(['team', 'members', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^PEER +NAME +ROLE +STATE$/m)
    expect(r.stdout).toMatch(/alice +admin +this daemon/)
    expect(r.stdout).toMatch(/bob +member +disconnected/)
    const json = JSON.parse((await run(['team', 'members', '--json', '--home', home])).stdout) as Array<{ peerId: string }>
    expect(json.map(m => m.peerId)).toEqual([PEER_A, PEER_B])
  })

  it('ping prints "pong from <id> in 0.42 ms"', async () => {
    const r = await run(['ping', 'bob', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`pong from ${PEER_B} in 0.42 ms\n`)
    expect(JSON.parse((await run(['ping', 'bob', '--home', home, '--json'])).stdout)).toEqual({ peerId: PEER_B, rttMs: 0.42 })
  })

  it('query, connect, team, team create, join and leave reach the daemon', async () => {
    expect(JSON.parse((await run(['query', 'bob', '--json', '--home', home])).stdout)).toMatchObject({ peerId: PEER_B, name: 'bob' })
    expect((await run(['connect', '/ip4/127.0.0.1/tcp/9', '--home', home])).stdout).toBe(`connected to ${PEER_B}\n`)
    expect(control.calls.at(-1)).toEqual({ method: 'connect', args: ['/ip4/127.0.0.1/tcp/9'] })
    expect((await run(['team', '--home', home])).stdout).toMatch(/^team +crew$/m)
    expect((await run(['team', 'create', 'blue team', '--home', home])).stdout).toMatch(/^created team blue team/)
    expect(control.calls.at(-1)).toEqual({ method: 'teamCreate', args: ['blue team'] })
    expect((await run(['team', 'join', 'paired1.tok', '--home', home])).stdout).toMatch(/^joined team crew as a member/)
    expect((await run(['team', 'leave', '--home', home])).stdout).toMatch(/now in team alice \(personal\)/)
  })

  it('team invite prints the bare token on stdout and a hint on stderr', async () => {
    const r = await run(['team', 'invite', '--role', 'guest', '--ttl', '30m', '--uses', '3', '--no-addresses', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('paired1.abc\n')
    expect(oneLine(r.stderr)).toMatch(/guest.*3 uses.*paired team join/)
    expect(control.calls.at(-1)).toEqual({ method: 'teamInvite', args: [{ role: 'guest', ttlMs: 1_800_000, uses: 3, addresses: false }] })
    const json = await run(['team', 'invite', '--json', '--home', home])
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout)).toMatchObject({ token: 'paired1.abc', role: 'member', maxUses: 1 })
  })

  it('errors from the daemon: one line, exit code by name', async () => {
    const cases: Array<[Error, number]> = [
      [new NotFoundError('no peer carol'), 4],
      [new InvalidArgumentError('bad thing'), 2],
      [named('MalformedInviteError', 'invite token is malformed: not base64url'), 2],
      [named('InviteExpiredError', 'invite expired at 2020-01-01T00:00:00.000Z'), 2],
      [named('InviteUsedError', 'invite x was already used'), 2],
      [named('PermissionDeniedError', 'only admins can invite'), 1],
      [named('PeerUnreachableError', 'could not connect\nto it'), 1],
      [named('TaskFailedError', 'task failed'), 5]
    ]
    for (const [error, code] of cases) {
      control.fail = error
      const r = await run(['ping', 'carol', '--home', home, '--json'])
      expect(r.code, error.name).toBe(code)
      expect(r.stdout).toBe('')
      expect(oneLine(r.stderr)).toBe(`paired: ${error.message.replace('\n', ' ')}`)
    }
  })

  it('a bad --ttl is the API\'s InvalidArgumentError: exit 2', async () => {
    const r = await run(['team', 'invite', '--ttl', 'forever', '--home', home])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toMatch(/^paired: ttl: invalid duration "forever"/)
  })

  it('a --ttl without a unit is refused before anything is sent: it would mean milliseconds', async () => {
    const before = control.calls.length
    const r = await run(['team', 'invite', '--ttl', '24', '--home', home])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toBe('paired: --ttl 24 has no unit: write 24s, 24m or 24ms (units: ms, s, m, h, d) (run \'paired help team invite\')')
    expect(control.calls.length).toBe(before)
  })

  it('PAIRED_DEBUG=1 adds the stack', async () => {
    control.fail = new NotFoundError('no peer carol')
    const r = await run(['ping', 'carol', '--home', home], { PAIRED_DEBUG: '1' })
    expect(r.code).toBe(4)
    expect(r.stderr.split('\n').length).toBeGreaterThan(2)
  })
})
