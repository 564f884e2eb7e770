/**
 * `paired team invite`: a new invite token. The bare token goes to stdout, so
 * `$(paired team invite)` works; the hint goes to stderr.
 */
import type { InviteDoc } from '../../model/docs.js'
import { UsageError, checkDurationUnit, flag, intOption, stringOption } from '../args.js'
import type { CommandArgs, CommandContext, CommandOptions } from '../context.js'

export const usage = 'team invite [--role R] [--ttl D] [--uses N] [--no-addresses] | team invite revoke INVITE_ID'
export const summary = 'print a new invite token, or revoke one (admins only)'
export const optionalArgs = 2
export const details = [
  '  revoke INVITE_ID  the invite admits nobody new (members it admitted stay; see paired team remove)',
  '  --role R         admin, member (default) or guest',
  '  --ttl D          how long it stays valid, with a unit: 30m, 24h (default) or 7d',
  '  --uses N         how many peers it admits (default 1, at most 1000)',
  '  --no-addresses   leave this daemon\'s addresses out of the token'
].join('\n')
export const options: CommandOptions = {
  role: { type: 'string' },
  ttl: { type: 'string' },
  uses: { type: 'string' },
  'no-addresses': { type: 'boolean' }
}

async function revoke (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const inviteId = parsed.positionals[1]
  if (inviteId == null || parsed.positionals.length !== 2) throw new UsageError('usage: paired team invite revoke INVITE_ID')
  const r = await (await ctx.client()).post<{ inviteId: string, kept: number }>('team/invites/revoke', { inviteId })
  ctx.result(r, () => `invite ${r.inviteId} revoked; the ${r.kept === 1 ? 'member' : `${r.kept} members`} it admitted stay${r.kept === 0 ? '' : ' (paired team remove PEER to remove one)'}`)
  return undefined
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  if (parsed.positionals.length > 0) {
    if (parsed.positionals[0] !== 'revoke') throw new UsageError(`unknown argument "${parsed.positionals[0]}" (did you mean: paired team invite revoke INVITE_ID?)`)
    return await revoke(parsed, ctx)
  }
  const body: Record<string, unknown> = {}
  const role = stringOption(parsed, 'role')
  if (role != null) body.role = role
  const ttl = stringOption(parsed, 'ttl')
  if (ttl != null) body.ttl = checkDurationUnit(ttl, '--ttl')
  const uses = intOption(parsed, 'uses', 1, 1000)
  if (uses != null) body.uses = uses
  if (flag(parsed, 'no-addresses')) body.addresses = false
  const invite = await (await ctx.client()).post<InviteDoc>('team/invites', body)
  if (ctx.json) {
    ctx.result(invite, () => invite.token)
    return undefined
  }
  ctx.out(invite.token)
  const uses1 = invite.maxUses === 1 ? '1 use' : `${invite.maxUses} uses`
  ctx.err(`invite ${invite.inviteId} for a ${invite.role}, ${uses1}, valid until ${new Date(invite.expiresAt).toISOString()}; on the joining machine run: paired team join <token>`)
  return undefined
}
