/** Protocol ids carry a version (STYLE: wire and storage). */

/**
 * the mDNS service every daemon announces and asks for, whatever its team: nothing in it
 * tells teams apart, so it links no team's laptops across networks (each answer still
 * carries the peer's id and addresses, as any libp2p mDNS answer does). A daemon of another
 * team found this way is refused by pnet within milliseconds, before any cool-off or log line.
 */
export const MDNS_SERVICE_TAG = '_paired._udp.local'
/**
 * a discovered peer that is not in the roster (another team's daemon on the LAN, or a member
 * that joined since) is dialed at most this often; members are redialed with backoff instead
 */
export const STRANGER_DIAL_EVERY_MS = 10_000
export const PROTOCOL_TEAM = '/paired/team/1.0.0'
export const PROTOCOL_QUERY = '/paired/query/1.0.0'

/** the DHT runs under the team's own protocol prefix: no public bootstrap list, ever */
export function dhtProtocol (teamId: string): string {
  return `/paired/${teamId}/kad/1.0.0`
}

export function rosterTopic (teamId: string): string {
  return `/paired/${teamId}/roster/1`
}

export function presenceTopic (teamId: string): string {
  return `/paired/${teamId}/presence/1`
}

export function stateTopic (teamId: string): string {
  return `/paired/${teamId}/state/1`
}

/**
 * gossipsub's heartbeat (mesh upkeep, IHAVE gossip) and its score decay run this often
 * (its default: 1 s each, two timers). Messages never wait for it: a publish goes to every
 * subscriber at once (flood publish) and a relay is forwarded on arrival; only mesh repair
 * after a member comes or goes, and lazy IHAVE recovery, are paced by it. Each idle wakeup
 * costs CPU (~0.1–0.4 ms here), and a small team needs no faster upkeep.
 */
export const GOSSIP_HEARTBEAT_MS = 2_000

/**
 * gossipsub's score decay (and the purge of its delivery records) runs this often, on a
 * timer of its own. Scores count only invalid messages, whose penalty fades over ~70 s:
 * a decay step every 10 s fades it as fast (the factors are rescaled per step) and wakes
 * an idle daemon 5× less often than a step per heartbeat did.
 */
export const GOSSIP_SCORE_DECAY_MS = 10_000

/**
 * Gossip scoring on the team's topics: only invalid messages count (a relayer pays for
 * what it forwards), squared and slowly forgotten; quiet members are never penalised.
 * With the default thresholds (gossip -10, publish -50, graylist -80) one invalid
 * message costs -10, three graylist the sender; the penalty halves in about 70 s.
 */
export const INVALID_MESSAGE_WEIGHT = -10
/** per second; applied per score decay interval ({@link GOSSIP_SCORE_DECAY_MS}) as `0.99^(interval/1 s)` */
export const INVALID_MESSAGE_DECAY = 0.99
/** gossipsub's default decay of its behaviour penalty (broken IWANT promises, early re-GRAFT), per second */
export const BEHAVIOUR_PENALTY_DECAY = 0.2

/**
 * an outbound TCP connect gives up after this (Node's default is the OS's, ~2 min of SYN
 * retries): long enough for one SYN retransmission (at 1 s) and a slow link, short enough
 * that a redial stuck on a SYN dropped by a partition does not delay the next try, which
 * then sees a heal within ~1.5 s (src/daemon/redialer.ts)
 */
export const TCP_CONNECT_TIMEOUT_MS = 1_500

/**
 * libp2p's connection monitor pings each connection this often (its default: 10 s). Each
 * ping is a new stream both ways (~a dozen frames and a peer-store write per side): at
 * 60 s that was a quarter of what an idle member costs another, beside its heartbeats. It
 * only clears half-open connections: a member's is found by presence within seconds (its
 * heartbeats stop, the probe fails, it is declared dead and hung up on), a stranger's by
 * the unproven budget; what is left can wait minutes.
 */
export const CONNECTION_PING_INTERVAL_MS = 300_000

/**
 * yamux pings each connection this often (its default: 30 s, both sides). It closes
 * nothing when a ping fails, only logs; its one use is the round-trip time that lets a
 * stream's receive window grow, which its first ping (at connect) already gives.
 */
export const YAMUX_KEEPALIVE_MS = 600_000
/**
 * and gives up on a connection whose ping takes longer than this (its default: 5 s, or 1.2×
 * the recent average if longer). A ping waits behind whatever the connection already holds
 * to send: on a busy machine, under a burst of gossip, 5 s was reached and the monitor cut
 * members off. The monitor only clears half-open connections (presence judges liveness
 * from heartbeats in seconds), which can wait half a minute more.
 */
export const CONNECTION_PING_TIMEOUT_MS = 30_000

/**
 * gossipsub sends IDONTWANT only for messages at least this large (its default is 512 B):
 * below, the control frame costs as much CPU as the duplicate it saves
 */
export const IDONTWANT_MIN_BYTES = 16 * 1024

/** largest team-protocol message (a roster of ~1000 certificates fits) */
export const MAX_TEAM_MESSAGE_BYTES = 4 * 1024 * 1024
export const MAX_QUERY_MESSAGE_BYTES = 64 * 1024
/** query streams open at once per connection (libp2p's default is 32); the rate limiter bounds what is served */
export const MAX_QUERY_STREAMS = 512
/** every stream read must finish within this */
export const STREAM_READ_TIMEOUT_MS = 5_000
/** a connected peer that has not proven membership by then is disconnected */
export const HELLO_DEADLINE_MS = 10_000

/**
 * an inbound connection must finish its upgrade (pnet, Noise, yamux) within this long: long
 * enough for a slow WAN link and a machine whose cores are busy (20 daemons joining at once
 * on two cores took over 2 s to upgrade, and their dialers saw `Encryption failed`); what
 * bounds keyless dialers and silent sockets is the unproven budget, which closes the
 * oldest to make room (src/net/unproven-connections.ts), not this timeout
 */
export const INBOUND_UPGRADE_TIMEOUT_MS = 8_000
/**
 * inbound connections still upgrading at once, as libp2p counts them (its default is 10).
 * Far above the budget of unproven connections (src/net/unproven-connections.ts), which
 * closes the oldest to make room instead of refusing the newest: libp2p's own refusal
 * must never come first, or a flood of silent sockets locks members out
 */
export const MAX_INCOMING_PENDING_CONNECTIONS = 256
/**
 * open connections at once (libp2p's default is 300, and past it every new one is refused):
 * members' room, far above the 64 unproven connections a flood can hold
 */
export const MAX_CONNECTIONS = 1_024
