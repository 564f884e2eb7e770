/**
 * The coordinator's offer loop: one placement pass over the pending tasks (priority lanes,
 * first come first served), offers to the chosen executors (this daemon's own executor
 * directly, others over the task links), and what each answer does to the task's slots.
 */
import type { Clock } from '../model/clock.js'
import { taskDrafts } from '../state/ops/index.js'
import { OFFER_TIMEOUT_MS } from './constants.js'
import { MAX_OFFERS_PER_MESSAGE } from './messages.js'
import type { CoordinatorInit } from './coordinator-init.js'
import type { ExecutorLoad } from './executor-load.js'
import { answersOf, offerTasks, type OfferAnswer } from './offer.js'
import { place, type Placement } from './placement.js'
import type { TaskBook } from './task-book.js'
import { placementRequest, placementShape, wanted, type Tracked } from './tracked.js'

/**
 * how long (ms) a task waits for a member that is not ahead of its share before one that is
 * takes it: longer than a short task's round trip to a peer (so a burst of them still
 * spreads), short enough that a slot does not stand idle while work waits
 */
export const MAX_HOLD_MS = 500

/** a scan of the pending queue gives up after this many tasks in a row that cannot be placed */
const MAX_UNPLACEABLE_SCAN = 64
/** input bytes in one `offers` message, well under the 4 MiB of a task message */
const MAX_OFFER_BYTES = 1024 * 1024

/** an attempt offered in this pass, not sent yet */
interface Offered {
  t: Tracked
  attempt: number
}

export interface OfferLoopInit {
  init: CoordinatorInit
  clock: Clock
  load: ExecutorLoad
  book: TaskBook
  /** runs a placement pass soon */
  schedule: () => void
}

export class OfferLoop {
  /** this pass's offers by executor: each gets them in one message, their grants in one signing call */
  private outgoing = new Map<string, Offered[]>()

  constructor (private readonly ctx: OfferLoopInit) {}

  /** one placement pass: offers what can be placed now, keeps the rest in order with the reason it waits */
  placePending (): void {
    const { init, clock, load, book } = this.ctx
    const now = clock.now()
    let misses = 0
    const retry: Tracked[] = []
    // tasks that ask for the same thing as one that found no place this pass find none either
    const noPlace = new Map<string, Placement>()
    while (misses < MAX_UNPLACEABLE_SCAN) {
      const t = book.pending.take()
      if (t === undefined) break
      t.inQueue = false
      if (!book.tracked.has(t.taskId) || wanted(t) === 0) continue
      if (t.notBefore > now) { retry.push(t); continue }
      const { spec } = t.record
      const shape = placementShape(t)
      const known = shape === undefined ? undefined : noPlace.get(shape)
      let placement = known ?? place(placementRequest(t.record, t), load.candidates(spec.agent), { random: init.random })
      if (known === undefined && placement.chosen.length === 0 && placement.held.length > 0) {
        // the share rule holds back a member with a free slot only for a while: a task longer
        // than the round trip must not wait for the others' slots (nor queue behind their
        // work) while one stands idle
        t.heldSince ??= now
        if (now - t.heldSince >= MAX_HOLD_MS) {
          placement = place(placementRequest(t.record, t), load.candidates(spec.agent), { random: init.random, ignoreHold: true })
        }
      } else if (known === undefined && placement.chosen.length === 0 && placement.full.length > 0) {
        // every slot is taken: queue it at a peer, to start the moment one of its slots frees
        const ahead = place(placementRequest(t.record, t), load.candidates(spec.agent, true), { random: init.random })
        if (ahead.chosen.length > 0) placement = ahead
      }
      t.placement = placement
      if (placement.chosen.length === 0) {
        if (shape !== undefined) noPlace.set(shape, placement)
        t.waiting = placement.waiting ?? 'no machine can take it now'
        misses++
        retry.push(t)
        continue
      }
      misses = 0
      t.waiting = undefined
      t.heldSince = undefined
      if (init.adaptive === true && t.record.replicas <= 1 && t.slots.size === 0 && !this.trusted(placement.chosen[0])) {
        // an executor that has not earned trust yet: a second machine checks its output
        t.record = { ...t.record, replicas: 2 }
        void book.writeFacts([taskDrafts.replicas(t.taskId, 2)])
      }
      for (const peer of placement.chosen) this.offer(t, peer)
      if (wanted(t) > 0) retry.push(t)
    }
    // back where they were, ahead of what this pass did not reach: first come, first served
    const back = retry.filter(t => !t.inQueue && wanted(t) > 0)
    for (const t of back) t.inQueue = true
    book.pending.pushFront(back)
    this.sendOffers()
  }

  /** stops `taskId` on `peer` (this daemon's executor directly, others by a `cancel` message) */
  sendCancel (peer: string, taskId: string): void {
    const { init } = this.ctx
    if (peer === init.selfId) init.executor.cancel(taskId)
    else init.links.send(peer, { t: 'cancel', taskId }).catch(() => {})
  }

  private trusted (peer: string): boolean {
    const { init } = this.ctx
    if (peer === init.selfId) return true
    const { status } = init.reputation.view(peer)
    return status === 'trusted'
  }

  private offer (t: Tracked, peer: string): void {
    const { init, clock, load } = this.ctx
    const { record } = t
    const attempt = record.attempt
    t.slots.set(peer, { attempt, accepted: false, expiresWall: clock.now() + OFFER_TIMEOUT_MS + init.leaseMs })
    load.count(peer, record.spec.agent, +1)
    if (peer === init.selfId) {
      // this daemon's executor answers at once, so the rest of the pass sees its slots taken
      this.answer(t, peer, attempt, init.executor.offer(offerTasks([record], init.leaseMs, init.signer, peer)[0]))
      return
    }
    const list = this.outgoing.get(peer)
    if (list === undefined) this.outgoing.set(peer, [{ t, attempt }])
    else list.push({ t, attempt })
  }

  /** sends this pass's offers: one message per remote executor (split past the message limits) */
  private sendOffers (): void {
    const all = this.outgoing
    if (all.size === 0) return
    this.outgoing = new Map()
    for (const [peer, offered] of all) {
      for (const part of split(offered)) this.sendTo(peer, part)
    }
  }

  private sendTo (peer: string, offered: Offered[]): void {
    const { init } = this.ctx
    const tasks = offerTasks(offered.map(o => o.t.record), init.leaseMs, init.signer, peer)
    init.links.request(peer, { t: 'offers', id: init.links.id(), tasks }, OFFER_TIMEOUT_MS).then(
      reply => {
        const answers = answersOf(reply, offered.length)
        offered.forEach((o, i) => { this.answer(o.t, peer, o.attempt, answers[i]) })
      },
      (err: Error) => {
        for (const o of offered) this.answer(o.t, peer, o.attempt, { accepted: false, reason: err.message })
      }
    )
  }

  private answer (t: Tracked, peer: string, attempt: number, reply: OfferAnswer): void {
    const { init, clock, load, book } = this.ctx
    if (reply.others !== undefined && peer !== init.selfId) load.noteLoad(peer, reply.others)
    const slot = t.slots.get(peer)
    if (slot === undefined || slot.attempt !== attempt) return
    if (reply.accepted) {
      slot.accepted = true
      slot.expiresWall = (reply.startedWall ?? clock.now()) + init.leaseMs
      return
    }
    t.slots.delete(peer)
    load.release(peer, t.record.spec.agent, slot)
    load.declined(peer)
    t.waiting = `declined by ${peer}: ${reply.reason ?? 'no reason'}`
    book.enqueueIfNeeded(t)
    this.ctx.schedule()
  }
}

/** `offered` in runs that fit one `offers` message: at most `MAX_OFFERS_PER_MESSAGE` attempts and about `MAX_OFFER_BYTES` of input */
function split (offered: Offered[]): Offered[][] {
  const parts: Offered[][] = []
  let part: Offered[] = []
  let bytes = 0
  for (const o of offered) {
    const input = o.t.record.spec.input
    const size = input === null || input === undefined ? 0 : JSON.stringify(input)?.length ?? 0
    if (part.length > 0 && (part.length >= MAX_OFFERS_PER_MESSAGE || bytes + size > MAX_OFFER_BYTES)) {
      parts.push(part)
      part = []
      bytes = 0
    }
    part.push(o)
    bytes += size
  }
  if (part.length > 0) parts.push(part)
  return parts
}
