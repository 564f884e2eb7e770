/**
 * The addresses of the members a daemon reached, remembered per team in the store (one
 * record per peer under `peers/<teamId>/<peerId>`), so that after a restart it dials them
 * again at once instead of waiting for discovery.
 */
import { logger } from '@libp2p/logger'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerKey, peerPrefix } from '../state/store/keys.js'
import { scanPrefix, type PairedDb } from '../state/store/db.js'

// the session's own log: these lines are the session's
const log = logger('paired:session')

/** addresses kept per peer */
const MAX_ADDRS = 16

export interface KnownPeer {
  addrs: string[]
  name?: string
  lastSeen: number
}

/** stores `peer`'s addresses (relayed ones left out); nothing when none is left */
export async function rememberPeer (db: PairedDb, teamId: string, peer: string, addrs: Multiaddr[], name?: string): Promise<void> {
  const usable = addrs.map(a => a.toString()).filter(a => !a.includes('/p2p-circuit'))
  if (usable.length === 0) return
  const value: KnownPeer = { addrs: usable.slice(0, MAX_ADDRS), name, lastSeen: Date.now() }
  await db.put(peerKey(teamId, peer), value).catch(err => {
    log('could not remember %s: %s', peer, (err as Error).message)
  })
}

/** the remembered peers of team `teamId`, each with those of its addresses that parse */
export async function knownPeers (db: PairedDb, teamId: string): Promise<Array<{ peer: string, addrs: Multiaddr[] }>> {
  const prefix = peerPrefix(teamId)
  return (await scanPrefix<KnownPeer>(db, prefix)).map(([key, known]) => ({
    peer: key.slice(prefix.length),
    addrs: known.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
  }))
}
