/** `paired team join TOKEN`: join a team with an invite token. */
import type { TeamDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'team join TOKEN'
export const summary = 'join a team with an invite token (this daemon leaves its current team)'
export const args = ['TOKEN'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const team = await (await ctx.client()).post<TeamDoc>('team/join', { token: parsed.positionals[0] })
  ctx.result(team, () => `joined team ${team.name} as ${team.role === 'admin' ? 'an' : 'a'} ${team.role} (${team.members} member${team.members === 1 ? '' : 's'})`)
  return undefined
}
