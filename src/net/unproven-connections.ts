/**
 * Inbound connections that have not proven membership yet: still upgrading (pnet, Noise,
 * yamux) or upgraded but without a hello. Anyone can open them (a silent TCP socket needs
 * nothing; a finished upgrade needs only the network key), so they get a budget of their
 * own, far below the connection limit members need: at most {@link MAX_UNPROVEN_PER_ADDRESS}
 * from one address and {@link MAX_UNPROVEN_CONNECTIONS} in all. A new one past a budget is
 * not refused: the oldest unproven connection of the address that holds the most goes
 * instead. So whoever floods ends up evicting its own connections, a newcomer from another
 * address always gets in and has its hello's time to prove itself, and a connection that
 * proved membership leaves the budget for good.
 */
import type { Connection, ConnectionGater, Libp2p, MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { logger } from '@libp2p/logger'

const log = logger('paired:net')

/** unproven inbound connections at once, from every address together */
export const MAX_UNPROVEN_CONNECTIONS = 64
/**
 * unproven inbound connections at once from one IP address: a team's machines behind one
 * NAT, or a CI box of 20 daemons, join in bursts from one address, and on a busy machine
 * each upgrade can take a second or more; at 8, 20 joiners evicted each other's
 * connections mid-upgrade (their dialers saw `Encryption failed` or a reset)
 */
export const MAX_UNPROVEN_PER_ADDRESS = 16

export class UnprovenEvictedError extends Error {
  override name = 'UnprovenEvictedError'
}

interface Entry {
  host: string
  /** the peer, once the upgrade named it */
  peer?: string
  close: (err: Error) => void
}

export interface UnprovenInit {
  /** @default MAX_UNPROVEN_CONNECTIONS */
  maxTotal?: number
  /** @default MAX_UNPROVEN_PER_ADDRESS */
  maxPerAddress?: number
  /**
   * does `peer` need no budget: a proven member, or a current member of the roster (the
   * upgrade's Noise handshake proved it holds that member's key)
   */
  isProven?: (peer: string) => boolean
}

/** `ip:port` and the IP of a TCP multiaddr (undefined for anything else) */
export function socketOf (addr: Multiaddr): { key: string, host: string } | undefined {
  const parts = addr.getComponents()
  const ip = parts.find(c => c.name === 'ip4' || c.name === 'ip6')?.value
  const port = parts.find(c => c.name === 'tcp')?.value
  if (ip == null || port == null) return undefined
  return { key: `${ip}:${port}`, host: ip }
}

export class UnprovenConnections {
  /** insertion order is age: the first entry of a host is its oldest */
  private readonly entries = new Map<string, Entry>()
  private readonly perHost = new Map<string, number>()
  private readonly maxTotal: number
  private readonly maxPerAddress: number
  /** connections closed to make room (for status and tests) */
  evicted = 0

  constructor (private readonly init: UnprovenInit = {}) {
    this.maxTotal = init.maxTotal ?? MAX_UNPROVEN_CONNECTIONS
    this.maxPerAddress = init.maxPerAddress ?? MAX_UNPROVEN_PER_ADDRESS
  }

  get size (): number { return this.entries.size }

  /** unproven connections from `host` now */
  from (host: string): number { return this.perHost.get(host) ?? 0 }

  /** a new inbound connection `key` from `host`; closes older ones past the budgets */
  add (key: string, host: string, close: (err: Error) => void): void {
    const known = this.entries.get(key)
    if (known != null) { known.close = close; return }
    this.entries.set(key, { host, close })
    this.perHost.set(host, this.from(host) + 1)
    if (this.from(host) > this.maxPerAddress) this.evictFrom(host, `more than ${this.maxPerAddress} unproven connections from ${host}`)
    while (this.entries.size > this.maxTotal) {
      let fullest = host
      for (const [h, n] of this.perHost) if (n > this.from(fullest)) fullest = h
      this.evictFrom(fullest, `more than ${this.maxTotal} unproven connections`)
    }
  }

  /** the upgrade of `key` finished and named its peer: closing it now closes the connection */
  upgraded (key: string, peer: string, close: (err: Error) => void): void {
    const entry = this.entries.get(key)
    if (entry == null) return
    entry.peer = peer
    entry.close = close
    if (this.init.isProven?.(peer) === true) this.release(key)
  }

  /** `peer` proved membership: its connections leave the budget */
  proven (peer: string): void {
    for (const [key, entry] of this.entries) if (entry.peer === peer) this.release(key)
  }

  /** `key` closed (or proved itself) */
  release (key: string): void {
    const entry = this.entries.get(key)
    if (entry == null) return
    this.entries.delete(key)
    const n = this.from(entry.host) - 1
    if (n > 0) this.perHost.set(entry.host, n)
    else this.perHost.delete(entry.host)
  }

  private evictFrom (host: string, why: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.host !== host) continue
      this.release(key)
      this.evicted++
      log('closed an unproven connection %s: %s', key, why)
      try { entry.close(new UnprovenEvictedError(`closed to make room: ${why}`)) } catch {}
      return
    }
  }

  /** the gater method that enters every inbound connection, before its upgrade */
  gater (): Pick<ConnectionGater, 'denyInboundConnection'> {
    return {
      denyInboundConnection: (maConn: MultiaddrConnection) => {
        const socket = socketOf(maConn.remoteAddr)
        if (socket == null) return false
        this.add(socket.key, socket.host, err => { maConn.abort(err) })
        maConn.addEventListener('close', () => { this.release(socket.key) }, { once: true })
        return false
      }
    }
  }

  /** follows `node`'s inbound connections from their upgrade to their close */
  watch (node: Libp2p): void {
    node.addEventListener('connection:open', evt => {
      const conn: Connection = evt.detail
      const socket = conn.direction === 'inbound' ? socketOf(conn.remoteAddr) : undefined
      if (socket != null) this.upgraded(socket.key, conn.remotePeer.toString(), err => { conn.abort(err) })
    })
    node.addEventListener('connection:close', evt => {
      const socket = socketOf(evt.detail.remoteAddr)
      if (socket != null) this.release(socket.key)
    })
  }
}
