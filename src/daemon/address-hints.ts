/**
 * A session's address hints (`member-addrs.ts`): what its hellos tell about where members
 * are, and what it does with what the other side's hello told: the addresses go into the
 * peer store before the merge that makes this daemon dial the members they belong to, and
 * a member whose dials were backing off for want of an address is dialed again at once.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PairedLibp2p } from '../node/create-node.js'
import { AddressBook, ownAddresses, readHints, type AddressHint } from './member-addrs.js'
import type { Redialer } from './redialer.js'
import { addressPeer } from './session-policy.js'

export interface AddressHintsComponents {
  selfId: string
  /** the session's node while it runs */
  node: () => PairedLibp2p | undefined
  redialer: Pick<Redialer, 'addressesArrived' | 'want'>
  isConnected: (peer: string) => boolean
}

export class AddressHints {
  private readonly book = new AddressBook()

  constructor (private readonly components: AddressHintsComponents) {}

  /** the hints a hello carries: this daemon's own listen addresses first, then those of `members` */
  outgoing (members: Iterable<string>): AddressHint[] {
    const { selfId } = this.components
    const node = this.components.node()
    if (node != null) this.book.learn(selfId, node.getMultiaddrs())
    return this.book.hints([selfId, ...[...members].filter(m => m !== selfId)])
  }

  /** this daemon's own addresses for its heartbeats: its listen addresses, dialable ones only */
  own (): string[] {
    return ownAddresses(this.components.node()?.getMultiaddrs() ?? [], this.components.selfId)
  }

  /**
   * a member's signed heartbeat said where it listens (untrusted text, but only the member
   * itself can have signed it): new addresses go into the peer store, and a dial of that
   * member that was backing off for want of one starts over at once. Two members not
   * connected hear each other's beats at about the same moment: only the lower peer id
   * dials at once, the other keeps to its backoff (with the address now), so a pair does
   * not open two connections and two hellos at once, which in a join burst on one host
   * only crowds the budget for connections still unproven
   */
  async announced (peer: string, addrs: unknown): Promise<void> {
    const { selfId } = this.components
    const node = this.components.node()
    const usable = readHints([{ id: peer, addrs }], selfId, () => true).get(peer)
    if (node == null || usable == null) return
    const known = this.book.get(peer)
    if (usable.every(a => known.includes(a.toString()))) return
    await node.peerStore.merge(peerIdFromString(peer), { multiaddrs: usable }).catch(() => {})
    if (this.book.learn(peer, usable) && selfId < peer && !this.components.isConnected(peer)) this.components.redialer.addressesArrived(peer)
  }

  /** whether an address of `peer` is known here */
  knows (peer: string): boolean { return this.book.get(peer).length > 0 }

  /** `peer`'s addresses as this daemon saw them (identify of a member, remembered ones) */
  learn (peer: string, addrs: Multiaddr[]): void {
    if (peer === this.components.selfId) return
    if (this.book.learn(peer, addrs) && !this.components.isConnected(peer)) this.components.redialer.addressesArrived(peer)
  }

  /**
   * addresses from an invite or `paired connect`: into the peer store, and the peers they
   * name dialed (with backoff, short while `eager`: see the redialer) until they connect
   */
  async addKnown (node: PairedLibp2p, addrs: Multiaddr[], eager = false): Promise<void> {
    for (const addr of addrs) {
      const id = addressPeer(addr, this.components.selfId)
      if (id === undefined) continue
      await node.peerStore.merge(peerIdFromString(id), { multiaddrs: [addr] }).catch(() => {})
      this.components.redialer.want(id, { soon: true, eager })
    }
  }

  /**
   * takes the hints a verified peer's hello carried (untrusted, but for no one's identity)
   * for the peers `wanted` (the roster's): into the peer store, so the dials the roster
   * merge starts next have addresses
   */
  async apply (value: unknown, wanted: (peer: string) => boolean): Promise<void> {
    const node = this.components.node()
    if (node == null || value == null) return
    const hints = readHints(value, this.components.selfId, wanted)
    await Promise.all([...hints].map(async ([peer, addrs]) => {
      await node.peerStore.merge(peerIdFromString(peer), { multiaddrs: addrs }).catch(() => {})
      this.learn(peer, addrs)
    }))
  }
}
