/** `paired team rotate-key`: a new network key for the team (admins). */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'team rotate-key'
export const summary = 'give the current members a new network key (admins only)'
export const details = [
  'The key goes directly to each member this daemon reaches now; then this daemon switches too.',
  'A removed member, and every old invite token, hold the old key and can no longer connect.',
  'A member that is offline now keeps the old key: it needs a new invite to come back.'
].join('\n')

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const r = await (await ctx.client()).post<{ keyEpoch: number, delivered: string[], missed: string[] }>('team/rotate-key', {})
  ctx.result(r, () => [
    `network key rotated (epoch ${r.keyEpoch}); ${r.delivered.length} member(s) switched${r.delivered.length > 0 ? `: ${r.delivered.join(', ')}` : ''}`,
    ...(r.missed.length > 0 ? [`not reached (offline?): ${r.missed.join(', ')}; they need a new invite: paired team invite`] : [])
  ].join('\n'))
  return undefined
}
