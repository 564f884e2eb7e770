/**
 * The team session's decisions, as pure functions of what it knows: who counts as a
 * member, what a discovered peer gets, whether this daemon takes work now, what a
 * presence change tells the log and the event stream, and what its hello carries. The
 * session (`session.ts`) applies them to its node; test/unit/daemon/session-policy.test.ts
 * runs them without one.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DaemonEvent } from '../model/docs.js'
import type { Transition } from '../presence/index.js'
import type { MemberCertificate, Roster } from '../team/index.js'
import { withinWorkHours, type PairedConfig } from './config.js'
import type { Departures } from './departures.js'
import type { HelloMessage } from './hello.js'
import { MAX_ROSTER_ENTRIES } from './roster-gossip.js'
import { HELLO_COOL_OFF_MS } from '../net/limits.js'

/** the roster's members less those that left (and were not invited back since) */
export function currentMembers (roster: Roster, departures: Pick<Departures, 'covers'>): MemberCertificate[] {
  return roster.members().filter(c => !departures.covers(c))
}

/** whether `peer` is a member at `now`: in the roster, its certificate valid, and not departed */
export function isCurrentMember (roster: Roster, departures: Pick<Departures, 'covers'>, peer: string, now: number): boolean {
  const cert = roster.get(peer)
  return cert != null && roster.isMember(peer, now) && !departures.covers(cert)
}

/**
 * What a peer found by discovery (mDNS, the DHT, bootstrap) gets:
 * - `ignore`: it is this daemon, or this daemon was shut out of its team (it dials nobody);
 * - `redial`: a peer of the roster: dial it soon, and keep redialing it with backoff;
 * - `dial`: a stranger (mDNS finds every team's daemons on the LAN): one dial now and
 *   then, never kept up (another team's daemon refuses us in milliseconds at pnet);
 * - `none`: a stranger already connected, or dialed too recently.
 * `mayDialStranger` takes the stranger's dial token; it is asked only for an unconnected stranger.
 */
export type DiscoveryAction = 'ignore' | 'redial' | 'dial' | 'none'

export function discoveryAction (facts: { self: boolean, shutOut: boolean, inRoster: boolean, connected: boolean, mayDialStranger: () => boolean }): DiscoveryAction {
  if (facts.self || facts.shutOut) return 'ignore'
  if (facts.inRoster) return 'redial'
  return !facts.connected && facts.mayDialStranger() ? 'dial' : 'none'
}

/** why this daemon takes no new work at `now` (config: pause on battery, work hours), or undefined */
export function pausedReason (tasks: Pick<PairedConfig['tasks'], 'pauseOnBattery' | 'workHours'>, power: string | undefined, now: Date): string | undefined {
  if (tasks.pauseOnBattery && power === 'battery') return 'on battery'
  if (!withinWorkHours(tasks.workHours, now)) return `outside work hours ${tasks.workHours ?? ''}`
  return undefined
}

/**
 * What a peer's presence change tells: a log line (not for a peer's first `alive`, which
 * the hello already logged as "peer joined") and the `peer:<state>` event.
 */
export function presenceNotice (t: Transition, name: string): { line?: string, event: DaemonEvent } {
  const line = t.to !== 'alive' || t.from != null
    ? `peer ${t.to} ${name} ${t.peer}${t.from != null ? ` (was ${t.from})` : ''}`
    : undefined
  return { ...(line !== undefined ? { line } : {}), event: { type: `peer:${t.to}`, data: { peerId: t.peer, name, from: t.from ?? null } } }
}

/** the hello (or welcome) this daemon sends: its certificate, the roster (at most {@link MAX_ROSTER_ENTRIES}) and the departures */
export function helloPayload (type: 'hello' | 'welcome', cert: MemberCertificate, roster: Roster, departures: Pick<Departures, 'toJSON'>): HelloMessage {
  return { type, cert, roster: roster.toJSON().slice(0, MAX_ROSTER_ENTRIES), departures: departures.toJSON() }
}

/** the peer an address names (its `/p2p/` part), unless it names none or `selfId` */
export function addressPeer (addr: Multiaddr, selfId: string): string | undefined {
  const id = addr.getComponents().find(c => c.name === 'p2p')?.value
  return id == null || id === selfId ? undefined : id
}

/**
 * How long a peer that held a connection through the whole hello deadline without proving
 * membership is refused (ms). A key holder that is not a member may not come straight
 * back; a current member of the roster (Noise proved its key) gets no cool-off: on a busy
 * machine its hello can simply time out, and a minute's refusal kept pairs of a 20-daemon
 * join burst apart for 60–80 s. It is hung up on either way, and redialed.
 */
export function helloDeadlineCoolOffMs (isMember: boolean): number {
  return isMember ? 0 : HELLO_COOL_OFF_MS
}
