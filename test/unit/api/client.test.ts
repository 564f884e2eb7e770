import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, ApiError, EventStreamParser, apiPath } from '../../../src/api/index.js'
import type { DaemonEvent, StatusDoc, TeamDoc } from '../../../src/model/docs.js'
import { DaemonNotRunningError, NotFoundError } from '../../../src/errors.js'
import { PEER_B, startFixture, type Fixture } from './helpers.js'

describe('ApiClient over the unix socket', () => {
  let f: Fixture
  let client: ApiClient

  beforeAll(async () => {
    f = await startFixture()
    client = new ApiClient({ socketPath: f.socketPath, token: f.token, home: f.dir })
  })

  afterAll(async () => { await f.cleanup() })

  it('GET round-trips a document', async () => {
    expect(await client.get<StatusDoc>('status')).toMatchObject(f.control.statusDoc)
    expect(await client.get<StatusDoc>('/api/v1/status')).toMatchObject(f.control.statusDoc)
  })

  it('POST sends a JSON body', async () => {
    const team = await client.post<TeamDoc>('team/create', { name: 'crew' })
    expect(team.name).toBe('crew')
    expect(f.control.calls.at(-1)).toEqual({ method: 'teamCreate', args: ['crew'] })
    expect(await client.post<{ peerId: string }>('connect', { multiaddr: '/ip4/1.2.3.4/tcp/1' })).toEqual({ peerId: PEER_B })
  })

  it('an error answer becomes an error with the server\'s name, message and status', async () => {
    f.control.fail = new NotFoundError('no peer carol')
    const err = await client.get('peers').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ name: 'NotFoundError', message: 'no peer carol', status: 404 })
    await expect(client.post('team/invites', { role: 'boss' })).rejects.toMatchObject({ name: 'InvalidArgumentError', status: 400 })
  })

  it('a wrong token is an UnauthorizedError', async () => {
    const wrong = new ApiClient({ socketPath: f.socketPath, token: 'nope' })
    await expect(wrong.get('status')).rejects.toMatchObject({ name: 'UnauthorizedError', status: 401 })
  })

  it('a missing socket is DaemonNotRunningError naming the home', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paired-client-'))
    try {
      const none = new ApiClient({ socketPath: join(dir, 'api.sock'), token: 't', home: dir })
      const err = await none.get('status').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DaemonNotRunningError)
      expect((err as Error).message).toBe(`no daemon is running for home ${dir} (start one with: paired daemon --home ${dir})`)
      await expect(none.events('events', () => {})).rejects.toBeInstanceOf(DaemonNotRunningError)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('an aborted request rejects', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(client.get('status', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('apiPath prefixes relative paths', () => {
    expect(apiPath('status')).toBe('/api/v1/status')
    expect(apiPath('/metrics')).toBe('/metrics')
  })
})

describe('EventStreamParser', () => {
  it('parses events split anywhere across chunks, and skips comments', () => {
    const text = ': connected\n\nevent: peer:connected\ndata: {"a":1}\n\n: keepalive\n\nevent: x\r\ndata: not json\r\n\r\ndata: [1,\ndata: 2]\n\n'
    for (let size = 1; size <= text.length; size++) {
      const events: DaemonEvent[] = []
      const parser = new EventStreamParser(e => { events.push(e) })
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size))
      expect(events, `chunks of ${size}`).toEqual([
        { type: 'peer:connected', data: { a: 1 } },
        { type: 'x', data: 'not json' },
        { type: 'message', data: [1, 2] }
      ])
    }
  })
})
