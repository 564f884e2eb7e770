/**
 * A coordinator wired to fakes, for its state-machine tests: a manual clock, task links that
 * record offers (each `offers` message's attempts one by one) and cancels and answer when the test says, a local executor, a presence
 * view, a reputation book, and an in-memory store that applies the facts the coordinator
 * writes with the CRDT's own functions and hands the record back through `observe()`, as
 * the replicated store does. No network, no wall-clock timers.
 */
import type { PeerState } from '../../../src/presence/index.js'
import {
  taskAdopt, taskCancel, taskFail, taskLease, taskReplicas, taskResult, taskRetryTo, type TaskRecord, type TaskResult
} from '../../../src/state/crdt/index.js'
import type { OpBatch, OpDraft } from '../../../src/state/ops/index.js'
import type { Signer } from '../../../src/team/index.js'
import { Coordinator, type CoordinatorInit } from '../../../src/tasks/coordinator.js'
import type { OfferTask, TaskMessage } from '../../../src/tasks/messages.js'
import type { OfferAnswer } from '../../../src/tasks/offer.js'
import type { Candidate } from '../../../src/tasks/placement.js'
import { ManualClock } from '../../helpers/manual-clock.js'
import { rng } from '../../helpers/rng.js'

export const LEASE_MS = 3_000

/** an offer sent over the links, waiting for the test to answer it */
export interface SentOffer {
  peer: string
  task: OfferTask
  reply: (answer: Partial<OfferAnswer> & { accepted: boolean }) => void
  fail: (reason: string) => void
}

export interface Harness {
  coordinator: Coordinator
  clock: ManualClock
  selfId: string
  /** offers to remote executors, in order */
  offers: SentOffer[]
  /** the `offers` messages sent: to whom, with how many attempts */
  batches: Array<{ peer: string, count: number }>
  /** messages sent with `links.send` (cancels) */
  sent: Array<{ peer: string, msg: TaskMessage }>
  /** offers to this daemon's own executor, and its cancels */
  localOffers: OfferTask[]
  localCancels: string[]
  /** every draft the coordinator wrote, in order */
  written: OpDraft[]
  timeouts: string[]
  /** batches handed to the store by `done` messages */
  ingested: unknown[]
  peerStates: Map<string, PeerState>
  /** the store's records */
  records: Map<string, TaskRecord>
  /** the executors the candidates list shows (slots each), this daemon not among them unless added */
  executors: Map<string, number>
  /** what the local executor answers */
  localAnswer: OfferAnswer
  /** applies `change` to the stored record of `taskId` and delivers it to the coordinator */
  change: (taskId: string, change: (r: TaskRecord) => TaskRecord) => TaskRecord
  /** a result of `attempt` by `executor` arrives in the store */
  result: (taskId: string, executor: string, attempt: number, exitCode: number, more?: Partial<TaskResult>) => TaskRecord
  /** lets promises and queued microtasks (the placement pass, store deliveries) run */
  flush: () => Promise<void>
}

export interface HarnessOptions {
  signer: Signer
  executors?: Record<string, number>
  states?: Record<string, PeerState>
  /** live members for adoption; default: this daemon, the executors and every peer in `states` not dead or left */
  members?: string[]
  open?: TaskRecord[]
  init?: Partial<CoordinatorInit>
}


export function harness (options: HarnessOptions): Harness {
  const selfId = options.signer.peerId
  const clock = new ManualClock()
  const peerStates = new Map<string, PeerState>(Object.entries(options.states ?? {}))
  const executors = new Map<string, number>(Object.entries(options.executors ?? {}))
  for (const peer of executors.keys()) if (!peerStates.has(peer)) peerStates.set(peer, 'alive')
  const records = new Map<string, TaskRecord>()
  for (const r of options.open ?? []) records.set(r.taskId, r)
  const h: Harness = {
    clock,
    selfId,
    offers: [],
    batches: [],
    sent: [],
    localOffers: [],
    localCancels: [],
    written: [],
    timeouts: [],
    ingested: [],
    peerStates,
    records,
    executors,
    localAnswer: { accepted: true },
    change: (taskId, change) => {
      const after = change(records.get(taskId) as TaskRecord)
      records.set(taskId, after)
      h.coordinator.observe(after)
      return after
    },
    result: (taskId, executor, attempt, exitCode, more = {}) => h.change(taskId, r => taskResult(r, {
      executor, attempt, exitCode, outputHash: `out-${exitCode}`, hlc: { wall: clock.now(), logical: 0, node: executor }, ...more
    })),
    flush: async () => { for (let i = 0; i < 50; i++) await Promise.resolve() },
    coordinator: undefined as unknown as Coordinator
  }
  const apply = (draft: OpDraft): void => {
    const body = draft.body as { taskId: string, attempt?: number, replicas?: number, epoch?: number, expiresWall?: number }
    const r = records.get(body.taskId)
    if (r === undefined) return
    let after: TaskRecord
    switch (draft.kind) {
      case 'task:retry': after = taskRetryTo(r, body.attempt as number); break
      case 'task:fail': after = taskFail(r, selfId); break
      case 'task:cancel': after = taskCancel(r, selfId); break
      case 'task:replicas': after = taskReplicas(r, body.replicas as number, selfId); break
      case 'task:adopt': after = taskAdopt(r, { peer: selfId, epoch: body.epoch as number }); break
      case 'task:lease': after = taskLease(r, { executor: selfId, attempt: body.attempt as number, expiresWall: body.expiresWall as number }); break
      default: throw new Error(`the coordinator wrote an unexpected ${draft.kind}`)
    }
    records.set(body.taskId, after)
    // the store delivers a committed change after the write resolves
    queueMicrotask(() => { h.coordinator.observe(after) })
  }
  const candidates = (): Candidate[] => [...executors].map(([peerId, slots]) => ({
    peerId,
    self: peerId === selfId,
    state: peerId === selfId ? 'alive' : (peerStates.get(peerId) ?? 'alive'),
    agents: ['echo'],
    labels: {},
    cores: 4,
    load1: 0,
    memFreeMb: 4096,
    slots,
    running: 0,
    queued: 0,
    inflight: 0,
    reputation: { score: 0.5, status: 'trusted' },
    rttMs: 1
  }))
  const init: CoordinatorInit = {
    selfId,
    signer: options.signer,
    leaseMs: LEASE_MS,
    clock,
    random: rng(7), // seeded, so placement's choices repeat
    executor: {
      offer: task => { h.localOffers.push(task); return h.localAnswer },
      cancel: taskId => { h.localCancels.push(taskId) }
    },
    links: {
      id: (() => { let n = 0; return () => n++ })(),
      send: async (peer, msg) => { h.sent.push({ peer, msg }) },
      request: async (peer, msg) => await new Promise((resolve, reject) => {
        if (msg.t !== 'offers') throw new Error(`unexpected request ${msg.t}`)
        // one `offers` per executor per pass: its reply goes back once the test has answered every attempt in it
        const answers: Array<Partial<OfferAnswer> & { accepted: boolean }> = []
        let left = msg.tasks.length
        h.batches.push({ peer, count: msg.tasks.length })
        msg.tasks.forEach((task, i) => {
          h.offers.push({
            peer,
            task,
            reply: answer => {
              answers[i] = answer
              if (--left > 0) return
              const others = answers.find(a => a.others !== undefined)?.others
              resolve({
                t: 'reply',
                id: msg.id,
                answers: answers.map(a => ({ accepted: a.accepted, ...(a.reason === undefined ? {} : { reason: a.reason }), ...(a.startedWall === undefined ? {} : { startedWall: a.startedWall }) })),
                ...(others === undefined ? {} : { others })
              })
            },
            fail: reason => { reject(new Error(reason)) }
          })
        })
      })
    },
    candidates,
    capacityStamp: () => 1,
    peerState: peer => peerStates.get(peer),
    liveMembers: () => options.members ?? [selfId, ...new Set([...executors.keys(), ...peerStates.keys()])].filter(p => p === selfId || (peerStates.get(p) !== 'dead' && peerStates.get(p) !== 'left')),
    reputation: {
      view: () => ({ score: 0.5, status: 'trusted' }),
      outcome: (peer, outcome) => { if (outcome === 'timeout') h.timeouts.push(peer) }
    },
    write: async drafts => {
      h.written.push(...drafts)
      for (const d of drafts) apply(d)
      return [] as OpBatch[]
    },
    ingest: async batch => { h.ingested.push(batch) },
    openTasks: async function * () { yield * (options.open ?? []) },
    ...options.init
  }
  h.coordinator = new Coordinator(init)
  return h
}

/** the kinds (and attempts, epochs) of the drafts written, for compact asserts */
export function kinds (drafts: OpDraft[]): string[] {
  return drafts.map(d => {
    const b = d.body as { attempt?: number, epoch?: number, replicas?: number }
    const n = b.attempt ?? b.epoch ?? b.replicas
    return n === undefined ? d.kind : `${d.kind} ${n}`
  })
}
