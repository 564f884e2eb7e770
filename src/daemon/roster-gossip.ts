/**
 * Roster and departure replication for one session. Member certificates and departure
 * records (departures, removals, revocations) travel on the team's roster topic as
 * `{ certs, departures }` and in every hello; each is verified on its own signatures and
 * merged grow-only by `Roster` and `Departures`. This part applies what a merge changed:
 * it stores the roster and the departures, announces and dials members that were added,
 * lets go at once of a peer that no longer counts, and publishes what this daemon learned
 * or signed. Gossip is taken only from peers that passed the hello.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PairedLibp2p } from '../node/create-node.js'
import { rosterTopic } from '../node/constants.js'
import { decodeFrame } from '../protocol/frames.js'
import { rosterGossip } from '../protocol/schemas/gossip.js'
import { departedKey, rosterKey } from '../state/store/keys.js'
import type { PairedDb } from '../state/store/db.js'
import type { DaemonEvent } from '../model/docs.js'
import type { MemberCertificate, Roster, TeamInfo } from '../team/index.js'
import type { Departure, Departures } from './departures.js'
import type { Redialer } from './redialer.js'

// the session's own log: these lines are the session's
const log = logger('paired:session')

/** certificates taken from one gossip message or hello, and sent in one hello */
export const MAX_ROSTER_ENTRIES = 2_000

export interface RosterGossipComponents {
  team: TeamInfo
  roster: Roster
  departures: Departures
  db: PairedDb
  selfId: string
  /** the session's node while it runs */
  node: () => PairedLibp2p | undefined
  redialer: Pick<Redialer, 'want' | 'forget'>
  /** did `peer` prove membership (the hello) on this session's connections? */
  isVerified: (peer: string) => boolean
  /** connected, not yet verified, and still within the hello deadline */
  isPending: (peer: string) => boolean
  isConnected: (peer: string) => boolean
  /**
   * whether this daemon has an address for `peer`: a new member without one is dialed after
   * the redialer's first delay, not at once, since it has this daemon's address from its
   * welcome and is likely dialing it already (a dial without an address only asks the DHT)
   */
  knowsAddress?: (peer: string) => boolean
  /** `peer` no longer counts: forget that it passed the hello */
  unverify: (peer: string) => void
  /** a record merged here takes this daemon's own certificate out of the team */
  onSelfCovered?: () => void
  line: (text: string) => void
  emit: (event: DaemonEvent) => void
}

export class RosterGossip {
  constructor (private readonly components: RosterGossipComponents) {}

  /** validates, subscribes to and handles the roster topic on the session's node */
  listen (node: PairedLibp2p): void {
    const { teamId } = this.components.team
    // gossip is accepted only from a peer that passed the hello, and only when it parses;
    // each certificate and departure inside is then verified on its own signatures
    node.services.pubsub.topicValidators.set(rosterTopic(teamId), (from, msg) => {
      // a member whose hello is still under way may gossip first: ignored, not penalised;
      // a peer past the hello deadline without a certificate is rejected (and scored down)
      if (!this.components.isVerified(from.toString())) return this.components.isPending(from.toString()) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
      try {
        decodeFrame(rosterTopic(teamId), msg.data, rosterGossip)
        return TopicValidatorResult.Accept
      } catch {
        return TopicValidatorResult.Reject
      }
    })
    node.services.pubsub.subscribe(rosterTopic(teamId))
    node.services.pubsub.addEventListener('message', evt => {
      if (evt.detail.topic !== rosterTopic(teamId)) return
      this.onGossip(evt.detail.data)
    })
  }

  /**
   * merges departure records a peer sent (untrusted), and stores them if anything changed;
   * with `spread` (records from a hello, which the rest of the team may not have: a
   * leaver's farewell) also passes the new ones on to the team
   */
  mergeDepartures (values: unknown, options: { spread?: boolean } = {}): void {
    const changed = this.applyDepartures(values)
    if (changed.length === 0) return
    void this.persistDepartures()
    if (options.spread === true && Array.isArray(values)) void this.publishRecords(values.slice(0, MAX_ROSTER_ENTRIES))
  }

  private async publishRecords (records: unknown[]): Promise<void> {
    const node = this.components.node()
    if (node == null) return
    const data = new TextEncoder().encode(JSON.stringify({ certs: [], departures: records }))
    await node.services.pubsub.publish(rosterTopic(this.components.team.teamId), data).catch(err => {
      log('departures publish failed: %s', (err as Error).message)
    })
  }

  /**
   * the hello admitted `cert`: adds it and the roster its holder sent (`certs`, untrusted),
   * then stores and publishes the roster if that changed it, and announces the members that
   * are new here or came back (a rejoiner's newer certificate for a known peer id).
   * `beforeDial` runs once the certificates are merged (and `cert` verified), before any
   * member they brought is dialed
   */
  async mergeHello (cert: MemberCertificate, certs: unknown, now: number, beforeDial?: () => Promise<void>): Promise<void> {
    const { roster } = this.components
    const gone = this.departed()
    const before = new Map(roster.members().map(c => [c.peerId, c]))
    const result = roster.add(cert, now)
    const incoming = Array.isArray(certs) ? certs.slice(0, MAX_ROSTER_ENTRIES) as MemberCertificate[] : []
    const merged = roster.merge(incoming, now)
    await beforeDial?.()
    if (result !== 'added' && !merged.changed) return
    await this.persistRoster()
    void this.publish(roster.toJSON())
    const members = roster.members()
    const added = members.filter(c => !before.has(c.peerId)).map(c => c.peerId)
    const renewed = members.filter(c => before.has(c.peerId) && before.get(c.peerId) !== c).map(c => c.peerId)
    for (const c of this.arrivals(added, renewed, gone)) {
      if (c.peerId !== this.components.selfId) this.memberAdded(c)
    }
  }

  /** tells the team about certificates we learned (new members) */
  async publish (certs: MemberCertificate[]): Promise<void> {
    const node = this.components.node()
    if (node == null || certs.length === 0) return
    const data = new TextEncoder().encode(JSON.stringify({ certs }))
    await node.services.pubsub.publish(rosterTopic(this.components.team.teamId), data).catch(err => {
      log('roster publish failed: %s', (err as Error).message)
    })
  }

  /** tells the team this daemon is leaving; best effort, bounded by `waitMs` */
  async announceLeave (departure: Departure, waitMs: number): Promise<void> {
    this.components.departures.merge([departure])
    const node = this.components.node()
    if (node == null) return
    const data = new TextEncoder().encode(JSON.stringify({ certs: [], departures: [departure] }))
    await node.services.pubsub.publish(rosterTopic(this.components.team.teamId), data).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, waitMs))
  }

  /**
   * tells the team about signed removals or revocations made here, then applies them: the
   * gossip goes out first, so the removed member itself hears why it is dropped
   */
  async announceRecords (records: unknown[], waitMs: number): Promise<void> {
    const node = this.components.node()
    if (node != null) {
      const data = new TextEncoder().encode(JSON.stringify({ certs: [], departures: records }))
      const sent = await node.services.pubsub.publish(rosterTopic(this.components.team.teamId), data).catch(() => undefined)
      if ((sent?.recipients.length ?? 0) > 0) await new Promise(resolve => setTimeout(resolve, waitMs))
    }
    if (this.applyDepartures(records).length > 0) await this.persistDepartures()
  }

  private onGossip (data: Uint8Array): void {
    const { roster, selfId } = this.components
    // the topic validator took only what fits the schema; checked again, not counted again
    let parsed: unknown
    try { parsed = JSON.parse(new TextDecoder().decode(data)) } catch { return }
    if (!rosterGossip.check(parsed)) return
    this.mergeDepartures(parsed.departures)
    const now = Date.now()
    const gone = this.departed()
    const merged = roster.merge(parsed.certs.slice(0, MAX_ROSTER_ENTRIES) as MemberCertificate[], now)
    // any change is stored, not only new peer ids: a rejoiner's newer certificate must
    // survive the next restart or key rotation, or the member it belongs to is dropped then
    if (!merged.changed) return
    void this.persistRoster()
    for (const c of this.arrivals(merged.added, merged.renewed, gone)) {
      if (c.peerId === selfId) continue
      this.memberAdded(c)
    }
  }

  /** peers whose current certificate a departure covers (they left, or were removed) */
  private departed (): Set<string> {
    const { roster, departures } = this.components
    return new Set(roster.members().filter(c => departures.covers(c)).map(c => c.peerId))
  }

  /**
   * the members a merge brought in: `added` (new peer ids) and those of `renewed` (a newer
   * certificate for a known peer id) that had left (`gone`) and count again
   */
  private arrivals (added: string[], renewed: string[], gone: Set<string>): MemberCertificate[] {
    const { roster, departures } = this.components
    return [...added, ...renewed.filter(id => gone.has(id))].flatMap(id => {
      const c = roster.get(id)
      return c != null && !departures.covers(c) ? [c] : []
    })
  }

  private memberAdded (c: MemberCertificate): void {
    this.components.emit({ type: 'team:member-added', data: { peerId: c.peerId, name: c.name, role: c.role } })
    this.components.redialer.want(c.peerId, { soon: this.components.knowsAddress?.(c.peerId) ?? true })
  }

  /**
   * merge departures, removals and revocations; a peer that no longer counts is let go at
   * once (its connections closed, its streams and gossip refused) and no longer redialed
   */
  private applyDepartures (values: unknown): string[] {
    const { roster, departures, team, selfId } = this.components
    const changed = departures.merge(values)
    if (changed.length === 0) return changed
    const peers = changed.includes('*') ? roster.members().map(c => c.peerId) : changed
    for (const peer of new Set(peers)) {
      const cert = roster.get(peer)
      if (cert == null || !departures.covers(cert)) continue
      if (peer === selfId) {
        this.components.line(`this daemon is no longer a member of team ${team.name}: ${departures.reason(cert) ?? ''}`)
        this.components.onSelfCovered?.()
        continue
      }
      if (!this.components.isVerified(peer) && !this.components.isConnected(peer) && !changed.includes(peer)) continue
      this.components.redialer.forget(peer)
      this.components.line(`peer ${departures.reason(cert) ?? `left the team ${cert.name} ${peer}`}`)
      this.components.emit({ type: 'team:member-left', data: { peerId: peer, name: cert.name } })
      this.components.unverify(peer)
      const node = this.components.node()
      if (node != null) void node.hangUp(peerIdFromString(peer)).catch(() => {})
    }
    return changed
  }

  private async persistDepartures (): Promise<void> {
    await this.components.db.put(departedKey(this.components.team.teamId), this.components.departures.toJSON()).catch(err => {
      log('could not store departures: %s', (err as Error).message)
    })
  }

  /** stores the roster as it is (a joiner's own certificate is in it from the start, never "added") */
  async saveRoster (): Promise<void> {
    await this.persistRoster()
  }

  /** the roster's whole state (not just current members: see Roster) under one key */
  private async persistRoster (): Promise<void> {
    await this.components.db.put(rosterKey(this.components.team.teamId), this.components.roster.toJSON()).catch(err => {
      log('could not store the roster: %s', (err as Error).message)
    })
  }
}
