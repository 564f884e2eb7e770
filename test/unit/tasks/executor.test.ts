/**
 * The executor's state machine on a manual clock, with fake agents (runs the test ends), a
 * fake store (records the drafts written) and a fake report edge: accept, queue, decline;
 * leases started, renewed and replicated on the clock; results written before `done`;
 * cancels of queued and running attempts, and a cancel racing a finish; stop.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { OpBatch, OpDraft, TaskLeaseBody, TaskResultBody } from '../../../src/state/ops/index.js'
import type { Agent, AgentOutcome, AgentRunOptions } from '../../../src/tasks/agents/index.js'
import { QUEUE_PER_SLOT } from '../../../src/tasks/constants.js'
import { Executor, type ExecutorInit } from '../../../src/tasks/executor.js'
import type { OfferTask, TaskMessage } from '../../../src/tasks/messages.js'
import { hashJson, verifyReceipt } from '../../../src/tasks/receipt.js'
import { ManualClock } from '../../helpers/manual-clock.js'
import { makePeers, type TestPeer } from '../team/helpers.js'

const LEASE_MS = 3_000
let self: TestPeer

beforeAll(async () => { [self] = await makePeers(1) })

/** one run of a fake agent, ended by the test */
interface Run {
  options: AgentRunOptions
  end: (outcome?: Partial<AgentOutcome>) => void
}

/** an agent whose runs end when the test says; an abort ends a run with exit 130 unless `deaf` */
function fakeAgent (name: string, runs: Run[], options: { slots?: number, deaf?: boolean } = {}): Agent {
  return {
    name,
    kind: 'builtin',
    timeoutMs: 60_000,
    ...(options.slots === undefined ? {} : { slots: options.slots }),
    run: async run => await new Promise<AgentOutcome>(resolve => {
      const end = (outcome: Partial<AgentOutcome> = {}): void => {
        resolve({ exitCode: 0, output: 'ok', outputHash: hashJson('ok'), durationMs: 1, ...outcome })
      }
      if (options.deaf !== true) {
        run.signal?.addEventListener('abort', () => { end({ exitCode: 130, output: '', outputHash: hashJson(''), reason: 'cancelled', error: 'cancelled' }) })
      }
      runs.push({ options: run, end })
    })
  }
}

interface Rig {
  executor: Executor
  clock: ManualClock
  runs: Run[]
  /** messages reported, with the coordinator each went to */
  reports: Array<{ to: string, msg: TaskMessage }>
  written: OpDraft[]
  /** a write fails while this is set */
  failWrites: boolean
  /** durable writes made (each a group commit) */
  writes: number
  /** while set, a write waits for it to resolve */
  hold?: Promise<void>
  /** writes share their group commit with another writer: each gets back part of a batch */
  shared?: boolean
  paused?: string
  flush: () => Promise<void>
}

function rig (options: { slots?: number, agents?: Agent[], init?: Partial<ExecutorInit> } = {}): Rig {
  const runs: Run[] = []
  const agents = new Map((options.agents ?? [fakeAgent('echo', runs)]).map(a => [a.name, a]))
  const r: Rig = {
    clock: new ManualClock(),
    runs,
    reports: [],
    written: [],
    failWrites: false,
    writes: 0,
    // microtasks, and the turns of the event loop the outbox waits for (setImmediate)
    flush: async () => {
      for (let turn = 0; turn < 3; turn++) {
        for (let i = 0; i < 50; i++) await Promise.resolve()
        await new Promise(resolve => { setImmediate(resolve) })
      }
    },
    executor: undefined as unknown as Executor
  }
  r.executor = new Executor({
    selfId: self.peerId,
    teamId: 'team-1',
    signer: self.signer,
    agents: { get: name => agents.get(name), has: name => agents.has(name), names: () => [...agents.keys()].sort() },
    slots: () => options.slots ?? 1,
    paused: () => r.paused,
    write: async drafts => {
      r.writes++
      if (r.hold !== undefined) await r.hold
      if (r.failWrites) throw new Error('disk full')
      const fromSeq = r.written.length + 1
      r.written.push(...drafts)
      // one batch of exactly these ops, unless the test shares the group commit with another writer
      return [{ author: self.peerId, fromSeq, toSeq: r.written.length + (r.shared ? 1 : 0), ops: drafts, sig: 'sig' }] as unknown as OpBatch[]
    },
    report: (to, msg) => { r.reports.push({ to, msg }) },
    clock: r.clock,
    ...options.init
  })
  r.executor.start(LEASE_MS)
  return r
}

/** attempt `attempt` of `taskId`, coordinated by `coordinator` */
function offerOf (taskId: string, over: Partial<OfferTask> = {}): OfferTask {
  return { taskId, attempt: 1, agent: 'echo', input: { n: 1 }, priority: 'normal', leaseMs: LEASE_MS, coordinator: 'c1', ...over }
}

const sent = (r: Rig, t?: TaskMessage['t']): string[] => r.reports.filter(x => t === undefined || x.msg.t === t).map(x => {
  const m = x.msg as { t: string, taskId?: string, attempt?: number }
  return `${x.to} ${m.t} ${m.taskId ?? ''}#${m.attempt ?? ''}`
})
const drafts = (r: Rig): string[] => r.written.map(d => `${d.kind} ${(d.body as { taskId: string }).taskId}#${(d.body as { attempt: number }).attempt}`)

describe('offers', () => {
  it('runs up to its slots, queues one more per slot, and declines beyond that with the reason', async () => {
    const r = rig({ slots: 1 })
    expect(r.executor.offer(offerOf('a'))).toMatchObject({ accepted: true, startedWall: r.clock.now() })
    expect(r.executor.offer(offerOf('b'))).toStrictEqual({ accepted: true })
    expect(QUEUE_PER_SLOT).toBe(1)
    expect(r.executor.offer(offerOf('c'))).toStrictEqual({ accepted: false, reason: 'busy: 1/1 slots running, 1 queued' })
    expect([r.executor.runningCount, r.executor.queuedCount]).toStrictEqual([1, 1])
    expect(r.runs).toHaveLength(1)
    // the same attempt offered again (a retried request) is the one already held: not run twice
    expect(r.executor.offer(offerOf('a'))).toMatchObject({ accepted: true })
    expect(r.executor.offer(offerOf('b'))).toStrictEqual({ accepted: true })
    expect(r.runs).toHaveLength(1)
    // the slot frees: the queued one starts
    r.runs[0].end()
    await r.flush()
    expect(r.runs).toHaveLength(2)
    expect(r.runs[1].options.input).toStrictEqual({ n: 1 })
    // a started within its offer (the reply carries startedWall); b later, so it says so
    expect(sent(r, 'started')).toStrictEqual(['c1 started b#1'])
  })

  it('declines an agent it does not serve, and all work while paused or stopping', async () => {
    const r = rig()
    expect(r.executor.offer(offerOf('a', { agent: 'lint' }))).toMatchObject({ accepted: false, reason: expect.stringMatching(/no agent "lint" here/) as unknown })
    r.paused = 'on battery'
    expect(r.executor.offer(offerOf('a'))).toStrictEqual({ accepted: false, reason: 'not taking work: on battery' })
    r.paused = undefined
    await r.executor.stop()
    expect(r.executor.offer(offerOf('a'))).toStrictEqual({ accepted: false, reason: 'the daemon is stopping' })
    expect(r.runs).toHaveLength(0)
  })

  it('with the slot full, a critical task starts before the normal ones queued before it', async () => {
    const r = rig({ slots: 2 })
    r.executor.offer(offerOf('run1'))
    r.executor.offer(offerOf('run2'))
    r.executor.offer(offerOf('normal'))
    r.executor.offer(offerOf('critical', { priority: 'critical' }))
    r.runs[0].end()
    await r.flush()
    expect(sent(r, 'started').at(-1)).toBe('c1 started critical#1')
  })

  it('an agent\'s own slot cap holds beside the daemon\'s slots', async () => {
    const runs: Run[] = []
    const r = rig({ slots: 3, agents: [fakeAgent('echo', runs, { slots: 1 }), fakeAgent('lint', runs)] })
    r.executor.offer(offerOf('e1'))
    r.executor.offer(offerOf('e2'))
    r.executor.offer(offerOf('l1', { agent: 'lint' }))
    expect(runs.map(x => x.options.input)).toHaveLength(2)
    // both started within their offers: the replies say so, no `started` message
    expect(sent(r, 'started')).toStrictEqual([])
  })
})

describe('leases on the clock', () => {
  it('records a lease when it starts, renews it to the coordinator every third, and replicates it every half', async () => {
    const r = rig()
    const start = r.clock.now()
    r.executor.offer(offerOf('a'))
    await r.flush()
    expect(r.written.map(d => d.body)).toStrictEqual([{ taskId: 'a', attempt: 1, expiresWall: start + LEASE_MS, startedWall: start }])
    r.clock.advance(LEASE_MS / 3)
    expect(r.reports.at(-1)).toStrictEqual({ to: 'c1', msg: { t: 'renew', taskId: 'a', attempt: 1, expiresWall: start + LEASE_MS / 3 + LEASE_MS } })
    expect(r.written).toHaveLength(1) // a third is less than half: not replicated yet
    r.clock.advance(LEASE_MS / 3)
    await r.flush()
    const leases = r.written.filter(d => d.kind === 'task:lease').map(d => (d.body as TaskLeaseBody).expiresWall)
    expect(leases).toStrictEqual([start + LEASE_MS, start + 2 * LEASE_MS / 3 + LEASE_MS])
    expect(sent(r, 'renew')).toHaveLength(2)
    // nothing runs: nothing is renewed
    r.runs[0].end()
    await r.flush()
    const before = r.reports.length
    r.clock.advance(5 * LEASE_MS)
    expect(r.reports.slice(before).filter(x => x.msg.t === 'renew')).toStrictEqual([])
  })
})

describe('an idle executor arms no timer', () => {
  it('renews on a timer only while an attempt runs or its result is not durable yet', async () => {
    const r = rig()
    expect(r.clock.pending).toBe(0)
    r.executor.offer(offerOf('a'))
    await r.flush()
    expect(r.clock.pending).toBe(1)
    let release = (): void => {}
    r.hold = new Promise(resolve => { release = resolve })
    r.runs[0].end()
    await r.flush()
    // the result waits for its write: the lease is still renewed to the coordinator
    r.clock.advance(LEASE_MS / 3)
    expect(sent(r, 'renew')).toHaveLength(1)
    expect(r.clock.pending).toBe(1)
    r.hold = undefined
    release()
    await r.flush()
    r.clock.advance(LEASE_MS / 3)
    expect(r.clock.pending).toBe(0)
    // and the next attempt arms it again
    r.executor.offer(offerOf('b'))
    await r.flush()
    r.clock.advance(LEASE_MS / 3)
    expect(r.reports.at(-1)?.msg).toMatchObject({ t: 'renew', taskId: 'b' })
  })
})

describe('finishing', () => {
  it('frees the slot, tells the coordinator, writes the signed result, and only then reports done with the batch', async () => {
    const r = rig()
    r.executor.offer(offerOf('a', { attempt: 2 }))
    r.clock.advance(100)
    r.runs[0].end({ output: { answer: 42 }, outputHash: hashJson({ answer: 42 }) })
    await r.flush()
    expect(r.executor.runningCount).toBe(0)
    expect(sent(r)).toStrictEqual(['c1 finished a#2', 'c1 done #'])
    expect(drafts(r)).toStrictEqual(['task:lease a#2', 'task:result a#2'])
    const result = r.written[1].body as TaskResultBody
    expect(result).toMatchObject({ exitCode: 0, output: { answer: 42 } })
    expect(verifyReceipt(result.receipt, { executor: self.peerId, taskId: 'a', attempt: 2 }).ok).toBe(true)
    expect(r.reports.at(-1)?.msg).toMatchObject({ t: 'done', batch: { author: self.peerId } })
  })

  it('a result it could not write durably is never reported done (the lease lapses instead)', async () => {
    const r = rig()
    r.executor.offer(offerOf('a'))
    await r.flush()
    r.failWrites = true
    r.runs[0].end()
    await r.flush()
    expect(sent(r, 'done')).toStrictEqual([])
    expect(r.executor.runningCount).toBe(0)
  })

  it('its own coordinator hears no finished or done message (it reads the store)', async () => {
    const r = rig()
    r.executor.offer(offerOf('a', { coordinator: self.peerId }))
    r.runs[0].end()
    await r.flush()
    expect(sent(r)).toStrictEqual([])
    expect(drafts(r)).toStrictEqual(['task:lease a#1', 'task:result a#1'])
  })
})

describe('results batched', () => {
  it('attempts that end in one turn share one write with their leases, one finishes message and one done per coordinator', async () => {
    const r = rig({ slots: 3 })
    r.executor.offer(offerOf('a'))
    r.executor.offer(offerOf('b'))
    r.executor.offer(offerOf('c', { coordinator: 'c2' }))
    for (const run of r.runs) run.end()
    await r.flush()
    expect(r.writes).toBe(1)
    expect(drafts(r)).toStrictEqual(['task:lease a#1', 'task:lease b#1', 'task:lease c#1', 'task:result a#1', 'task:result b#1', 'task:result c#1'])
    for (const d of r.written.filter(d => d.kind === 'task:result')) {
      const body = d.body as TaskResultBody
      expect(verifyReceipt(body.receipt, { executor: self.peerId, taskId: body.taskId, attempt: 1 }).ok).toBe(true)
    }
    expect(r.reports.map(x => `${x.to} ${x.msg.t}`)).toStrictEqual(['c1 finishes', 'c2 finished', 'c1 done', 'c2 done'])
    expect(r.reports[0].msg).toStrictEqual({ t: 'finishes', tasks: [{ taskId: 'a', attempt: 1 }, { taskId: 'b', attempt: 1 }], others: 0 })
    // one signed batch, the same for both coordinators
    expect(r.reports[2].msg).toStrictEqual(r.reports[3].msg)
  })

  it('what ends while a write is under way goes in the next write, after it, and until durable its attempt is renewed to its coordinator', async () => {
    const r = rig({ slots: 3 })
    r.executor.offer(offerOf('a'))
    r.executor.offer(offerOf('b'))
    r.executor.offer(offerOf('c'))
    let release = (): void => {}
    r.hold = new Promise(resolve => { release = resolve })
    r.runs[0].end()
    await r.flush()
    expect(r.writes).toBe(1) // the three leases and a's result, held
    r.runs[1].end()
    r.runs[2].end()
    await r.flush()
    expect(r.writes).toBe(1) // b's and c's results wait: the executor's writes never share a group commit
    expect(sent(r, 'done')).toStrictEqual([])
    // nothing runs, but three results are not durable yet: their leases still hold
    const before = r.reports.length
    r.clock.advance(LEASE_MS / 3)
    expect(r.reports.slice(before).map(x => `${x.msg.t} ${(x.msg as { taskId: string }).taskId}`)).toStrictEqual(['renew a', 'renew b', 'renew c'])
    r.hold = undefined
    release()
    await r.flush()
    expect(r.writes).toBe(2)
    expect(drafts(r)).toStrictEqual(['task:lease a#1', 'task:lease b#1', 'task:lease c#1', 'task:result a#1', 'task:result b#1', 'task:result c#1'])
    expect(sent(r, 'done')).toStrictEqual(['c1 done #', 'c1 done #'])
    // durable: no more renewals
    const after = r.reports.length
    r.clock.advance(LEASE_MS)
    expect(r.reports.slice(after)).toStrictEqual([])
  })

  it('a write that comes back as part of a shared batch is not sent as done (no one could verify it): gossip brings it', async () => {
    const r = rig()
    r.shared = true
    r.executor.offer(offerOf('a'))
    r.runs[0].end()
    await r.flush()
    expect(drafts(r)).toStrictEqual(['task:lease a#1', 'task:result a#1'])
    expect(sent(r)).toStrictEqual(['c1 finished a#1'])
  })

  it('a long task\'s lease is written without waiting for its result', async () => {
    const r = rig({ slots: 2 })
    r.executor.offer(offerOf('long'))
    await r.flush()
    expect(drafts(r)).toStrictEqual(['task:lease long#1'])
    r.executor.offer(offerOf('short'))
    r.runs[1].end()
    await r.flush()
    expect(drafts(r)).toStrictEqual(['task:lease long#1', 'task:lease short#1', 'task:result short#1'])
    expect(r.executor.runningCount).toBe(1)
  })
})

describe('cancel', () => {
  it('a queued attempt ends at once with exit 130, written as cancelled', async () => {
    const r = rig()
    r.executor.offer(offerOf('a'))
    r.executor.offer(offerOf('b'))
    expect(r.executor.cancel('b')).toBe(true)
    await r.flush()
    expect(r.executor.queuedCount).toBe(0)
    expect(r.written.find(d => d.kind === 'task:result')?.body).toMatchObject({ taskId: 'b', exitCode: 130, reason: 'cancelled' })
    expect(r.runs).toHaveLength(1)
  })

  it('a running attempt is aborted; only its coordinator may cancel it by message', async () => {
    const r = rig()
    r.executor.offer(offerOf('a'))
    expect(r.executor.cancel('a', 'someone-else')).toBe(false)
    await r.flush()
    expect(r.executor.runningCount).toBe(1)
    expect(r.executor.cancel('a', 'c1')).toBe(true)
    await r.flush()
    expect(r.executor.runningCount).toBe(0)
    expect(r.written.find(d => d.kind === 'task:result')?.body).toMatchObject({ taskId: 'a', exitCode: 130, reason: 'cancelled' })
  })

  it('a cancel racing a finish: once the agent has finished, the cancel finds nothing and the success is written', async () => {
    const r = rig()
    r.executor.offer(offerOf('a'))
    r.runs[0].end()
    expect(r.executor.cancel('a')).toBe(true) // still running: the abort comes after the agent's end
    await r.flush()
    expect(r.executor.cancel('a')).toBe(false)
    const results = r.written.filter(d => d.kind === 'task:result').map(d => (d.body as TaskResultBody).exitCode)
    expect(results).toStrictEqual([0])
  })
})

describe('stop', () => {
  it('aborts what runs and waits for it to end', async () => {
    const r = rig()
    r.executor.offer(offerOf('a'))
    await r.executor.stop()
    expect(r.executor.runningCount).toBe(0)
  })

  it('gives up waiting for an agent that ignores the abort after 3 s on the clock', async () => {
    const runs: Run[] = []
    const r = rig({ agents: [fakeAgent('echo', runs, { deaf: true })] })
    r.executor.offer(offerOf('a'))
    let stopped = false
    const stopping = r.executor.stop().then(() => { stopped = true })
    r.clock.advance(2_999)
    await r.flush()
    expect(stopped).toBe(false)
    r.clock.advance(1)
    await stopping
    expect(stopped).toBe(true)
    expect(r.executor.runningCount).toBe(1)
  })
})
