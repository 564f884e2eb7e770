/** `paired team create NAME`: found a new team, with this daemon as its admin. */
import type { TeamDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'team create NAME'
export const summary = 'found a new team (1 to 64 characters) with this daemon as its admin'
export const args = ['NAME'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const team = await (await ctx.client()).post<TeamDoc>('team/create', { name: parsed.positionals[0] })
  ctx.result(team, () => `created team ${team.name} (${team.teamId}); this daemon is its ${team.role}`)
  return undefined
}
