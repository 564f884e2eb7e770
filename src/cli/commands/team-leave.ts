/** `paired team leave`: leave the team; the daemon goes back to a team of its own. */
import type { TeamDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'team leave'
export const summary = 'leave the team (the daemon gets a personal team of its own)'

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const team = await (await ctx.client()).post<TeamDoc>('team/leave', {})
  ctx.result(team, () => `left the team; this daemon is now in team ${team.name}`)
  return undefined
}
