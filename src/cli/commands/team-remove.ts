/** `paired team remove PEER`: an admin removes a member from the team. */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'team remove PEER'
export const summary = 'remove a member (admins only): every member drops it and closes its connections'
export const details = [
  'PEER is a peer id, a member\'s name, or the last characters of a member\'s peer id.',
  'The removal is signed and replicated; the removed machine needs a new invite to come back.',
  'It still knows the network key: run paired team rotate-key afterwards to shut it out of the network itself.'
].join('\n')
export const args = ['PEER'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const r = await (await ctx.client()).post<{ peerId: string, name: string | null }>('team/remove', { peer: parsed.positionals[0] })
  ctx.result(r, () => `removed ${r.name ?? ''} ${r.peerId} from the team`.replace('  ', ' '))
  return undefined
}
