/**
 * A `TaskService` built for unit tests: a real op store in a temp dir (LevelDB), real
 * Ed25519 peers, and fakes for the network edges: the task links (`FakeWire`: records what
 * is sent, answers requests as the test says, delivers messages as a peer would), presence
 * (peer states and capacities from maps) and membership (roles from a map).
 *
 * Only the timers are faked (`vi.useFakeTimers` for setTimeout/setInterval): the
 * coordinator's tick never fires unless a test advances it. Dates are real; the service's
 * own clock (`now`) is fixed.
 */
import { afterEach, beforeEach, vi } from 'vitest'
import type { Role } from '../../../src/model/docs.js'
import type { Capacity, PeerState } from '../../../src/presence/index.js'
import type { TaskPriority } from '../../../src/state/crdt/index.js'
import { OpStore } from '../../../src/state/store/op-log.js'
import { defaultAgentsConfig, type AgentsConfig } from '../../../src/tasks/agents/index.js'
import type { TaskMessage } from '../../../src/tasks/messages.js'
import { TaskService, type TaskServiceInit, type TaskState, type TaskWire, type WireHandlers } from '../../../src/tasks/service.js'
import { TEAM, makeAuthor, type Author } from '../state/ops/helpers.js'
import { tempStore } from '../state/store/helpers.js'

export { TEAM, makeAuthor, type Author }

/** the service's clock */
export const NOW = Date.UTC(2026, 0, 1, 12)

export const CAPS: Record<Role, TaskPriority> = { admin: 'critical', member: 'high', guest: 'normal' }

type Reply = TaskMessage & { t: 'reply' }

/** The task links, faked: nothing leaves the process. */
export class FakeWire implements TaskWire {
  readonly sent: Array<{ peer: string, msg: TaskMessage }> = []
  readonly requests: Array<{ peer: string, msg: TaskMessage & { id: number } }> = []
  readonly dropped: string[] = []
  handlers?: WireHandlers
  /** how a request is answered: never, unless a test says otherwise */
  answer: (peer: string, msg: TaskMessage & { id: number }) => Promise<Reply> = async () => await new Promise<Reply>(() => {})
  private next = 1

  async start (): Promise<void> {}
  async stop (): Promise<void> {}
  async send (peer: string, msg: TaskMessage): Promise<void> { this.sent.push({ peer, msg }) }
  async request (peer: string, msg: TaskMessage & { id: number }): Promise<Reply> {
    this.requests.push({ peer, msg })
    return await this.answer(peer, msg)
  }

  id (): number { return this.next++ }
  dropPeer (peer: string): void { this.dropped.push(peer) }

  /** `peer` sends `msg` to the service */
  deliver (peer: string, msg: TaskMessage): void {
    if (this.handlers === undefined) throw new Error('the service did not ask for links')
    this.handlers.onMessage(peer, msg)
  }

  /** the replies sent to `peer` */
  repliesTo (peer: string): Reply[] {
    return this.sent.filter(s => s.peer === peer && s.msg.t === 'reply').map(s => s.msg as Reply)
  }
}

/** a remote machine's heartbeat capacity */
export function capacity (over: Partial<Capacity> = {}): Capacity {
  return {
    cores: 4, load1: 0, load5: 0, load15: 0, memTotalMb: 8192, memFreeMb: 4096, slots: 2, running: 0, queued: 0,
    freeSlots: 2, agents: ['echo'], labels: {}, power: 'ac', batteryPercent: null, ...over
  }
}

export interface Harness {
  service: TaskService
  store: OpStore
  wire: FakeWire
  self: Author
  /** role by peer (this daemon's included); a peer not in it is not a member */
  roles: Map<string, Role>
  /** other members: presence state and capacity */
  peers: Map<string, { state: PeerState, capacity?: Capacity }>
  events: Array<{ type: string, data: unknown }>
  /** lines of the daemon's log */
  lines: string[]
  /** the state's writes fail while this is set */
  failWrites?: Error
}

export interface HarnessOptions {
  role?: Role
  paused?: string
  agents?: AgentsConfig
  over?: Partial<TaskServiceInit>
}

const services: TaskService[] = []

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
})

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop()
  vi.useRealTimers()
})

/** A started service for `self` (role `member` unless told), paused unless told otherwise, so nothing runs here. */
export async function harness (options: HarnessOptions = {}): Promise<Harness> {
  const self = await makeAuthor()
  const t = await tempStore({ signer: self.signer })
  const wire = new FakeWire()
  const h: Omit<Harness, 'service'> & Partial<Pick<Harness, 'service'>> = {
    self,
    store: t.store,
    wire,
    roles: new Map([[self.peerId, options.role ?? 'member']]),
    peers: new Map(),
    events: [],
    lines: []
  }
  const state: TaskState = {
    store: t.store,
    write: async drafts => {
      if (h.failWrites !== undefined) throw h.failWrites
      return await t.store.write(drafts)
    },
    ingest: async batch => await t.store.ingest(batch)
  }
  const paused = 'paused' in options ? options.paused : 'a unit test'
  const service = new TaskService({
    links: handlers => { wire.handlers = handlers; return wire },
    db: t.db,
    teamId: TEAM,
    selfId: self.peerId,
    signer: self.signer,
    state,
    slots: 1,
    labels: {},
    agents: options.agents ?? defaultAgentsConfig(),
    leaseMs: 10_000,
    maxPriority: CAPS,
    reputation: {},
    now: () => NOW,
    paused: () => paused,
    isVerified: peer => h.roles.has(peer),
    members: () => [self.peerId, ...h.peers.keys()],
    roleOf: peer => h.roles.get(peer),
    peerState: peer => h.peers.get(peer)?.state,
    capacityOf: peer => h.peers.get(peer)?.capacity,
    rttOf: () => 1,
    emit: (type, data) => { h.events.push({ type, data }) },
    wanted: () => true,
    line: text => { h.lines.push(text) },
    ...options.over
  })
  services.push(service)
  await service.start()
  h.service = service
  return h as Harness
}

/** a second member, alive, serving `agents` */
export async function addPeer (h: Harness, role: Role = 'member', agents = ['echo']): Promise<Author> {
  const peer = await makeAuthor()
  h.roles.set(peer.peerId, role)
  h.peers.set(peer.peerId, { state: 'alive', capacity: capacity({ agents }) })
  return peer
}

/** another author's store, for ops this daemon did not write (a task another member submitted) */
export async function otherStore (author: Author): Promise<OpStore> {
  return (await tempStore({ signer: author.signer })).store
}

/** lets queued microtasks (the coordinator's placement pass) run */
export async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
