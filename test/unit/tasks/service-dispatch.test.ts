/**
 * TaskService on the wire (fake links): the role policy of offers from other
 * coordinators (only the task's coordinator, a member, within the submitter's priority
 * cap, with a valid grant for this daemon), and log lines from executors.
 */
import { describe, expect, it } from 'vitest'
import type { Role } from '../../../src/model/docs.js'
import { createTask, type TaskPriority } from '../../../src/state/crdt/index.js'
import { MAX_LOG_LINES } from '../../../src/tasks/constants.js'
import type { OfferTask } from '../../../src/tasks/messages.js'
import { offerTask } from '../../../src/tasks/offer.js'
import { taskDrafts } from '../../../src/state/ops/index.js'
import { addPeer, harness, makeAuthor, otherStore, settle, type Author, type Harness } from './service-fixture.js'

/** an offer of attempt 1 of `t1`, by `coordinator`, to `executor` */
function offer (coordinator: Author, executor: string, over: { submitter?: string, priority?: TaskPriority, agent?: string } = {}): OfferTask {
  const record = createTask('t1', {
    agent: over.agent ?? 'echo', input: null, priority: over.priority ?? 'normal', submitter: over.submitter ?? coordinator.peerId,
    createdHlc: { wall: 1, logical: 0, node: coordinator.peerId }
  })
  return offerTask(record, 10_000, coordinator.signer, executor)
}

/** `from` offers `task` to the service; its answer */
function answer (h: Harness, from: string, task: OfferTask): { accepted?: boolean, reason?: string, others?: number } {
  const id = 1000 + h.wire.sent.length
  h.wire.deliver(from, { t: 'offer', id, task })
  const reply = h.wire.repliesTo(from).find(r => r.id === id)
  if (reply === undefined) throw new Error('no reply')
  return reply
}

/** the executor's refusal while this daemon is paused: the offer passed the policy */
const REACHED_EXECUTOR = 'not taking work: a unit test'

async function member (h: Harness, role: Role): Promise<Author> {
  const peer = await makeAuthor()
  h.roles.set(peer.peerId, role)
  return peer
}

describe('TaskService: offers from other coordinators', () => {
  it('an offers message gets one reply with an answer per attempt, in order, each checked on its own', async () => {
    const h = await harness()
    const coordinator = await member(h, 'member')
    const stranger = await makeAuthor()
    const tasks = [offer(coordinator, h.self.peerId), offer(coordinator, 'someone-else'), offer(stranger, h.self.peerId)]
    h.wire.deliver(coordinator.peerId, { t: 'offers', id: 7, tasks })
    const reply = h.wire.repliesTo(coordinator.peerId).find(r => r.id === 7) as { answers?: Array<{ accepted: boolean, reason?: string }>, others?: number }
    expect(reply.others).toBe(0)
    expect(reply.answers?.map(x => x.accepted)).toStrictEqual([false, false, false])
    expect(reply.answers?.[0].reason).toBe(REACHED_EXECUTOR)
    expect(reply.answers?.[1].reason).not.toBe(REACHED_EXECUTOR)
    expect(reply.answers?.[2].reason).toBe('an offer must come from its coordinator')
  })

  it('an offer passes to the executor from its coordinator, a member, with a grant for this daemon', async () => {
    const h = await harness()
    const coordinator = await member(h, 'member')
    expect(answer(h, coordinator.peerId, offer(coordinator, h.self.peerId))).toEqual({ t: 'reply', id: 1000, accepted: false, reason: REACHED_EXECUTOR, others: 0 })
  })

  it('refuses an offer relayed by someone else than the task\'s coordinator', async () => {
    const h = await harness()
    const coordinator = await member(h, 'admin')
    const relay = await member(h, 'admin')
    expect(answer(h, relay.peerId, offer(coordinator, h.self.peerId)).reason).toBe('an offer must come from its coordinator')
  })

  it('refuses an offer from a coordinator that is not a member', async () => {
    const h = await harness()
    const stranger = await makeAuthor()
    expect(answer(h, stranger.peerId, offer(stranger, h.self.peerId)).reason).toBe('a non-member may not submit at normal priority')
  })

  it('caps the priority by the submitter\'s role, not the coordinator\'s', async () => {
    const h = await harness()
    const coordinator = await member(h, 'admin')
    const guest = await member(h, 'guest')
    const admin = await member(h, 'admin')
    const by = (submitter: Author, priority: TaskPriority): string | undefined =>
      answer(h, coordinator.peerId, offer(coordinator, h.self.peerId, { submitter: submitter.peerId, priority })).reason
    expect(by(guest, 'high')).toBe('a guest may not submit at high priority')
    expect(by(guest, 'critical')).toBe('a guest may not submit at critical priority')
    expect(by(guest, 'normal')).toBe(REACHED_EXECUTOR)
    expect(by(admin, 'critical')).toBe(REACHED_EXECUTOR)
  })

  it('a submitter that is no longer a member is capped by its coordinator\'s role (an adopted task)', async () => {
    const h = await harness()
    const coordinator = await member(h, 'member')
    const gone = await makeAuthor()
    const by = (priority: TaskPriority): string | undefined =>
      answer(h, coordinator.peerId, offer(coordinator, h.self.peerId, { submitter: gone.peerId, priority })).reason
    expect(by('critical')).toBe('a non-member may not submit at critical priority')
    expect(by('high')).toBe(REACHED_EXECUTOR)
  })

  it('refuses an offer without a valid grant for this daemon from its coordinator', async () => {
    const h = await harness()
    const coordinator = await member(h, 'member')
    const other = await member(h, 'member')
    const NO_GRANT = 'the offer carries no valid lease grant from its coordinator'
    const { grant: _grant, ...bare } = offer(coordinator, h.self.peerId)
    expect(answer(h, coordinator.peerId, bare).reason).toBe(NO_GRANT)
    // granted to another executor
    expect(answer(h, coordinator.peerId, offer(coordinator, other.peerId)).reason).toBe(NO_GRANT)
    // signed by another member
    const forged = { ...offer(coordinator, h.self.peerId), grant: offer(other, h.self.peerId).grant }
    expect(answer(h, coordinator.peerId, forged).reason).toBe(NO_GRANT)
    // for another attempt than the one offered
    expect(answer(h, coordinator.peerId, { ...offer(coordinator, h.self.peerId), attempt: 2 }).reason).toBe(NO_GRANT)
  })

  it('an offer within the policy for an agent not served here is refused by the executor', async () => {
    const h = await harness({ paused: undefined })
    const coordinator = await member(h, 'member')
    const reason = answer(h, coordinator.peerId, offer(coordinator, h.self.peerId, { agent: 'deploy' })).reason
    expect(reason).toContain('deploy')
    expect(reason).not.toBe(REACHED_EXECUTOR)
  })
})

describe('TaskService: logs', () => {
  /** a task this daemon coordinates, offered to `peer` (the offer is not answered) */
  async function offered (h: Harness): Promise<{ taskId: string, executor: Author }> {
    const executor = await addPeer(h)
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    await settle()
    expect(h.wire.requests.map(r => r.peer)).toEqual([executor.peerId])
    return { taskId, executor }
  }

  it('keeps the lines of the machine running a task it coordinates, and tells watchers', async () => {
    const h = await harness()
    const { taskId, executor } = await offered(h)
    h.wire.deliver(executor.peerId, { t: 'log', taskId, lines: ['one', 'two'] })
    expect(await h.service.taskLogs(taskId)).toEqual({ taskId, lines: ['one', 'two'], truncated: false, source: h.self.peerId })
    expect(h.events.filter(e => e.type === 'task:log').map(e => e.data)).toEqual([{ taskId, line: 'one' }, { taskId, line: 'two' }])
    // and hands them to whoever asks
    const asker = await addPeer(h)
    h.wire.deliver(asker.peerId, { t: 'logs', id: 7, taskId })
    expect(h.wire.repliesTo(asker.peerId)).toEqual([{ t: 'reply', id: 7, lines: ['one', 'two'], truncated: false }])
  })

  it('drops lines from a machine that does not run the task', async () => {
    const h = await harness()
    const { taskId } = await offered(h)
    const bystander = await addPeer(h)
    h.wire.deliver(bystander.peerId, { t: 'log', taskId, lines: ['forged'] })
    h.wire.deliver(bystander.peerId, { t: 'log', taskId: 't-other', lines: ['forged'] })
    expect(await h.service.taskLogs(taskId)).toEqual({ taskId, lines: [], truncated: false, source: null })
    expect(h.events.filter(e => e.type === 'task:log')).toEqual([])
  })

  it(`keeps the last ${MAX_LOG_LINES} lines and says it cut the rest`, async () => {
    const h = await harness()
    const { taskId, executor } = await offered(h)
    const lines = Array.from({ length: MAX_LOG_LINES + 500 }, (_, i) => `line ${i}`)
    h.wire.deliver(executor.peerId, { t: 'log', taskId, lines: lines.slice(0, 800) })
    h.wire.deliver(executor.peerId, { t: 'log', taskId, lines: lines.slice(800) })
    const logs = await h.service.taskLogs(taskId)
    expect(logs.truncated).toBe(true)
    expect(logs.lines).toEqual(lines.slice(500))
  })

  it('asks the machine holding the lease for the logs of a task that ran elsewhere', async () => {
    const h = await harness()
    const executor = await addPeer(h)
    const theirs = await otherStore(executor)
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    const [lease] = await theirs.write([taskDrafts.lease({ taskId, attempt: 1, expiresWall: Date.now() + 60_000, startedWall: Date.now() })])
    await h.service.ingest(lease)
    expect((await h.service.taskGet(taskId)).executor).toBe(executor.peerId)
    h.wire.answer = async (_peer, msg) => ({ t: 'reply', id: msg.id, lines: ['remote'], truncated: true })
    expect(await h.service.taskLogs(taskId)).toEqual({ taskId, lines: ['remote'], truncated: true, source: executor.peerId })
    expect(h.wire.requests.at(-1)).toMatchObject({ peer: executor.peerId, msg: { t: 'logs', taskId } })
    // unreachable: no lines, no source
    h.wire.answer = async () => { throw new Error('no answer') }
    expect(await h.service.taskLogs(taskId)).toEqual({ taskId, lines: [], truncated: false, source: null })
  })

  it('answers a log query for a task it knows nothing of with no lines', async () => {
    const h = await harness()
    const asker = await addPeer(h)
    h.wire.deliver(asker.peerId, { t: 'logs', id: 3, taskId: 't-none' })
    expect(h.wire.repliesTo(asker.peerId)).toEqual([{ t: 'reply', id: 3, lines: [], truncated: false }])
  })
})
