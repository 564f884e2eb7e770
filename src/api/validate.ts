/**
 * Validation of API request bodies: pure functions that name the bad field in an
 * `InvalidArgumentError`.
 */
import { InvalidArgumentError } from '../errors.js'
import { parseDuration } from '../model/duration.js'
import type { InviteRequest, Role } from '../model/docs.js'

export const ROLES: readonly Role[] = ['admin', 'member', 'guest']

/** shortest invite lifetime (short enough for a test to watch an invite expire) */
export const MIN_INVITE_TTL_MS = 1_000
/** longest invite lifetime: 30 days */
export const MAX_INVITE_TTL_MS = 30 * 86_400_000
export const MAX_INVITE_USES = 1_000
export const MAX_TEAM_NAME_LENGTH = 64
/** longest invite token or multiaddr accepted */
export const MAX_TOKEN_LENGTH = 16 * 1024
export const MAX_MULTIADDR_LENGTH = 1024

/** throws for any field not in `allowed` */
export function onlyFields (body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(`unknown field "${key}"${allowed.length > 0 ? ` (expected ${allowed.join(', ')})` : ' (this route takes no fields)'}`)
    }
  }
}

export function requireString (body: Record<string, unknown>, field: string, max: number): string {
  const value = body[field]
  if (value == null) throw new InvalidArgumentError(`${field} is required`)
  if (typeof value !== 'string') throw new InvalidArgumentError(`${field} must be a string`)
  const text = value.trim()
  if (text === '') throw new InvalidArgumentError(`${field} must not be empty`)
  if (text.length > max) throw new InvalidArgumentError(`${field} is longer than ${max} characters`)
  return text
}

/** `POST team/create {name}` */
export function parseTeamCreate (body: Record<string, unknown>): { name: string } {
  onlyFields(body, ['name'])
  const value = body.name
  if (typeof value !== 'string' || value.trim() === '' || value.trim().length > MAX_TEAM_NAME_LENGTH) {
    throw new InvalidArgumentError(`name must be 1 to ${MAX_TEAM_NAME_LENGTH} characters`)
  }
  return { name: value.trim() }
}

/** `POST team/invites {role?, ttl?, uses?, addresses?}` */
export function parseInviteRequest (body: Record<string, unknown>): InviteRequest {
  onlyFields(body, ['role', 'ttl', 'uses', 'addresses'])
  const request: InviteRequest = {}
  if (body.role != null) {
    if (typeof body.role !== 'string' || !(ROLES as readonly string[]).includes(body.role)) {
      throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`)
    }
    request.role = body.role as Role
  }
  if (body.ttl != null) {
    if (typeof body.ttl !== 'string' && typeof body.ttl !== 'number') {
      throw new InvalidArgumentError('ttl must be a duration like "24h" or a number of milliseconds')
    }
    const ttlMs = parseDuration(body.ttl, 'ttl')
    if (ttlMs < MIN_INVITE_TTL_MS || ttlMs > MAX_INVITE_TTL_MS) {
      throw new InvalidArgumentError('ttl must be between 1s and 30d')
    }
    request.ttlMs = ttlMs
  }
  if (body.uses != null) {
    const uses = body.uses
    if (typeof uses !== 'number' || !Number.isInteger(uses) || uses < 1 || uses > MAX_INVITE_USES) {
      throw new InvalidArgumentError(`uses must be a whole number from 1 to ${MAX_INVITE_USES}`)
    }
    request.uses = uses
  }
  if (body.addresses != null) {
    if (typeof body.addresses !== 'boolean') throw new InvalidArgumentError('addresses must be true or false')
    request.addresses = body.addresses
  }
  return request
}

/** `POST team/join {token}` */
export function parseJoin (body: Record<string, unknown>): { token: string } {
  onlyFields(body, ['token'])
  return { token: requireString(body, 'token', MAX_TOKEN_LENGTH) }
}

/** `POST connect {multiaddr}` */
export function parseConnect (body: Record<string, unknown>): { multiaddr: string } {
  onlyFields(body, ['multiaddr'])
  return { multiaddr: requireString(body, 'multiaddr', MAX_MULTIADDR_LENGTH) }
}

/** `POST team/remove {peer}` */
export function parseTeamRemove (body: Record<string, unknown>): { peer: string } {
  onlyFields(body, ['peer'])
  return { peer: requireString(body, 'peer', 256) }
}

/** `POST team/invites/revoke {inviteId}` */
export function parseInviteRevoke (body: Record<string, unknown>): { inviteId: string } {
  onlyFields(body, ['inviteId'])
  const inviteId = requireString(body, 'inviteId', 64)
  if (!/^[0-9a-f]{32}$/.test(inviteId)) throw new InvalidArgumentError('inviteId is the 32 hex characters `paired team invite --json` printed')
  return { inviteId }
}
