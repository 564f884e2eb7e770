/**
 * The placement's view of the team: one `Candidate` per member this daemon could place
 * work on. Itself, from its own counters; every other member that has sent a heartbeat,
 * from its capacity, presence state, reputation and round-trip time. Pure.
 */
import type { Capacity, PeerState } from '../presence/index.js'
import type { ReputationView } from '../reputation/index.js'
import type { Candidate } from './placement.js'

/** a label a daemon advertises while it takes no work, with the reason */
export const PAUSED_LABEL = 'paired.paused'

/** what this daemon advertises in its heartbeat */
export interface OwnWork {
  slots: number
  running: number
  queued: number
  agents: string[]
  labels: Record<string, string>
}

export interface TeamView {
  selfId: string
  /** current members' peer ids (this daemon included) */
  members: string[]
  /** this daemon's own work: counted here, not heard in a heartbeat */
  self: OwnWork
  capacityOf: (peer: string) => Capacity | undefined
  peerState: (peer: string) => PeerState | undefined
  reputationOf: (peer: string) => Pick<ReputationView, 'score' | 'status'>
  rttOf: (peer: string) => number | null
}

/** the candidates for placement: this daemon, and the members with a known capacity and state */
export function candidatesOf (view: TeamView): Candidate[] {
  const out: Candidate[] = []
  for (const peer of view.members) {
    const self = peer === view.selfId
    const cap = view.capacityOf(peer)
    if (!self && cap === undefined) continue
    const state = self ? 'alive' : view.peerState(peer)
    if (state === undefined) continue
    const labels = self ? view.self.labels : cap?.labels ?? {}
    const paused = labels[PAUSED_LABEL]
    out.push({
      peerId: peer,
      self,
      state,
      agents: self ? view.self.agents : cap?.agents ?? [],
      labels,
      cores: cap?.cores ?? 1,
      load1: cap?.load1 ?? 0,
      memFreeMb: cap?.memFreeMb ?? 0,
      slots: self ? view.self.slots : cap?.slots ?? 0,
      running: self ? view.self.running : cap?.running ?? 0,
      queued: self ? view.self.queued : cap?.queued ?? 0,
      inflight: 0,
      reputation: self ? { score: 1, status: 'trusted' } : view.reputationOf(peer),
      rttMs: self ? 0 : view.rttOf(peer),
      ...(paused === undefined ? {} : { paused })
    })
  }
  return out
}
