/**
 * The daemon's peers as people see them (`paired peers`, `peer show`, `team members`, the
 * peer ids people type): documents built from a team session's view; and `paired connect`.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError, NotFoundError, PeerUnreachableError } from '../errors.js'
import type { MemberDoc, PeerDetailDoc, PeerDoc } from '../model/docs.js'
import type { MemberCertificate } from '../team/index.js'
import type { TeamSession } from './session.js'

/** the parts of a session these documents read */
export type PeerSource = Pick<TeamSession, 'node' | 'roster' | 'tasks' | 'currentMembers' | 'isConnected' | 'isVerified' | 'presenceOf' | 'rttOf' | 'capacityOf' | 'gossipScore'>

/** a peer id, or a member's name, or the unique end (4 characters or more) of a member's peer id. Pure. */
export function resolvePeer (members: readonly MemberCertificate[], arg: string): string {
  try {
    return peerIdFromString(arg).toString()
  } catch {}
  const byName = members.filter(c => c.name === arg)
  if (byName.length === 1) return byName[0].peerId
  if (byName.length > 1) throw new InvalidArgumentError(`more than one member is named "${arg}": use the peer id`)
  const bySuffix = members.filter(c => c.peerId.endsWith(arg))
  if (arg.length >= 4 && bySuffix.length === 1) return bySuffix[0].peerId
  throw new NotFoundError(`no peer ${arg}: give a peer id or a member's name (paired team members)`)
}

/** members and connected peers other than `selfId`, sorted by peer id */
export async function peerDocs (session: PeerSource, selfId: string): Promise<PeerDoc[]> {
  const node = session.node
  const ids = new Set(session.currentMembers().map(c => c.peerId))
  for (const c of node?.getConnections() ?? []) ids.add(c.remotePeer.toString())
  ids.delete(selfId)
  const out: PeerDoc[] = []
  for (const id of [...ids].sort()) {
    const cert = session.roster.get(id)
    let addresses: string[] = []
    try {
      addresses = (await node?.peerStore.get(peerIdFromString(id)))?.addresses.map(a => a.multiaddr.toString()) ?? []
    } catch {}
    const connected = session.isConnected(id)
    const capacity = session.capacityOf(id)
    out.push({
      peerId: id,
      name: cert?.name ?? null,
      addresses,
      connected,
      // from the failure detector once heartbeats arrive
      state: session.presenceOf(id) ?? (connected ? (session.isVerified(id) ? 'connected' : 'unverified') : 'unknown'),
      rttMs: session.rttOf(id),
      capacity: capacity != null ? { ...capacity } : null,
      reputation: session.tasks?.reputation.view(id).score ?? null,
      reputationStatus: session.tasks?.reputation.view(id).status ?? null,
      agents: capacity?.agents ?? [],
      labels: capacity?.labels ?? {}
    })
  }
  return out
}

/** one peer's document with its role, gossip score and reputation history */
export async function peerDetail (session: PeerSource, selfId: string, arg: string): Promise<PeerDetailDoc> {
  const id = resolvePeer(session.currentMembers(), arg)
  const doc = (await peerDocs(session, selfId)).find(p => p.peerId === id)
  if (doc == null) throw new NotFoundError(`no peer ${arg}`)
  return {
    ...doc,
    role: session.roster.get(id)?.role ?? null,
    gossipScore: session.gossipScore(id),
    reputationHistory: session.tasks?.reputation.history(id).map(e => ({ at: e.at, event: e.event, score: e.score, status: e.status })) ?? []
  }
}

/** the current members; this daemon counts as connected to itself */
export function memberDocs (session: Pick<PeerSource, 'currentMembers' | 'isConnected' | 'isVerified'>, selfId: string): MemberDoc[] {
  return session.currentMembers().map(c => ({
    peerId: c.peerId,
    name: c.name,
    role: c.role,
    self: c.peerId === selfId,
    connected: c.peerId === selfId || (session.isVerified(c.peerId) && session.isConnected(c.peerId))
  }))
}

/** how many current members other than `selfId` passed the hello and are connected */
export function connectedMembers (session: Pick<PeerSource, 'currentMembers' | 'isConnected' | 'isVerified'>, selfId: string): number {
  return session.currentMembers().filter(c => c.peerId !== selfId && session.isVerified(c.peerId) && session.isConnected(c.peerId)).length
}

/** dial `address` (a multiaddr); one with a peer id is also kept and redialed like a member's */
export async function connectAddress (session: Pick<TeamSession, 'dialAddress' | 'addKnownAddresses'>, address: string, signal?: AbortSignal): Promise<{ peerId: string }> {
  let ma: Multiaddr
  try {
    ma = multiaddr(address)
  } catch (err) {
    throw new InvalidArgumentError(`not a multiaddr: ${address} (${(err as Error).message})`)
  }
  try {
    const peer = await session.dialAddress(ma, signal)
    await session.addKnownAddresses(ma.getComponents().some(c => c.name === 'p2p') ? [ma] : [])
    return { peerId: peer.toString() }
  } catch (err) {
    throw new PeerUnreachableError(`could not connect to ${address}: ${(err as Error).message}`)
  }
}
