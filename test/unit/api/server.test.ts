import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ApiClient, ApiServer } from '../../../src/api/index.js'
import type { DaemonEvent, StatusDoc } from '../../../src/model/docs.js'
import { metricsText } from '../../../src/api/routes.js'
import { NotFoundError } from '../../../src/errors.js'
import { PEER_A, StubControl, call, named, startFixture, type Fixture } from './helpers.js'

describe('ApiServer', () => {
  let f: Fixture
  let tcp: { port: number }
  let unix: { socketPath: string }

  beforeAll(async () => {
    f = await startFixture()
    tcp = { port: f.server.port }
    unix = { socketPath: f.socketPath }
  })

  afterAll(async () => { await f.cleanup() })

  describe('bearer token', () => {
    it('no token → 401 with WWW-Authenticate', async () => {
      const r = await call(tcp, 'GET', '/api/v1/status')
      expect(r.status).toBe(401)
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/)
      expect(r.body.error.name).toBe('UnauthorizedError')
    })

    it('wrong token, of the same or another length → 401', async () => {
      for (const token of ['0'.repeat(f.token.length), 'short', f.token + '0']) {
        const r = await call(tcp, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${token}` } })
        expect(r.status).toBe(401)
      }
    })

    it('another scheme → 401', async () => {
      const r = await call(tcp, 'GET', '/api/v1/status', { headers: { authorization: `Basic ${f.token}` } })
      expect(r.status).toBe(401)
    })

    it('the right token → 200 with the status document', async () => {
      const r = await call(tcp, 'GET', '/api/v1/status', { headers: f.auth })
      expect(r.status).toBe(200)
      expect(r.headers['content-type']).toMatch(/^application\/json/)
      expect(r.body).toMatchObject(f.control.statusDoc)
    })

    it('the unknown-route answer needs the token too', async () => {
      expect((await call(tcp, 'GET', '/nope')).status).toBe(401)
    })
  })

  describe('Host and Origin', () => {
    it('Host: evil.example → 403, even with the token', async () => {
      const r = await call(tcp, 'GET', '/api/v1/status', { headers: { ...f.auth, host: 'evil.example' } })
      expect(r.status).toBe(403)
      expect(r.body.error.name).toBe('ForbiddenHostError')
    })

    it('a loopback name with a port that is not loopback → 403', async () => {
      for (const host of ['127.0.0.1.evil.example', 'localhost.evil.example:80', '[::2]:1', '127.0.0.300', 'evil.example:127']) {
        const r = await call(tcp, 'GET', '/api/v1/status', { headers: { ...f.auth, host } })
        expect(r.status, host).toBe(403)
      }
    })

    it('loopback Host names, with or without port, are accepted', async () => {
      for (const host of ['localhost', `localhost:${tcp.port}`, '127.0.0.1', `127.1.2.3:${tcp.port}`, '[::1]', `[::1]:${tcp.port}`, 'LOCALHOST']) {
        const r = await call(tcp, 'GET', '/api/v1/status', { headers: { ...f.auth, host } })
        expect(r.status, host).toBe(200)
      }
    })

    it('on the unix socket a missing Host is fine; on TCP it is not', async () => {
      expect((await call(unix, 'GET', '/api/v1/status', { headers: f.auth, noHost: true })).status).toBe(200)
      expect((await call(tcp, 'GET', '/api/v1/status', { headers: f.auth, noHost: true })).status).toBe(403)
      expect((await call(unix, 'GET', '/api/v1/status', { headers: { ...f.auth, host: 'evil.example' } })).status).toBe(403)
    })

    it('a foreign Origin → 403 and no CORS headers', async () => {
      for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${tcp.port + 1}`, `https://127.0.0.1:${tcp.port}`]) {
        const r = await call(tcp, 'GET', '/api/v1/status', { headers: { ...f.auth, origin } })
        expect(r.status, origin).toBe(403)
        expect(r.body.error.name).toBe('ForbiddenOriginError')
        expect(r.headers['access-control-allow-origin']).toBeUndefined()
      }
    })

    it('the API\'s own origin is accepted', async () => {
      for (const origin of [`http://127.0.0.1:${tcp.port}`, `http://localhost:${tcp.port}`]) {
        const r = await call(tcp, 'GET', '/api/v1/status', { headers: { ...f.auth, origin } })
        expect(r.status, origin).toBe(200)
        expect(r.headers['access-control-allow-origin']).toBeUndefined()
      }
    })

    it('OPTIONS → 405, no CORS', async () => {
      const r = await call(tcp, 'OPTIONS', '/api/v1/status', { headers: { origin: `http://127.0.0.1:${tcp.port}`, 'access-control-request-method': 'POST' } })
      expect(r.status).toBe(405)
      expect(Object.keys(r.headers).filter(h => h.startsWith('access-control-'))).toEqual([])
    })
  })

  describe('routing', () => {
    it('GET on a mutating route → 405 with Allow: POST', async () => {
      const r = await call(tcp, 'GET', '/api/v1/team/create', { headers: f.auth })
      expect(r.status).toBe(405)
      expect(r.headers.allow).toBe('POST')
      expect(r.body.error.name).toBe('MethodNotAllowedError')
      expect(f.control.calls.some(c => c.method === 'teamCreate')).toBe(false)
    })

    it('POST on a read-only route → 405 with Allow: GET', async () => {
      const r = await call(tcp, 'POST', '/api/v1/status', { headers: f.auth, body: '{}' })
      expect(r.status).toBe(405)
      expect(r.headers.allow).toBe('GET')
    })

    it('an unknown path → 404 NotFoundError', async () => {
      const r = await call(tcp, 'GET', '/api/v1/nothing-here', { headers: f.auth })
      expect(r.status).toBe(404)
      expect(r.body).toEqual({ error: { name: 'NotFoundError', message: expect.any(String) } })
    })

    it('path parameters are decoded', async () => {
      const r = await call(tcp, 'GET', '/api/v1/peers/bob%20b/ping', { headers: f.auth })
      expect(r.status).toBe(200)
      expect(f.control.calls.at(-1)).toEqual({ method: 'ping', args: ['bob b'] })
    })

    it('every route reaches the control', async () => {
      const routes: Array<[string, string, string | undefined, string]> = [
        ['GET', '/api/v1/peers', undefined, 'peers'],
        ['GET', '/api/v1/peers/bob/status', undefined, 'query'],
        ['POST', '/api/v1/connect', '{"multiaddr":"/ip4/127.0.0.1/tcp/1"}', 'connect'],
        ['GET', '/api/v1/team', undefined, 'team'],
        ['POST', '/api/v1/team/create', '{"name":" crew "}', 'teamCreate'],
        ['POST', '/api/v1/team/invites', '{}', 'teamInvite'],
        ['POST', '/api/v1/team/join', '{"token":"paired1.x"}', 'teamJoin'],
        ['GET', '/api/v1/team/members', undefined, 'teamMembers'],
        ['POST', '/api/v1/team/leave', undefined, 'teamLeave']
      ]
      for (const [method, path, body, name] of routes) {
        const r = await call(tcp, method, path, { headers: f.auth, body })
        expect(r.status, path).toBe(200)
        expect(f.control.calls.at(-1)?.method, path).toBe(name)
      }
      expect(f.control.calls.find(c => c.method === 'teamCreate')?.args).toEqual(['crew'])
    })

    it('GET /metrics answers Prometheus text with the token', async () => {
      expect((await call(tcp, 'GET', '/metrics')).status).toBe(401)
      const r = await call(tcp, 'GET', '/metrics', { headers: f.auth })
      expect(r.status).toBe(200)
      expect(r.headers['content-type']).toMatch(/^text\/plain/)
      expect(r.text).toMatch(/^paired_connected_peers 1$/m)
      expect(r.text).toMatch(/^paired_members 2$/m)
      expect(r.text).toMatch(/^paired_uptime_seconds 61$/m)
      expect(r.text).toMatch(/^# TYPE paired_protocol_violations_total counter$/m)
    })

    it('metrics count the frames refused per protocol', () => {
      const text = metricsText({ connectedPeers: 0, members: 1, uptimeMs: 0 } as StatusDoc, { '/paired/task/1.0.0': 3, '/paired/query/1.0.0': 1 })
      expect(text).toMatch(/^paired_protocol_violations_total\{protocol="\/paired\/query\/1.0.0"\} 1$/m)
      expect(text).toMatch(/^paired_protocol_violations_total\{protocol="\/paired\/task\/1.0.0"\} 3$/m)
    })
  })

  describe('bodies', () => {
    it('an oversized body → 413', async () => {
      const body = JSON.stringify({ token: 'x'.repeat(1024 * 1024 + 10) })
      const r = await call(tcp, 'POST', '/api/v1/team/join', { headers: f.auth, body })
      expect(r.status).toBe(413)
      expect(r.body.error.name).toBe('PayloadTooLargeError')
    })

    it('an oversized body without a length (chunked) → 413', async () => {
      const r = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: tcp.port, method: 'POST', path: '/api/v1/team/join', headers: f.auth, agent: false }, res => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        for (let i = 0; i < 20; i++) req.write('x'.repeat(64 * 1024))
        req.end()
      })
      expect(r).toBe(413)
    })

    it('invalid JSON → 400 InvalidArgumentError', async () => {
      const r = await call(tcp, 'POST', '/api/v1/team/create', { headers: f.auth, body: '{"name": ' })
      expect(r.status).toBe(400)
      expect(r.body.error.name).toBe('InvalidArgumentError')
      expect(r.body.error.message).toMatch(/not valid JSON/)
    })

    it('JSON that is not an object → 400', async () => {
      for (const body of ['[]', '"crew"', '42', 'null']) {
        const r = await call(tcp, 'POST', '/api/v1/team/create', { headers: f.auth, body })
        expect(r.status, body).toBe(400)
        expect(r.body.error.message).toMatch(/must be a JSON object/)
      }
    })

    it('bad fields are 400s that name the field', async () => {
      const cases: Array<[string, string, RegExp]> = [
        ['/api/v1/team/create', '{"name":""}', /^name/],
        ['/api/v1/team/create', `{"name":"${'x'.repeat(65)}"}`, /^name/],
        ['/api/v1/team/create', '{"name":"crew","extra":1}', /"extra"/],
        ['/api/v1/team/invites', '{"role":"boss"}', /^role/],
        ['/api/v1/team/invites', '{"uses":0}', /^uses/],
        ['/api/v1/team/invites', '{"uses":1001}', /^uses/],
        ['/api/v1/team/invites', '{"uses":1.5}', /^uses/],
        ['/api/v1/team/invites', '{"ttl":"1y"}', /^ttl/],
        ['/api/v1/team/invites', '{"ttl":"31d"}', /^ttl/],
        ['/api/v1/team/invites', '{"addresses":"no"}', /^addresses/],
        ['/api/v1/team/join', '{}', /^token/],
        ['/api/v1/team/join', '{"token":5}', /^token/],
        ['/api/v1/connect', '{"multiaddr":""}', /^multiaddr/],
        ['/api/v1/team/leave', '{"now":true}', /"now"/]
      ]
      for (const [path, body, message] of cases) {
        const r = await call(tcp, 'POST', path, { headers: f.auth, body })
        expect(r.status, `${path} ${body}`).toBe(400)
        expect(r.body.error.name).toBe('InvalidArgumentError')
        expect(r.body.error.message, `${path} ${body}`).toMatch(message)
      }
    })

    it('an invite request reaches the control as an InviteRequest', async () => {
      const r = await call(tcp, 'POST', '/api/v1/team/invites', { headers: f.auth, body: '{"role":"guest","ttl":"24h","uses":3,"addresses":false}' })
      expect(r.status).toBe(200)
      expect(f.control.calls.at(-1)).toEqual({ method: 'teamInvite', args: [{ role: 'guest', ttlMs: 86_400_000, uses: 3, addresses: false }] })
      await call(tcp, 'POST', '/api/v1/team/invites', { headers: f.auth, body: '{"ttl":90000}' })
      expect(f.control.calls.at(-1)?.args).toEqual([{ ttlMs: 90_000 }])
    })
  })

  describe('errors of the control', () => {
    const cases: Array<[string, number]> = [
      ['NotFoundError', 404],
      ['InvalidArgumentError', 400],
      ['MalformedInviteError', 400],
      ['InviteExpiredError', 400],
      ['InvalidInviteError', 400],
      ['InviteUsedError', 400],
      ['WrongTeamError', 400],
      ['PermissionDeniedError', 403],
      ['PeerUnreachableError', 504],
      ['Error', 500],
      ['SomethingElseError', 500]
    ]
    for (const [name, status] of cases) {
      it(`${name} → ${status} with {error:{name,message}}`, async () => {
        f.control.fail = name === 'NotFoundError' ? new NotFoundError('no peer carol') : named(name, `boom ${name}`)
        const r = await call(tcp, 'GET', '/api/v1/peers', { headers: f.auth })
        expect(r.status).toBe(status)
        expect(r.headers['content-type']).toMatch(/^application\/json/)
        expect(r.body).toEqual({ error: { name, message: name === 'NotFoundError' ? 'no peer carol' : `boom ${name}` } })
      })
    }
  })

  describe('long calls', () => {
    it('get an AbortSignal that aborts when the client goes away', async () => {
      f.control.hangPing = true
      try {
        const req = request({ host: '127.0.0.1', port: tcp.port, path: '/api/v1/peers/bob/ping', headers: f.auth, agent: false })
        req.on('error', () => {})
        req.end()
        await expect.poll(() => f.control.lastSignal != null && f.control.calls.at(-1)?.method === 'ping').toBe(true)
        const signal = f.control.lastSignal
        expect(signal?.aborted).toBe(false)
        req.destroy()
        await expect.poll(() => signal?.aborted).toBe(true)
      } finally {
        f.control.hangPing = false
      }
    })

    it('connect, query and join get a signal too', async () => {
      for (const [method, path, body] of [['POST', '/api/v1/connect', '{"multiaddr":"/x"}'], ['GET', '/api/v1/peers/p/status', undefined], ['POST', '/api/v1/team/join', '{"token":"t"}']] as const) {
        f.control.lastSignal = undefined
        await call(tcp, method, path, { headers: f.auth, body })
        expect(f.control.lastSignal, path).toBeInstanceOf(AbortSignal)
      }
    })
  })

  describe('events', () => {
    it('streams an event published after connecting, and unsubscribes once the last stream is gone for retainMs', async () => {
      const g = await startFixture({ events: { retainMs: 50 } })
      onTestFinished(async () => { await g.cleanup() })
      const client = new ApiClient({ socketPath: g.socketPath, token: g.token })
      const received: DaemonEvent[] = []
      const controller = new AbortController()
      const before = g.control.listeners.size
      const done = client.events('events', e => { received.push(e) }, controller.signal)
      await expect.poll(() => g.control.listeners.size).toBe(before + 1)
      g.control.publish({ type: 'peer:connected', data: { peerId: PEER_A, text: 'two\nlines' } })
      await expect.poll(() => received.length).toBe(1)
      expect(received[0]).toEqual({ type: 'peer:connected', data: { peerId: PEER_A, text: 'two\nlines' } })
      controller.abort()
      await done
      await expect.poll(() => g.control.listeners.size).toBe(before)
    })

    it('the raw stream is text/event-stream with `event:` and `data:` lines', async () => {
      const text = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: tcp.port, path: '/api/v1/events', headers: f.auth, agent: false }, res => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
          expect(res.headers['access-control-allow-origin']).toBeUndefined()
          let seen = ''
          let published = false
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            seen += d
            if (!published && seen.startsWith(': connected')) { published = true; f.control.publish({ type: 'task:completed', data: { id: 1 } }) }
            if (seen.includes('\nevent:') && seen.endsWith('\n\n')) { req.destroy(); resolve(seen) }
          })
        })
        req.on('error', reject)
        req.end()
      })
      expect(text).toMatch(/^: connected\n\nid: ([0-9a-z]+)-(\d+)\n\nid: \1-\d+\nevent: task:completed\ndata: \{"id":1\}\n\n$/)
    })

    it('sends keepalive comments', async () => {
      const g = await startFixture({ keepaliveMs: 20 })
      try {
        const text = await new Promise<string>((resolve, reject) => {
          const req = request({ socketPath: g.socketPath, path: '/api/v1/events', headers: g.auth, agent: false }, res => {
            let seen = ''
            res.setEncoding('utf8')
            res.on('data', (d: string) => {
              seen += d
              if (seen.includes(': keepalive\n\n')) { req.destroy(); resolve(seen) }
            })
          })
          req.on('error', reject)
          req.end()
        })
        expect(text).toContain(': keepalive\n\n')
      } finally {
        await g.cleanup()
      }
    })
  })
})

describe('ApiServer lifecycle and files', () => {
  it('the token file and the socket are mode 0600, whatever the umask', async () => {
    const old = process.umask(0o022)
    try {
      const f = await startFixture()
      try {
        expect(((await stat(f.tokenPath)).mode & 0o777).toString(8)).toBe('600')
        expect(((await stat(f.socketPath)).mode & 0o777).toString(8)).toBe('600')
      } finally {
        await f.cleanup()
      }
    } finally {
      process.umask(old)
    }
  })

  it('stop is idempotent, closes event streams and removes the socket; stop before start is a no-op', async () => {
    const f = await startFixture()
    const client = new ApiClient({ socketPath: f.socketPath, token: f.token })
    const stream = client.events('events', () => {}, undefined)
    await expect.poll(() => f.control.listeners.size).toBe(1)
    await f.server.stop()
    await stream
    expect(f.control.listeners.size).toBe(0)
    await expect(stat(f.socketPath)).rejects.toMatchObject({ code: 'ENOENT' })
    await f.server.stop()
    await new ApiServer({ control: new StubControl(), token: 't', socketPath: join(f.dir, 'other.sock') }).stop()
    await f.cleanup()
  })

  it('removes a stale socket left by a killed daemon', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paired-api-stale-'))
    const socketPath = join(dir, 'api.sock')
    spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`])
    expect((await stat(socketPath)).isSocket()).toBe(true)
    const server = new ApiServer({ control: new StubControl(), token: 'a'.repeat(64), socketPath })
    await server.start()
    const r = await call({ socketPath }, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${'a'.repeat(64)}` } })
    expect(r.status).toBe(200)
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses to remove a regular file at the socket path, and a failed start leaves nothing listening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paired-api-file-'))
    const socketPath = join(dir, 'api.sock')
    await writeFile(socketPath, 'not a socket')
    const server = new ApiServer({ control: new StubControl(), token: 't', socketPath })
    await expect(server.start()).rejects.toThrow(/not a socket/)
    expect(server.port).toBeGreaterThan(0)
    await expect(call({ port: server.port }, 'GET', '/api/v1/status')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('url is http://127.0.0.1:PORT; a non-loopback host logs a warning', async () => {
    const f = await startFixture({ host: '0.0.0.0' })
    try {
      expect(f.server.url).toBe(`http://127.0.0.1:${f.server.port}`)
      expect(f.logs.join('\n')).toMatch(/WARNING.*not a loopback/)
      const r = await call({ port: f.server.port }, 'GET', '/api/v1/status', { headers: { ...f.auth, host: 'evil.example' } })
      expect(r.status).toBe(403)
    } finally {
      await f.cleanup()
    }
    const g = await startFixture()
    try {
      expect(g.server.url).toBe(`http://127.0.0.1:${g.server.port}`)
      expect(g.logs).toEqual([])
    } finally {
      await g.cleanup()
    }
  })

  it('a long call past its deadline → 504 TimeoutError', async () => {
    const f = await startFixture({ callTimeoutMs: 50 })
    try {
      f.control.hangPing = true
      const r = await call({ port: f.server.port }, 'GET', '/api/v1/peers/bob/ping', { headers: f.auth })
      expect(r.status).toBe(504)
      expect(r.body.error.name).toBe('TimeoutError')
    } finally {
      await f.cleanup()
    }
  })
})
