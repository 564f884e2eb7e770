/**
 * Which peers proved membership on a session's connections, and the hello that proves it.
 * A peer that connects has {@link HELLO_DEADLINE_MS} to pass the hello (this daemon starts
 * it on its outbound connections, the other side on its own) or it is dropped; meanwhile
 * the streams of members-only protocols that libp2p services run wait at the gate. What
 * the hello checks and merges, and what the session does when a member comes or goes, is
 * passed in.
 */
import { logger } from '@libp2p/logger'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { PairedLibp2p } from '../node/create-node.js'
import { HELLO_DEADLINE_MS } from '../node/constants.js'
import type { MemberCertificate } from '../team/index.js'
import { answerHello, initiateHello, type HelloHooks } from './hello.js'
import { MemberGate } from './member-gate.js'

// the session's own log: these lines are the session's
const log = logger('paired:session')

/** what a hello exchange ended with, for a join that waits on it */
export type HelloOutcome = { ok: true, peerId: string } | { ok: false, peerId: string, error: { name: string, message: string } }

export interface MembershipComponents extends HelloHooks {
  /** the session's node while it runs */
  node: () => PairedLibp2p | undefined
  isConnected: (peer: string) => boolean
  /** `peer` proved membership, the first time since it connected */
  onVerified: (peer: string, name: string) => void
  /** the last connection of a verified `peer` closed */
  onLost: (peer: string) => void
  /** `peer` held a connection for the whole hello deadline without proving membership */
  onDeadline?: (peer: string) => void
  /** `peer` refused our membership and sent `records` (untrusted) to say why */
  onRefused?: (peer: string, records: unknown) => void
  line: (text: string) => void
}

export class Membership {
  /** gossipsub and DHT streams wait here until their peer is verified */
  readonly gate = new MemberGate(peer => this.verified.has(peer), HELLO_DEADLINE_MS + 1_000)
  /** peers that proved membership on this session's connections */
  private readonly verified = new Set<string>()
  private readonly deadlines = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly listeners = new Set<(o: HelloOutcome) => void>()

  constructor (private readonly components: MembershipComponents) {}

  isVerified (peer: string): boolean { return this.verified.has(peer) }

  /** connected, not yet verified, and still within the hello deadline */
  isPending (peer: string): boolean { return this.deadlines.has(peer) }

  /** `peer` no longer counts (it left or was removed): its hello no longer does either */
  forget (peer: string): void { this.verified.delete(peer) }

  /** calls `listener` with each hello outcome until the returned function is called */
  onOutcome (listener: (o: HelloOutcome) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** the session stops: no deadlines, nobody verified, nothing waits at the gate */
  close (): void {
    for (const t of this.deadlines.values()) clearTimeout(t)
    this.deadlines.clear()
    this.verified.clear()
    this.gate.close()
  }

  onConnectionOpen (connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (!this.verified.has(peer) && !this.deadlines.has(peer)) {
      // a peer that holds the network key but proves no membership is dropped
      this.deadlines.set(peer, setTimeout(() => {
        this.deadlines.delete(peer)
        if (!this.verified.has(peer)) {
          this.gate.refuse(peer, `no membership proof within ${HELLO_DEADLINE_MS} ms`)
          log('closing %s: no membership proof within %d ms', peer, HELLO_DEADLINE_MS)
          this.components.onDeadline?.(peer)
          void this.components.node()?.hangUp(connection.remotePeer).catch(() => {})
        }
      }, HELLO_DEADLINE_MS))
    }
    if (connection.direction === 'outbound' && !this.verified.has(peer)) {
      void this.sendHello(connection)
    }
  }

  onDisconnect (peerId: PeerId): void {
    const peer = peerId.toString()
    if (this.components.isConnected(peer)) return
    this.clearDeadline(peer)
    this.gate.refuse(peer, 'disconnected')
    if (this.verified.delete(peer)) this.components.onLost(peer)
  }

  /** the handler of the hello a peer starts (`/paired/team/1.0.0`, or 1.1.0 with `hints`) */
  async onHello (stream: Stream, connection: Connection, hints = false): Promise<void> {
    const peer = connection.remotePeer.toString()
    const result = await answerHello(stream, connection, this.components, hints)
    switch (result.status) {
      case 'verified':
        this.markVerified(peer, (result.msg.cert as MemberCertificate).name)
        return
      case 'refused':
        // bytes that are no hello at all are a fault on this peer's path (src/node/guard.ts)
        if (result.error.name === 'ProtocolError') throw result.error
        log('refusing %s: %s', peer, result.error.message)
        // give the refusal a moment to arrive, then drop the connection
        setTimeout(() => { void connection.close().catch(() => {}) }, 200)
        return
      case 'refused-by-peer':
        this.refusedBy(peer, result.error, result.records)
        await connection.close().catch(() => {})
        return
      case 'failed':
        log('hello from %s failed: %s', peer, result.error.message)
    }
  }

  private async sendHello (connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const result = await initiateHello(connection, this.components)
    if (result.status === 'verified') {
      this.markVerified(peer, (result.msg.cert as MemberCertificate).name)
      return
    }
    if (result.status === 'refused-by-peer') this.refusedBy(peer, result.error, result.records)
    else log('hello with %s failed: %s', peer, result.error.message)
    // let a refused or broken peer go at once rather than at the deadline
    if (!this.verified.has(peer)) await connection.close().catch(() => {})
  }

  private refusedBy (peer: string, error: { name: string, message: string }, records: unknown): void {
    log('%s refused our membership: %s', peer, error.message)
    if (/removed from the team|no longer a member|revoked/.test(error.message)) this.components.line(`refused by ${peer}: ${error.message}`)
    // the signed records it sent may show that an admin removed us: checked, never trusted
    this.components.onRefused?.(peer, records)
    this.notify({ ok: false, peerId: peer, error })
  }

  private markVerified (peer: string, name: string): void {
    this.clearDeadline(peer)
    if (!this.verified.has(peer)) {
      this.verified.add(peer)
      this.gate.verified(peer)
      this.components.onVerified(peer, name)
    }
    this.notify({ ok: true, peerId: peer })
  }

  private clearDeadline (peer: string): void {
    const t = this.deadlines.get(peer)
    if (t != null) { clearTimeout(t); this.deadlines.delete(peer) }
  }

  private notify (outcome: HelloOutcome): void {
    for (const l of this.listeners) l(outcome)
  }
}
