/** `paired team members`: the members of this daemon's team. */
import type { MemberDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { shortId, table } from '../format.js'

export const usage = 'team members'
export const summary = 'the members of this daemon\'s team and whether they are connected'

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const members = await (await ctx.client()).get<MemberDoc[]>('team/members')
  ctx.result(members, () => table(
    ['PEER', 'NAME', 'ROLE', 'STATE'],
    members.map(m => [shortId(m.peerId), m.name, m.role, m.self ? 'this daemon' : m.connected ? 'connected' : 'disconnected'])
  ))
  return undefined
}
