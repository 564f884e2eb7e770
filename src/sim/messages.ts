/**
 * What simulated nodes send each other, and the interface through which a node reaches the
 * outside (the simulator is the only implementation: it is the shell of the pure node).
 */
import type { LwwEntry } from '../state/crdt/lww-map.js'
import type { Update } from './membership.js'

export interface KvUpdate { key: string, entry: LwwEntry<number> }

export type Message =
  | { kind: 'ping', seq: number, updates: Update[] }
  | { kind: 'ack', seq: number, subject: number, updates: Update[] }
  | { kind: 'ping-req', seq: number, target: number, updates: Update[] }
  | { kind: 'gossip', updates: Update[], kv: KvUpdate[] }
  | { kind: 'join' }
  | { kind: 'sync', reply: boolean, entries: Array<[number, number]>, kv: KvUpdate[] }

export type TimerKind = 'probe' | 'probe-timeout' | 'gossip' | 'sync' | 'fd' | 'join-retry'

/** what a node asks of its shell, and what it tells it for the figures */
export interface NodeIo {
  send: (to: number, msg: Message) => void
  /**
   * fire `kind` at virtual time `at` (the shell may fire it late: a slow node); `afterInput`:
   * only after the messages already waiting, as `setImmediate` runs after Node's poll phase
   */
  timer: (at: number, kind: TimerKind, token: number, afterInput?: boolean) => void
  /** a view entry changed (for the convergence figures) */
  viewChanged: (member: number, oldKey: number, newKey: number) => void
  /** this node's own probe of `member` failed, so it raised a suspicion */
  accused: (member: number) => void
  /** this node's own suspicion timer expired: it declared `member` dead; `originators` raised the suspicion */
  declared: (member: number, originators: number[]) => void
  /** this node had to refute a suspicion or death of itself */
  refuted: () => void
}
