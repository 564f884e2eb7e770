/**
 * Address hints: the addresses of members that travel with their certificates in the hello
 * (`/paired/team/1.1.0`), so a joiner and the members it meets can dial each other at once
 * rather than after failed dials without an address and their backoff. A hint is never
 * trusted for identity (the dial's Noise handshake and the hello prove who answers); it is
 * only bounded and checked so a peer cannot fill the peer store or point dials at
 * something other than a TCP socket. Pure, but for {@link AddressBook}'s map.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { MAX_ADDR_CHARS, MAX_HINT_PEERS } from '../protocol/schemas/team.js'

/** addresses kept and sent per member */
export const MAX_ADDRS_PER_PEER = 6
/** characters of hints one hello carries at most, so they never crowd its certificates out of the frame */
export const MAX_HINT_CHARS = 512 * 1024

/** this daemon's own addresses a heartbeat carries at most (each beat goes to every member) */
export const MAX_OWN_ADDRS = 4

/** one member's addresses as they travel: `{ id, addrs }` */
export interface AddressHint { id: string, addrs: string[] }

const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])
const UNSPECIFIED = new Set(['0.0.0.0', '::'])

/**
 * `text` as an address to dial `peer` at, without its `/p2p/` part; undefined unless it is
 * a host (an IP or a DNS name, loopback and private ones as they are) and a TCP port, and
 * names no peer or `peer` itself. Nothing else dials here: this daemon speaks only TCP.
 */
export function dialableAddress (text: unknown, peer: string): Multiaddr | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDR_CHARS) return undefined
  let parts
  try {
    parts = multiaddr(text).getComponents()
  } catch {
    return undefined
  }
  const [host, tcp, p2p, ...rest] = parts
  if (host == null || !HOSTS.has(host.name) || host.value == null || UNSPECIFIED.has(host.value)) return undefined
  if (tcp?.name !== 'tcp' || !(Number(tcp.value) >= 1 && Number(tcp.value) <= 65_535)) return undefined
  if (rest.length > 0 || (p2p != null && (p2p.name !== 'p2p' || p2p.value !== peer))) return undefined
  return multiaddr(`/${host.name}/${host.value}/tcp/${tcp.value}`)
}

/**
 * The hints a peer sent (untrusted), as dialable addresses per peer: only for peers in
 * `wanted`, never for `selfId`, at most {@link MAX_ADDRS_PER_PEER} distinct ones each and
 * {@link MAX_HINT_PEERS} peers; whatever does not fit is left out, silently (a hint is a hint).
 */
export function readHints (value: unknown, selfId: string, wanted: (peer: string) => boolean): Map<string, Multiaddr[]> {
  const out = new Map<string, Multiaddr[]>()
  if (!Array.isArray(value)) return out
  for (const entry of value.slice(0, MAX_HINT_PEERS)) {
    if (entry == null || typeof entry !== 'object') continue
    const { id, addrs } = entry as Partial<AddressHint>
    if (typeof id !== 'string' || id === selfId || out.has(id) || !Array.isArray(addrs) || !wanted(id)) continue
    const seen = new Set<string>()
    const usable: Multiaddr[] = []
    for (const a of addrs) {
      const ma = dialableAddress(a, id)
      if (ma == null || seen.has(ma.toString())) continue
      seen.add(ma.toString())
      usable.push(ma)
      if (usable.length >= MAX_ADDRS_PER_PEER) break
    }
    if (usable.length > 0) out.set(id, usable)
  }
  return out
}

/**
 * What this daemon's heartbeat says about where it listens: its dialable `addrs` (as
 * {@link dialableAddress} takes them: not 0.0.0.0 or ::, a TCP port, no `/p2p/`), distinct,
 * at most {@link MAX_OWN_ADDRS}.
 */
export function ownAddresses (addrs: Array<Multiaddr | string>, selfId: string): string[] {
  const out = new Set<string>()
  for (const a of addrs) {
    const ma = dialableAddress(a.toString(), selfId)
    if (ma != null) out.add(ma.toString())
    if (out.size >= MAX_OWN_ADDRS) break
  }
  return [...out]
}

/**
 * The last addresses this daemon learned for each peer (its own listen addresses, identify,
 * hints), bounded per peer, so a hello can carry them without a peer store lookup per member.
 */
export class AddressBook {
  private readonly byPeer = new Map<string, string[]>()

  /**
   * keeps `addrs` (the dialable ones, newest first) for `peer`; true when one of them is
   * new here, which is when a backed-off dial of that peer deserves another try at once
   */
  learn (peer: string, addrs: Array<Multiaddr | string>): boolean {
    const known = this.byPeer.get(peer) ?? []
    const fresh = addrs.flatMap(a => {
      const ma = dialableAddress(a.toString(), peer)
      return ma != null ? [ma.toString()] : []
    })
    const added = fresh.some(a => !known.includes(a))
    if (fresh.length > 0) this.byPeer.set(peer, [...new Set([...fresh, ...known])].slice(0, MAX_ADDRS_PER_PEER))
    return added
  }

  forget (peer: string): void { this.byPeer.delete(peer) }

  get (peer: string): string[] { return this.byPeer.get(peer) ?? [] }

  /** the hints for `peers` whose addresses are known, in that order */
  hints (peers: Iterable<string>): AddressHint[] {
    const out: AddressHint[] = []
    let chars = 0
    for (const id of peers) {
      const addrs = this.byPeer.get(id)
      if (addrs == null || addrs.length === 0) continue
      const hint = { id, addrs }
      chars += JSON.stringify(hint).length + 1
      if (chars > MAX_HINT_CHARS || out.length >= MAX_HINT_PEERS) break
      out.push(hint)
    }
    return out
  }
}
