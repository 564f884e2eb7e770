/**
 * A farewell to the team a daemon leaves by joining another one. `team join` switches the
 * node to the new team's network key only once a member there admitted it, so by then the
 * old team is out of reach: its members would keep listing the leaver as a member that
 * never comes back. So, after the join, a short-lived node on the old team's key (it
 * listens on nothing) dials the members this daemon remembers and presents its signed
 * departure in a hello. Each member merges the departure before it checks the certificate
 * (and refuses it, since the departure covers it), stores it and passes it on to the rest
 * of the team on the roster topic.
 */
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createPairedNode } from '../node/create-node.js'
import { isObject } from '../model/guards.js'
import { departedKey } from '../state/store/keys.js'
import type { PairedDb } from '../state/store/db.js'
import type { MemberCertificate, TeamInfo } from '../team/index.js'
import type { Departure } from './departures.js'
import { initiateHello } from './hello.js'

const log = logger('paired:farewell')

/** how long a farewell may take in all; @default */
export const FAREWELL_TIMEOUT_MS = 10_000
/** members dialed at most */
const MAX_PEERS = 16

export interface FarewellInit {
  privateKey: Ed25519PrivateKey
  team: TeamInfo
  /** this daemon's certificate in that team */
  cert: MemberCertificate
  departure: Departure
  /** the members of that team this daemon remembers, with their addresses */
  peers: Array<{ peer: string, addrs: Multiaddr[] }>
  agentVersion: string
  timeoutMs?: number
}

/** resolves with how many members took the departure (never throws) */
export async function sayFarewell (init: FarewellInit): Promise<number> {
  const peers = init.peers.filter(p => p.addrs.length > 0).slice(0, MAX_PEERS)
  if (peers.length === 0) return 0
  const signal = AbortSignal.timeout(init.timeoutMs ?? FAREWELL_TIMEOUT_MS)
  let node: Awaited<ReturnType<typeof createPairedNode>> | undefined
  try {
    node = await createPairedNode({
      privateKey: init.privateKey,
      listen: [],
      psk: init.team.psk,
      teamId: init.team.teamId,
      bootstrap: [],
      mdns: { enabled: false, intervalMs: 0 },
      agentVersion: init.agentVersion
    })
    await node.start()
    const hooks = {
      payload: () => ({ type: 'hello' as const, cert: init.cert, roster: [], departures: [init.departure] }),
      // a member that admitted us would mean it has not merged the departure: not taken
      verify: async () => { throw Object.assign(new Error('leaving the team'), { name: 'LeavingError' }) }
    }
    const started = node
    const taken = await Promise.all(peers.map(async ({ peer, addrs }) => {
      try {
        const id = peerIdFromString(peer)
        await started.peerStore.merge(id, { multiaddrs: addrs })
        const connection = await started.dial(id, { signal })
        const result = await initiateHello(connection, hooks)
        await connection.close().catch(() => {})
        return result.status === 'refused-by-peer'
      } catch (err) {
        log('farewell to %s failed: %s', peer, (err as Error).message)
        return false
      }
    }))
    return taken.filter(Boolean).length
  } catch (err) {
    log('farewell failed: %s', (err as Error).message)
    return 0
  } finally {
    try { await node?.stop() } catch {}
  }
}

/** adds this daemon's own `departure` to the records stored for its team (replacing an older one of its own) */
export async function storeOwnDeparture (db: PairedDb, departure: Departure): Promise<void> {
  const stored = await db.get(departedKey(departure.teamId)).catch(() => undefined)
  const others = Array.isArray(stored) ? stored.filter(r => !(isObject(r) && r.type === undefined && r.peerId === departure.peerId)) : []
  await db.put(departedKey(departure.teamId), [...others, departure])
}
