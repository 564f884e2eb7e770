/**
 * Members-only protocols that libp2p services run for us (gossipsub, the DHT) get their
 * streams through this gate: a stream from or to a peer that has not yet proven membership
 * (the hello) waits, and is released the moment the hello succeeds or reset when the peer
 * leaves, fails the hello or reaches the hello deadline. A key holder without a certificate
 * thus never gets a byte of gossip or a DHT answer, and a member in its first milliseconds
 * loses nothing: its streams are held, not refused.
 *
 * Protocols the daemon handles itself check membership in their handlers; identify, ping
 * and the hello stay open to key holders (docs/DESIGN.md §3).
 */
import type { Connection, Stream, StreamMiddleware } from '@libp2p/interface'

export class NotAMemberError extends Error {
  override name = 'NotAMemberError'
}

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
}

export class MemberGate {
  private readonly waiting = new Map<string, Set<Waiter>>()
  /** streams held at the gate so far, and how many were reset there (for tests and status) */
  readonly counts = { held: 0, refused: 0 }
  private readonly released = new Set<(peer: string) => void>()

  constructor (private readonly isVerified: (peer: string) => boolean, private readonly maxWaitMs: number) {}

  /** resolves once `peer` is a verified member; rejects if it leaves or never proves it */
  async until (peer: string): Promise<void> {
    if (this.isVerified(peer)) return
    this.counts.held++
    await new Promise<void>((resolve, reject) => {
      let set = this.waiting.get(peer)
      if (set == null) this.waiting.set(peer, set = new Set())
      const timer = setTimeout(() => { settle(new NotAMemberError(`${peer} proved no membership within ${this.maxWaitMs} ms`)) }, this.maxWaitMs)
      const waiter: Waiter = { resolve: () => { settle() }, reject: err => { settle(err) } }
      const settle = (err?: Error): void => {
        clearTimeout(timer)
        set.delete(waiter)
        if (set.size === 0 && this.waiting.get(peer) === set) this.waiting.delete(peer)
        if (err == null) { resolve(); return }
        this.counts.refused++
        reject(err)
      }
      set.add(waiter)
    })
  }

  /** the hello proved `peer` a member: release what waits for it, then tell the listeners */
  verified (peer: string): void {
    for (const w of [...this.waiting.get(peer) ?? []]) w.resolve()
    for (const l of this.released) l(peer)
  }

  /** calls `listener` each time a peer is proven a member (to open what was refused before) */
  onVerified (listener: (peer: string) => void): void {
    this.released.add(listener)
  }

  /** `peer` left, failed its hello or passed the deadline: reset what waits for it */
  refuse (peer: string, why: string): void {
    for (const w of [...this.waiting.get(peer) ?? []]) w.reject(new NotAMemberError(why))
  }

  /** the session stops: nothing waits any more */
  close (): void {
    for (const peer of [...this.waiting.keys()]) this.refuse(peer, 'the session stopped')
  }

  /** how many peers have streams held at the gate now */
  get pending (): number { return this.waiting.size }

  /** stream middleware for `libp2p.use(protocol, …)`: streams both ways wait at the gate */
  readonly both: StreamMiddleware = async (stream: Stream, connection: Connection, next) => {
    await this.until(connection.remotePeer.toString())
    next(stream, connection)
  }

  /**
   * For gossipsub: the peer's streams to us wait; our own streams to a peer not yet proven
   * are refused at once. Gossipsub sends its subscription list (topic names carry the team
   * id) the moment its own stream opens, so a key holder without a certificate would hear it;
   * and it opens its streams one peer at a time, so holding one would stall every other peer's.
   * Once the peer is verified, the session has gossipsub open the stream again
   * (`gossipReopener` in src/node/gossip-reopen.ts), and the peer's held stream to us is let
   * through (which makes gossipsub open ours too).
   */
  readonly gossip: StreamMiddleware = async (stream: Stream, connection: Connection, next) => {
    const peer = connection.remotePeer.toString()
    if (stream.direction === 'inbound') await this.until(peer)
    else if (!this.isVerified(peer)) {
      this.counts.refused++
      throw new NotAMemberError(`${peer} has not proven membership yet: no gossip to it`)
    }
    next(stream, connection)
  }
}
