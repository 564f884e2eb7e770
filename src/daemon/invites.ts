/**
 * Invites an admin hands out (`paired team invite`): the signed token, and the addresses
 * in it where a joiner can find the team.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { InviteDoc, InviteRequest } from '../model/docs.js'
import { createInvite, encodeInvite, type Signer } from '../team/index.js'
import type { TeamSession } from './session.js'
import type { TeamFile } from './team-file.js'

/** an invite also names this many other connected members (with up to 2 addresses each) */
export const INVITE_OTHER_MEMBERS = 3
/** an invite's lifetime unless the request names one: a day */
export const DEFAULT_INVITE_TTL_MS = 24 * 3600_000

/**
 * Where a joiner can find the team: this daemon's addresses and those of a few connected
 * members, so the invite works while this daemon (or any one admin) is offline.
 */
export async function inviteAddresses (session: Pick<TeamSession, 'node' | 'currentMembers' | 'isConnected'>, selfId: string): Promise<string[]> {
  const own = (session.node?.getMultiaddrs() ?? []).map(a => a.toString()).filter(a => a.includes('/p2p/')).slice(0, 4)
  const others: string[] = []
  const members = session.currentMembers().filter(c => c.peerId !== selfId && session.isConnected(c.peerId))
  for (const member of members.slice(0, INVITE_OTHER_MEMBERS)) {
    try {
      const peer = await session.node?.peerStore.get(peerIdFromString(member.peerId))
      const listen = (peer?.addresses ?? []).map(a => a.multiaddr.toString()).filter(a => !a.includes('/p2p-circuit'))
      others.push(...listen.slice(0, 2).map(a => a.includes('/p2p/') ? a : `${a}/p2p/${member.peerId}`))
    } catch {}
  }
  return [...own, ...others]
}

/** a signed invite into `file`'s team as the request asks (defaults: a member, one use, a day) */
export function issueInvite (file: TeamFile, signer: Signer, request: InviteRequest, addrs: string[], now: number): InviteDoc {
  const token = createInvite({
    team: file.team,
    issuerCert: file.cert,
    signer,
    role: request.role ?? 'member',
    ttlMs: request.ttlMs ?? DEFAULT_INVITE_TTL_MS,
    maxUses: request.uses ?? 1,
    addrs,
    now
  })
  return { token: encodeInvite(token), inviteId: token.grant.inviteId, role: token.grant.role, expiresAt: token.grant.expiresAt, maxUses: token.grant.maxUses }
}
