/**
 * Whether a received heartbeat needs relaying. Pure: the shell passes the sender's
 * `direct` list and its own subscribers on the presence topic.
 *
 * gossipsub publishes with flood publish: the sender's own copy goes straight to every
 * subscriber it knows. Relaying (gossipsub's forward to every mesh peer but the source)
 * only helps a subscriber of ours that the sender does not reach. In a team where everyone
 * is connected to everyone, which is how small teams run, nobody needs it, and relaying
 * anyway made each daemon send and receive n − 1 copies of every heartbeat instead of one.
 */

/** Tag length: the last characters of a peer id (base58 of its public key, ~5.9 bits each). */
export const PEER_TAG_LENGTH = 8

/**
 * A short name for a member inside a heartbeat: the last 8 characters of its peer id
 * (~47 bits of its public key). A collision can only make a receiver skip a relay that one
 * member needed; that member then probes the sender, which still answers.
 */
export function peerTag (peerId: string): string {
  return peerId.slice(-PEER_TAG_LENGTH)
}

/**
 * True when one of `subscribers` (ours, by peer id), other than the sender `origin` and the
 * peer we got the heartbeat `from`, is missing from the sender's `direct` tags. Without a
 * `direct` list (an older daemon, or a large team) the answer is always true.
 */
export function needsRelay (direct: readonly string[] | undefined, subscribers: Iterable<string>, origin: string, from: string): boolean {
  if (direct == null) return true
  const reached = new Set(direct)
  for (const id of subscribers) {
    if (id !== origin && id !== from && !reached.has(peerTag(id))) return true
  }
  return false
}
