/**
 * The reputation book: this daemon's reputation of each peer, kept in memory, saved to
 * LevelDB a moment after it changes, and reported when a peer enters quarantine. The math
 * is in `score.ts`; this is its thin shell.
 */
import { logger } from '@libp2p/logger'
import { repKey, repPrefix } from '../state/store/keys.js'
import { scanPrefix, type PairedDb } from '../state/store/db.js'
import {
  applyBehaviour, applyOutcome, history, newReputation, reputationFromJSON, reputationPolicy, score, status,
  type Behaviour, type Outcome, type ReputationEvent, type ReputationPolicy, type ReputationState, type ReputationStatus
} from './score.js'

const log = logger('paired:reputation')
/** changed states are saved this long after the first change */
const SAVE_DELAY_MS = 1_000

export interface ReputationView {
  score: number
  status: ReputationStatus
}

export interface ReputationBookInit {
  db: PairedDb
  teamId: string
  policy?: Partial<ReputationPolicy>
  now?: () => number
  /** a peer's status changed (e.g. to `quarantined`) */
  onStatus?: (peer: string, from: ReputationStatus, to: ReputationStatus, view: ReputationView) => void
}

export class ReputationBook {
  private readonly states = new Map<string, ReputationState>()
  private readonly dirty = new Set<string>()
  private saveTimer?: ReturnType<typeof setTimeout>
  readonly policy: ReputationPolicy
  private readonly now: () => number

  constructor (private readonly init: ReputationBookInit) {
    this.policy = reputationPolicy(init.policy)
    this.now = init.now ?? Date.now
  }

  async start (): Promise<void> {
    for (const [key, value] of await scanPrefix<unknown>(this.init.db, repPrefix(this.init.teamId))) {
      try {
        this.states.set(key.slice(repPrefix(this.init.teamId).length), reputationFromJSON(value))
      } catch (err) {
        log('dropping a stored reputation: %s', (err as Error).message)
      }
    }
  }

  async stop (): Promise<void> {
    clearTimeout(this.saveTimer)
    await this.save()
  }

  private state (peer: string): ReputationState {
    return this.states.get(peer) ?? newReputation(this.now())
  }

  view (peer: string): ReputationView {
    const s = this.state(peer)
    const now = this.now()
    return { score: score(s, now, this.policy), status: status(s, now, this.policy) }
  }

  history (peer: string): ReputationEvent[] {
    return history(this.state(peer))
  }

  outcome (peer: string, outcome: Outcome): void {
    this.change(peer, s => applyOutcome(s, outcome, this.now(), this.policy))
  }

  behaviour (peer: string, event: Behaviour): void {
    this.change(peer, s => applyBehaviour(s, event, this.now(), this.policy))
  }

  private change (peer: string, fn: (s: ReputationState) => ReputationState): void {
    const before = this.view(peer)
    this.states.set(peer, fn(this.state(peer)))
    const after = this.view(peer)
    if (after.status !== before.status) this.init.onStatus?.(peer, before.status, after.status, after)
    this.dirty.add(peer)
    this.saveTimer ??= setTimeout(() => { this.saveTimer = undefined; void this.save() }, SAVE_DELAY_MS)
    this.saveTimer.unref?.()
  }

  private async save (): Promise<void> {
    if (this.dirty.size === 0) return
    const peers = [...this.dirty]
    this.dirty.clear()
    await this.init.db.batch(peers.map(peer => ({ type: 'put' as const, key: repKey(this.init.teamId, peer), value: this.states.get(peer) })))
      .catch((err: Error) => { log('saving reputations failed: %s', err.message) })
  }
}
