/**
 * A stub `DaemonControl` (it records calls and answers canned documents; `StubControl`
 * adds a small in-memory key-value store) and a raw HTTP caller, for testing the real
 * `ApiServer`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { AbortOptions } from '@libp2p/interface'
import { ApiServer, ensureApiToken, type ApiServerInit } from '../../../src/api/index.js'
import type {
  DaemonControl, DaemonEvent, InviteDoc, InviteRequest, KvControl, KvEntryDoc, KvWrite, MemberDoc, PeerDetailDoc, PeerDoc, StatusDoc,
  TaskDoc, TaskSubmit, TeamDoc
} from '../../../src/model/docs.js'
import { NotFoundError } from '../../../src/errors.js'

export const PEER_A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaAlice111'
export const PEER_B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbBob22222'

export function named (name: string, message: string): Error {
  const err = new Error(message)
  err.name = name
  return err
}

/** the daemon's control without a key-value store */
export class StubDaemonControl implements DaemonControl {
  readonly calls: Array<{ method: string, args: unknown[] }> = []
  readonly listeners = new Set<(event: DaemonEvent) => void>()
  /** thrown by the next call, if set */
  fail?: Error
  /** ping waits for its signal to abort when set */
  hangPing = false
  lastSignal?: AbortSignal

  statusDoc: StatusDoc = {
    peerId: PEER_A,
    name: 'alice',
    version: '0.1.0',
    team: { teamId: 't1', name: 'crew', role: 'admin' },
    addresses: ['/ip4/127.0.0.1/tcp/4001/p2p/' + PEER_A],
    connectedPeers: 1,
    members: 2,
    uptimeMs: 61_000
  }

  teamDoc: TeamDoc = { teamId: 't1', name: 'crew', role: 'admin', members: 2 }

  protected record (method: string, ...args: unknown[]): void {
    this.calls.push({ method, args })
    const fail = this.fail
    this.fail = undefined
    if (fail != null) throw fail
  }

  publish (event: DaemonEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  async status (): Promise<StatusDoc> {
    this.record('status')
    return this.statusDoc
  }

  async teamRemove (peer: string): Promise<{ peerId: string, name: string | null, removed: true }> {
    this.record('teamRemove', peer)
    if (peer !== PEER_B && peer !== 'bob') throw new NotFoundError(`no member ${peer}`)
    return { peerId: PEER_B, name: 'bob', removed: true }
  }

  async teamRotateKey (): Promise<{ keyEpoch: number, delivered: string[], missed: string[] }> {
    this.record('teamRotateKey')
    return { keyEpoch: 1, delivered: ['bob'], missed: [] }
  }

  async teamRevokeInvite (inviteId: string): Promise<{ inviteId: string, revoked: true, kept: number }> {
    this.record('teamRevokeInvite', inviteId)
    return { inviteId, revoked: true, kept: 1 }
  }

  async peer (id: string): Promise<PeerDetailDoc> {
    this.record('peer', id)
    const found = (await this.peers()).find(p => p.peerId === id || p.name === id)
    if (found == null) throw new NotFoundError(`no peer ${id}`)
    return { ...found, role: 'member', gossipScore: 0, reputationHistory: [{ at: 1, event: 'success', score: 0.6, status: 'unproven' }] }
  }

  async peers (): Promise<PeerDoc[]> {
    this.record('peers')
    return [{
      peerId: PEER_B,
      name: 'bob',
      addresses: ['/ip4/127.0.0.1/tcp/4002'],
      connected: true,
      state: 'connected',
      rttMs: 0.42,
      capacity: null,
      reputation: null,
      agents: [],
      labels: {}
    }]
  }

  async ping (peer: string, options?: AbortOptions): Promise<{ peerId: string, rttMs: number }> {
    this.record('ping', peer)
    this.lastSignal = options?.signal
    if (this.hangPing) {
      await new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => { reject(named('AbortError', 'aborted')) })
      })
    }
    return { peerId: peer === 'bob' ? PEER_B : peer, rttMs: 0.42 }
  }

  async query (peer: string, options?: AbortOptions): Promise<StatusDoc> {
    this.record('query', peer)
    this.lastSignal = options?.signal
    return { ...this.statusDoc, peerId: PEER_B, name: 'bob' }
  }

  async connect (multiaddr: string, options?: AbortOptions): Promise<{ peerId: string }> {
    this.record('connect', multiaddr)
    this.lastSignal = options?.signal
    return { peerId: PEER_B }
  }

  async team (): Promise<TeamDoc> {
    this.record('team')
    return this.teamDoc
  }

  async teamCreate (name: string): Promise<TeamDoc> {
    this.record('teamCreate', name)
    return { ...this.teamDoc, name, members: 1 }
  }

  async teamInvite (req: InviteRequest): Promise<InviteDoc> {
    this.record('teamInvite', req)
    return { token: 'paired1.abc', inviteId: 'i1', role: req.role ?? 'member', expiresAt: 1_900_000_000_000, maxUses: req.uses ?? 1 }
  }

  async teamJoin (token: string, options?: AbortOptions): Promise<TeamDoc> {
    this.record('teamJoin', token)
    this.lastSignal = options?.signal
    return { ...this.teamDoc, role: 'member' }
  }

  async teamMembers (): Promise<MemberDoc[]> {
    this.record('teamMembers')
    return [
      { peerId: PEER_A, name: 'alice', role: 'admin', self: true, connected: true },
      { peerId: PEER_B, name: 'bob', role: 'member', self: false, connected: false }
    ]
  }

  async teamLeave (): Promise<TeamDoc> {
    this.record('teamLeave')
    return { teamId: 't2', name: 'alice (personal)', role: 'admin', members: 1 }
  }

  subscribe (listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}

/**
 * The stub control with an in-memory key-value store: writes by PEER_A with a counter
 * as the clock, and a `kv:changed` event per write and per deletion, as the daemon does.
 */
export class StubControl extends StubDaemonControl implements KvControl {
  readonly kv = new Map<string, KvEntryDoc>()
  private clock = 0

  async kvSet (writes: KvWrite[]): Promise<KvEntryDoc[]> {
    this.record('kvSet', writes)
    return writes.map(({ key, value }) => {
      const entry = { key, value, updatedBy: PEER_A, hlc: String(++this.clock).padStart(12, '0') }
      this.kv.set(key, entry)
      this.publish({ type: 'kv:changed', data: entry })
      return entry
    })
  }

  async kvGet (key: string): Promise<KvEntryDoc> {
    this.record('kvGet', key)
    const entry = this.kv.get(key)
    if (entry == null) throw new NotFoundError(`no key ${key}`)
    return entry
  }

  async kvList (prefix: string): Promise<KvEntryDoc[]> {
    this.record('kvList', prefix)
    return [...this.kv.values()].filter(e => e.key.startsWith(prefix)).sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  }

  async kvDel (key: string): Promise<{ key: string, deleted: boolean }> {
    this.record('kvDel', key)
    const entry = this.kv.get(key)
    if (entry == null) return { key, deleted: false }
    this.kv.delete(key)
    this.publish({ type: 'kv:changed', data: { ...entry, value: null, hlc: String(++this.clock).padStart(12, '0'), deleted: true } })
    return { key, deleted: true }
  }
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** the parsed body, when it is JSON */
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type Target = { port: number } | { socketPath: string }

/** one raw HTTP request; `noHost` sends no Host header at all */
export async function call (target: Target, method: string, path: string, options: { headers?: Record<string, string>, body?: string | Buffer, noHost?: boolean } = {}): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const location = 'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath }
    const headers = { ...options.headers }
    if (options.body != null) headers['content-length'] = String(Buffer.byteLength(options.body))
    const req = request({ ...location, method, path, headers, agent: false, setHost: options.noHost !== true }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => {
        let body: unknown
        try { body = JSON.parse(text) } catch { body = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface Fixture {
  dir: string
  token: string
  tokenPath: string
  socketPath: string
  control: StubControl
  server: ApiServer
  logs: string[]
  auth: Record<string, string>
  cleanup: () => Promise<void>
}

/** a real ApiServer on a temp home, with a stub control */
export async function startFixture (init: Pick<ApiServerInit, 'host' | 'callTimeoutMs' | 'keepaliveMs' | 'events' | 'runId'> = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'paired-api-'))
  const tokenPath = join(dir, 'api.token')
  const socketPath = join(dir, 'api.sock')
  const token = await ensureApiToken(tokenPath)
  const control = new StubControl()
  const logs: string[] = []
  const server = new ApiServer({ control, token, socketPath, port: 0, log: line => { logs.push(line) }, ...init })
  await server.start()
  return {
    dir,
    token,
    tokenPath,
    socketPath,
    control,
    server,
    logs,
    auth: { authorization: `Bearer ${token}` },
    cleanup: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** a pending task's document as a daemon would answer it, for fake task controls */
export function pendingTaskDoc (taskId: string, spec: TaskSubmit, extra: Partial<TaskDoc> = {}): TaskDoc {
  return {
    taskId,
    agent: spec.agent,
    state: 'pending',
    submitter: PEER_A,
    executor: null,
    priority: spec.priority ?? 'normal',
    attempt: 0,
    createdWall: 1_700_000_000_000,
    input: spec.input ?? null,
    labels: spec.labels ?? {},
    needs: spec.needs ?? {},
    timeoutMs: spec.timeoutMs ?? null,
    retries: spec.retries ?? 2,
    replicas: spec.replicas ?? 1,
    coordinator: PEER_A,
    adoptions: [],
    cancelled: false,
    cancelRequests: [],
    result: null,
    results: [],
    leases: [],
    startedWall: null,
    waiting: null,
    ...extra
  }
}

/**
 * A real ApiServer whose control has no task system and no key-value store: each of
 * `requests` must answer 501 NotImplementedError with `message`, whatever its input, while
 * the rest of the API still answers.
 */
export async function expectNotImplemented (requests: ReadonlyArray<readonly [string, string, string | undefined]>, message: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'paired-api-501-'))
  const token = await ensureApiToken(join(dir, 'api.token'))
  const server = new ApiServer({ control: new StubDaemonControl(), token, socketPath: join(dir, 'api.sock') })
  await server.start()
  try {
    const headers = { authorization: `Bearer ${token}` }
    for (const [method, path, body] of requests) {
      const r = await call({ port: server.port }, method, path, { headers, body })
      expect(r.status, path).toBe(501)
      expect(r.body, path).toEqual({ error: { name: 'NotImplementedError', message } })
    }
    expect((await call({ port: server.port }, 'GET', '/api/v1/status', { headers })).status).toBe(200)
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
