/** `paired team`: the team this daemon is in. */
import type { TeamDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { keyValues } from '../format.js'

export const usage = 'team'
export const summary = 'the team this daemon is in'

export function formatTeam (team: TeamDoc): string {
  const table = keyValues([
    ['team', team.name],
    ['team id', team.teamId],
    ['role', team.role],
    ['members', String(team.members)]
  ])
  // a removed daemon says so first: it writes and submits nothing until it joins again
  return team.removed != null ? `${team.removed.text}\n${table}` : table
}

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const team = await (await ctx.client()).get<TeamDoc>('team')
  ctx.result(team, () => formatTeam(team))
  return undefined
}
