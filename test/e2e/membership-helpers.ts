/**
 * What the membership e2e tests check on every daemon: the roster each one lists.
 */
import { eventually, type DaemonProcess } from './harness.js'

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
