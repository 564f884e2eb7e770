/** Member names for human output: `alice (12D3…)` beside a peer id. */
import type { ApiClient } from '../api/client.js'
import type { MemberDoc } from '../model/docs.js'
import { shortId } from './format.js'

/** peer id → member name, best effort (an empty map when the team cannot be read) */
export async function memberNameMap (client: ApiClient): Promise<Map<string, string>> {
  try {
    return new Map((await client.get<MemberDoc[]>('team/members')).map(m => [m.peerId, m.name]))
  } catch {
    return new Map()
  }
}

/** `alice (12D3KooW…full id)`, or the bare id when the name is unknown */
export function withName (peer: string, names: ReadonlyMap<string, string>): string {
  const name = names.get(peer)
  return name != null && name !== '' ? `${name} (${peer})` : peer
}

/** `alice …SJ5biJzJ`, or the short id alone when the name is unknown */
export function shortWithName (peer: string, names: ReadonlyMap<string, string>): string {
  const name = names.get(peer)
  return name != null && name !== '' ? `${name} ${shortId(peer)}` : shortId(peer)
}
