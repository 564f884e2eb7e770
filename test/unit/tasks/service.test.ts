/**
 * TaskService as the API uses it, with a real store in a temp dir and fake network
 * edges: the role policy of this daemon's own submissions (priority caps), submit-many
 * (one write, all or nothing), cancel (only the submitter), the documents it returns
 * (waiting while pending), and refusing a task nobody serves.
 */
import { describe, expect, it } from 'vitest'
import { PermissionDeniedError } from '../../../src/errors.js'
import { taskDrafts } from '../../../src/state/ops/index.js'
import { AgentNotServedError } from '../../../src/tasks/agents/index.js'
import { PAUSED_LABEL } from '../../../src/tasks/service.js'
import { addPeer, harness, makeAuthor, otherStore, settle } from './service-fixture.js'
import type { Harness } from './service-fixture.js'

async function taskIds (h: Harness): Promise<string[]> {
  const out: string[] = []
  for await (const record of h.store.tasks()) out.push(record.taskId)
  return out
}

describe('TaskService: the priority cap of this daemon\'s role', () => {
  const cases = [
    { role: 'guest', allowed: ['normal', 'low'], refused: ['critical', 'high'] },
    { role: 'member', allowed: ['high', 'normal', 'low'], refused: ['critical'] },
    { role: 'admin', allowed: ['critical', 'high', 'normal', 'low'], refused: [] }
  ] as const
  for (const { role, allowed, refused } of cases) {
    it(`a ${role} submits at ${allowed.join(', ')}${refused.length > 0 ? ` and not at ${refused.join(', ')}` : ''}`, async () => {
      const h = await harness({ role })
      for (const priority of allowed) {
        const doc = await h.service.taskSubmit({ agent: 'echo', priority })
        expect(doc.priority).toBe(priority)
        expect((await h.service.taskGet(doc.taskId)).priority).toBe(priority)
      }
      for (const priority of refused) {
        await expect(h.service.taskSubmit({ agent: 'echo', priority })).rejects.toThrow(PermissionDeniedError)
        await expect(h.service.taskSubmit({ agent: 'echo', priority })).rejects.toThrow(`a ${role} may submit at most at ${
          role === 'guest' ? 'normal' : 'high'} priority, not ${priority}`)
      }
      // a refused task is not recorded, nor placed
      expect(await taskIds(h)).toHaveLength(allowed.length)
      expect(h.service.coordinator.activeCount).toBe(allowed.length)
    })
  }

  it('without a priority a task is normal, which a guest may use', async () => {
    const h = await harness({ role: 'guest' })
    expect((await h.service.taskSubmit({ agent: 'echo' })).priority).toBe('normal')
  })

  it('a daemon whose role is unknown is capped as a member', async () => {
    const h = await harness()
    h.roles.delete(h.self.peerId)
    await expect(h.service.taskSubmit({ agent: 'echo', priority: 'critical' })).rejects.toThrow('a member may submit at most at high')
    expect((await h.service.taskSubmit({ agent: 'echo', priority: 'high' })).priority).toBe('high')
  })
})

describe('TaskService: submit', () => {
  it('records the spec as given, submitted by this daemon, and places it (here: nobody can take it, so it waits)', async () => {
    const h = await harness()
    const doc = await h.service.taskSubmit({ agent: 'echo', input: { n: 1 }, labels: { os: 'linux' }, timeoutMs: 5_000, retries: 0 })
    expect(doc).toMatchObject({
      agent: 'echo', input: { n: 1 }, labels: { os: 'linux' }, needs: {}, timeoutMs: 5_000, retries: 0, replicas: 1,
      state: 'pending', submitter: h.self.peerId, coordinator: h.self.peerId, executor: null, result: null, results: [], cancelled: false
    })
    // the coordinator tried to place it: no machine has the label
    expect(doc.waiting).toBe('label os=linux: no machine has it')
    expect(h.service.coordinator.explain(doc.taskId)?.waiting).toBe(doc.waiting)
  })

  it('a machine that is paused takes nothing: the task waits, and says why', async () => {
    const h = await harness({ paused: 'on battery' })
    const doc = await h.service.taskSubmit({ agent: 'echo' })
    expect(doc.waiting).toBe('no machine that serves "echo" can take it (1 paused)')
  })

  it('tells watchers of the new task, then of its cancel', async () => {
    const h = await harness()
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    await h.service.taskCancel(taskId)
    const updates = h.events.filter(e => e.type === 'task:updated').map(e => e.data as { taskId: string, state: string, waiting: string | null })
    expect(updates.map(u => [u.taskId, u.state])).toEqual([[taskId, 'pending'], [taskId, 'cancelled']])
  })

  it('offers the task to a member that serves its agent, with a grant for that member', async () => {
    const h = await harness()
    const peer = await addPeer(h)
    const doc = await h.service.taskSubmit({ agent: 'echo' })
    await settle()
    const offers = h.wire.requests.filter(r => r.msg.t === 'offers')
    expect(offers.map(o => o.peer)).toEqual([peer.peerId])
    const offer = offers[0].msg
    if (offer.t !== 'offers') throw new Error('not an offers message')
    expect(offer.tasks).toHaveLength(1)
    expect(offer.tasks[0]).toMatchObject({ taskId: doc.taskId, attempt: 1, coordinator: h.self.peerId, submitter: h.self.peerId })
    expect(offer.tasks[0].grant?.coordinator).toBe(h.self.peerId)
    // offered, not yet answered: not waiting
    expect((await h.service.taskGet(doc.taskId)).waiting).toBeNull()
  })

  it('refuses an agent that no member serves when every member\'s agents are known', async () => {
    const h = await harness()
    await addPeer(h, 'member', ['build'])
    const refused = h.service.taskSubmit({ agent: 'deploy' })
    await expect(refused).rejects.toThrow(AgentNotServedError)
    await expect(h.service.taskSubmit({ agent: 'deploy' })).rejects.toThrow('no member serves agent "deploy" (members serve: build, echo, sleep)')
    expect(await taskIds(h)).toEqual([])
  })

  it('takes an agent nobody here serves while a member\'s agents are unknown (it may serve it): the task waits', async () => {
    const h = await harness()
    const silent = await makeAuthor()
    h.roles.set(silent.peerId, 'member')
    h.peers.set(silent.peerId, { state: 'alive' }) // no heartbeat yet
    const doc = await h.service.taskSubmit({ agent: 'deploy' })
    expect(doc.state).toBe('pending')
    expect(doc.waiting).toContain('no member serves agent "deploy"')
  })

  it('a task the store cannot record is not placed, and the error reaches the caller', async () => {
    const h = await harness()
    await addPeer(h)
    h.failWrites = new Error('disk full')
    await expect(h.service.taskSubmit({ agent: 'echo' })).rejects.toThrow('disk full')
    expect(h.service.coordinator.activeCount).toBe(0)
    expect(await taskIds(h)).toEqual([])
  })
})

describe('TaskService: submit many', () => {
  it('records every task in one signed batch and returns their ids in order', async () => {
    const h = await harness()
    const ids = await h.service.taskSubmitMany([
      { agent: 'echo', input: 1 }, { agent: 'echo', input: 2, priority: 'low' }, { agent: 'sleep', input: 3 }
    ])
    expect(ids).toHaveLength(3)
    expect(new Set(ids.map(i => i.taskId)).size).toBe(3)
    expect(await h.store.versionVector()).toEqual({ [h.self.peerId]: 3 })
    const records = []
    for await (const record of h.store.opsSince(h.self.peerId)) records.push(record)
    expect(records).toHaveLength(1)
    for (const [i, { taskId }] of ids.entries()) {
      expect((await h.service.taskGet(taskId)).input).toBe(i + 1)
    }
    expect(h.service.coordinator.activeCount).toBe(3)
  })

  it('is all or nothing: one spec over the cap, and none is recorded', async () => {
    const h = await harness({ role: 'guest' })
    await expect(h.service.taskSubmitMany([
      { agent: 'echo' }, { agent: 'echo', priority: 'critical' }, { agent: 'echo' }
    ])).rejects.toThrow(PermissionDeniedError)
    expect(await taskIds(h)).toEqual([])
    expect(await h.store.versionVector()).toEqual({})
    expect(h.service.coordinator.activeCount).toBe(0)
  })

  it('a failed write forgets every task it placed', async () => {
    const h = await harness()
    h.failWrites = new Error('disk full')
    await expect(h.service.taskSubmitMany([{ agent: 'echo' }, { agent: 'echo' }])).rejects.toThrow('disk full')
    expect(h.service.coordinator.activeCount).toBe(0)
  })
})

describe('TaskService: cancel', () => {
  it('the submitter cancels its task: the record says cancelled, by this daemon', async () => {
    const h = await harness()
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    const doc = await h.service.taskCancel(taskId)
    expect(doc).toMatchObject({ state: 'cancelled', cancelled: true, cancelRequests: [h.self.peerId], waiting: null })
    expect(h.service.coordinator.activeCount).toBe(0)
  })

  it('cancelling a finished task writes nothing', async () => {
    const h = await harness()
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    await h.service.taskCancel(taskId)
    const head = await h.store.headOf(h.self.peerId)
    expect((await h.service.taskCancel(taskId)).state).toBe('cancelled')
    expect(await h.store.headOf(h.self.peerId)).toBe(head)
  })

  it('no other member may cancel it, whatever its role', async () => {
    const h = await harness({ role: 'admin' })
    const submitter = await makeAuthor()
    const theirs = await otherStore(submitter)
    const [batch] = await theirs.write([taskDrafts.create('t-theirs', { agent: 'echo', input: null, priority: 'normal' })])
    await h.service.ingest(batch)
    expect((await h.service.taskGet('t-theirs')).submitter).toBe(submitter.peerId)
    await expect(h.service.taskCancel('t-theirs')).rejects.toThrow(PermissionDeniedError)
    await expect(h.service.taskCancel('t-theirs')).rejects.toThrow(`only the machine that submitted task t-theirs (${submitter.peerId}) can cancel it`)
    expect((await h.service.taskGet('t-theirs')).cancelled).toBe(false)
    expect(await h.store.headOf(h.self.peerId)).toBe(0)
  })

  it('an unknown task is not found', async () => {
    const h = await harness()
    await expect(h.service.taskCancel('t-none')).rejects.toThrow('no task t-none')
    await expect(h.service.taskGet('t-none')).rejects.toThrow('no task t-none')
  })
})

describe('TaskService: facts from other members', () => {
  it('a cancel by a member that did not submit the task is a forgery: logged, held against it, and it changes nothing', async () => {
    const h = await harness()
    const forger = await addPeer(h)
    const { taskId } = await h.service.taskSubmit({ agent: 'echo' })
    const before = h.service.reputation.view(forger.peerId)
    const [cancel] = await (await otherStore(forger)).write([taskDrafts.cancel(taskId)])
    await h.service.ingest(cancel)
    expect(h.lines).toEqual([`protocol violation by ${forger.peerId} on task ${taskId}: cancelled a task it neither submitted nor coordinates`])
    expect(h.service.reputation.view(forger.peerId).score).toBeLessThan(before.score)
    const doc = await h.service.taskGet(taskId)
    expect(doc).toMatchObject({ state: 'pending', cancelled: false, cancelRequests: [forger.peerId] })
    expect(h.service.coordinator.activeCount).toBe(1)
  })
})

describe('TaskService: list, heartbeat, presence', () => {
  it('lists newest first, by state, at most `limit`', async () => {
    const h = await harness()
    const a = await h.service.taskSubmit({ agent: 'echo' })
    const b = await h.service.taskSubmit({ agent: 'echo' })
    await h.service.taskCancel(a.taskId)
    expect((await h.service.taskList({})).map(s => s.taskId)).toEqual([b.taskId, a.taskId])
    expect((await h.service.taskList({ state: 'cancelled' })).map(s => s.taskId)).toEqual([a.taskId])
    expect((await h.service.taskList({ limit: 1 })).map(s => s.taskId)).toEqual([b.taskId])
  })

  it('advertises why it takes no work', async () => {
    const paused = await harness({ paused: 'on battery' })
    expect(paused.service.work().labels).toEqual({ [PAUSED_LABEL]: 'on battery' })
    const working = await harness({ paused: undefined })
    expect(working.service.work()).toMatchObject({ slots: 1, running: 0, queued: 0, agents: ['echo', 'sleep'], labels: {} })
  })

  it('a peer declared dead loses its task links; a suspect one keeps them', async () => {
    const h = await harness()
    const peer = await addPeer(h)
    h.service.onPeerState(peer.peerId, 'suspect')
    expect(h.wire.dropped).toEqual([])
    h.service.onPeerState(peer.peerId, 'dead')
    expect(h.wire.dropped).toEqual([peer.peerId])
  })
})
