/** Protocol ids carry a version (STYLE: wire and storage). */
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
 * Gossip scoring on the team's topics: only invalid messages count (a relayer pays for
 * what it forwards), squared and slowly forgotten; quiet members are never penalised.
 * With the default thresholds (gossip -10, publish -50, graylist -80) one invalid
 * message costs -10, three graylist the sender; the penalty halves in about 70 s.
 */
export const INVALID_MESSAGE_WEIGHT = -10
export const INVALID_MESSAGE_DECAY = 0.99

/** largest team-protocol message (a roster of ~1000 certificates fits) */
export const MAX_TEAM_MESSAGE_BYTES = 4 * 1024 * 1024
export const MAX_QUERY_MESSAGE_BYTES = 64 * 1024
/** every stream read must finish within this */
export const STREAM_READ_TIMEOUT_MS = 5_000
/** a connected peer that has not proven membership by then is disconnected */
export const HELLO_DEADLINE_MS = 10_000
