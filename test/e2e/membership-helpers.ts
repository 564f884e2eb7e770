/**
 * What the membership e2e tests check on every daemon: the roster each one lists.
 */
import { apiGet, eventually, type DaemonProcess } from './harness.js'

export interface MemberRow { peerId: string, name: string, connected: boolean, self: boolean }

export async function peerIdOf (d: DaemonProcess): Promise<string> {
  return (await d.json<{ peerId: string }>(['status'])).peerId
}

/** the sorted peer ids `d` lists as members of its team */
export async function rosterOf (d: DaemonProcess): Promise<string[]> {
  return (await d.json<MemberRow[]>(['team', 'members'])).map(m => m.peerId).sort()
}

/** the team name `d` says it is in */
export async function teamNameOf (d: DaemonProcess): Promise<string> {
  return (await d.json<{ team: { name: string } }>(['status'])).team.name
}

/** every daemon in `daemons` lists exactly `ids` as the members of its team, all connected */
export async function rostersAgree (daemons: DaemonProcess[], ids: string[], timeoutMs = 20_000): Promise<void> {
  const want = [...ids].sort().join()
  await eventually(`${daemons.map(d => d.name).join(', ')} all list exactly ${ids.length} members, connected`, async () => {
    for (const d of daemons) {
      const rows = await d.json<MemberRow[]>(['team', 'members'])
      if (rows.map(m => m.peerId).sort().join() !== want || rows.some(m => !m.connected)) return undefined
    }
    return true
  }, timeoutMs, 300)
}

/** a write on `from` shows up on `to` */
export async function replicates (from: DaemonProcess, to: DaemonProcess, key: string, timeoutMs = 15_000): Promise<void> {
  await from.json(['kv', 'set', key, from.name])
  await eventually(`${key} from ${from.name} reaches ${to.name}`, async () => {
    const r = await to.cli(['kv', 'get', key, '--json'])
    return r.code === 0 ? true : undefined
  }, timeoutMs, 250)
}

/** the peer ids of the `peer <state> NAME ID (was ...)` lines in `log` (src/daemon/session-policy.ts) */
export function presenceLineIds (log: string, state: 'suspect' | 'dead'): string[] {
  return [...log.matchAll(new RegExp(`\\bpeer ${state} \\S* ?(\\S+)`, 'g'))].map(m => m[1])
}

/**
 * the peers of `others` that `d` does not yet list as connected and alive (in `peers`) and
 * connected (in `team/members`): empty once its view of the team is whole
 */
export async function notAliveOn (d: DaemonProcess, others: string[]): Promise<string[]> {
  const peers = await apiGet<Array<{ peerId: string, connected: boolean, state: string }>>(d, 'peers')
  const alive = new Set(peers.filter(p => p.connected && p.state === 'alive').map(p => p.peerId))
  const members = await apiGet<MemberRow[]>(d, 'team/members')
  const connected = new Set(members.filter(m => m.connected).map(m => m.peerId))
  return others.filter(id => !(alive.has(id) && connected.has(id)))
}
