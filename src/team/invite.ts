/**
 * Invites: an admin signs a grant into a token; the joiner checks it offline and signs
 * its own peer id into a certificate derived from it.
 */
import { randomBytes } from 'node:crypto'
import { InvalidArgumentError, PermissionDeniedError } from '../errors.js'
import { canonicalJson, fromBase64url, isHex, toBase64url, toHex } from './canonical.js'
import {
  signGrant, signOwnCertificate, teamIdFromPublicKey, verifyCertificate, verifyGrant
} from './certificate.js'
import type { TeamKey } from './certificate.js'
import {
  DEFAULT_INVITE_MAX_USES, DEFAULT_INVITE_TTL_MS, ED25519_PUBLIC_KEY_LENGTH, INVITE_ID_LENGTH,
  INVITE_PREFIX, MAX_ADDR_LENGTH, MAX_INVITE_ADDRS, MAX_INVITE_LENGTH, MAX_INVITE_USES, MAX_TIMESTAMP,
  PSK_LENGTH, TEAM_ID_LENGTH
} from './constants.js'
import { InvalidCertificateError, InvalidInviteError, InviteExpiredError, MalformedInviteError } from './errors.js'
import { checkGrantShape, isPlainRecord, isRole, isTimestamp, isValidName } from './shape.js'
import type { Grant, InviteToken, MemberCertificate, Role, Signer, TeamInfo } from './types.js'

export interface CreateInviteInit {
  team: TeamInfo
  /** the inviting admin's own certificate */
  issuerCert: MemberCertificate
  /** the inviting admin's key: `signer.peerId === issuerCert.peerId` */
  signer: Signer
  role: Role
  /** @default 24 h */
  ttlMs?: number
  /** @default 1 */
  maxUses?: number
  /** member addresses for the joiner to dial; only the first 32 are kept */
  addrs?: string[]
  now: number
}

/**
 * A signed invite. Throws `PermissionDeniedError` unless the signer is the issuer and the
 * issuer is an admin, `InvalidCertificateError` if the issuer's certificate does not
 * verify, and `InvalidArgumentError` for a bad role, ttl, use count or address.
 */
export function createInvite (init: CreateInviteInit): InviteToken {
  const { team, issuerCert, signer, role, now } = init
  const ttlMs = init.ttlMs ?? DEFAULT_INVITE_TTL_MS
  const maxUses = init.maxUses ?? DEFAULT_INVITE_MAX_USES
  if (issuerCert.role !== 'admin') {
    throw new PermissionDeniedError(`only admins can invite; ${issuerCert.peerId} is a ${issuerCert.role}`)
  }
  if (signer.peerId !== issuerCert.peerId) {
    throw new PermissionDeniedError(`the signer ${signer.peerId} is not the certificate holder ${issuerCert.peerId}`)
  }
  if (!isRole(role)) throw new InvalidArgumentError(`unknown role ${String(role)}`)
  if (!isTimestamp(now)) throw new InvalidArgumentError('now must be a time in ms since the epoch')
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || now + ttlMs > MAX_TIMESTAMP) {
    throw new InvalidArgumentError('ttlMs must be a positive whole number of milliseconds')
  }
  if (!Number.isSafeInteger(maxUses) || maxUses < 1 || maxUses > MAX_INVITE_USES) {
    throw new InvalidArgumentError(`maxUses must be a whole number from 1 to ${MAX_INVITE_USES}`)
  }
  const addrs = (init.addrs ?? []).slice(0, MAX_INVITE_ADDRS)
  for (const addr of addrs) {
    if (!isAddr(addr)) throw new InvalidArgumentError(`not a multiaddr: ${String(addr).slice(0, 80)}`)
  }
  verifyCertificate(issuerCert, team, now)
  const grant = signGrant({
    v: 1,
    teamId: team.teamId,
    inviteId: toHex(randomBytes(INVITE_ID_LENGTH)),
    role,
    issuedAt: now,
    expiresAt: now + ttlMs,
    maxUses,
    issuer: issuerCert
  }, signer)
  try {
    verifyGrant(grant, team, now)
  } catch {
    throw new PermissionDeniedError(`the signer's key is not the key of ${signer.peerId}`)
  }
  return { v: 1, team: { teamId: team.teamId, name: team.name, publicKey: team.publicKey, psk: team.psk }, addrs, grant }
}

/** `paired1.` + base64url of the token's canonical JSON. */
export function encodeInvite (token: InviteToken): string {
  return INVITE_PREFIX + toBase64url(new TextEncoder().encode(canonicalJson(token)))
}

function isAddr (value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/') && value.length <= MAX_ADDR_LENGTH && !/\p{Cc}/u.test(value)
}

function malformed (reason: string): never {
  throw new MalformedInviteError(`invite token is malformed: ${reason}`)
}

function checkKeys (record: Record<string, unknown>, keys: string[], what: string): void {
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) malformed(`${what} has an unexpected field ${JSON.stringify(key.slice(0, 32))}`)
  }
}

/** Throws `MalformedInviteError` unless `value` has the exact shape of an invite token. */
export function checkInviteShape (value: unknown): asserts value is InviteToken {
  if (!isPlainRecord(value)) malformed('not an object')
  checkKeys(value, ['v', 'team', 'addrs', 'grant'], 'token')
  if (value.v !== 1) malformed('unknown version')
  const team = value.team
  if (!isPlainRecord(team)) malformed('team is missing')
  checkKeys(team, ['teamId', 'name', 'publicKey', 'psk'], 'team')
  if (!isHex(team.teamId, TEAM_ID_LENGTH)) malformed('team id is not 32 hex characters')
  if (!isValidName(team.name)) malformed('team name is invalid')
  const publicKey = typeof team.publicKey === 'string' ? fromBase64url(team.publicKey, ED25519_PUBLIC_KEY_LENGTH) : undefined
  if (publicKey == null) malformed('team public key is not 32 bytes of base64url')
  if (teamIdFromPublicKey(publicKey) !== team.teamId) malformed('team id does not match the team public key')
  if (!isHex(team.psk, PSK_LENGTH)) malformed('pre-shared key is not 64 hex characters')
  if (!Array.isArray(value.addrs) || value.addrs.length > MAX_INVITE_ADDRS || !value.addrs.every(isAddr)) {
    malformed('addresses are not a list of multiaddrs')
  }
  try {
    checkGrantShape(value.grant)
  } catch (err) {
    if (err instanceof InvalidCertificateError) malformed(err.message)
    throw err
  }
}

/**
 * Reads a token printed by `encodeInvite` (surrounding whitespace ignored). Throws
 * `MalformedInviteError` for anything else; does not check signatures or expiry.
 */
export function decodeInvite (text: string): InviteToken {
  if (typeof text !== 'string') malformed('not a string')
  if (text.length > MAX_INVITE_LENGTH) malformed(`longer than ${MAX_INVITE_LENGTH} characters`)
  const trimmed = text.trim()
  if (!trimmed.startsWith(INVITE_PREFIX)) malformed(`it does not start with ${INVITE_PREFIX}`)
  const bytes = fromBase64url(trimmed.slice(INVITE_PREFIX.length))
  if (bytes == null) malformed('not base64url')
  let json: string
  let value: unknown
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    malformed('not UTF-8')
  }
  try {
    value = JSON.parse(json)
  } catch {
    malformed('not JSON')
  }
  checkInviteShape(value)
  return value
}

/**
 * Throws unless `token` is an unexpired invite signed by an admin of the team it names:
 * `MalformedInviteError` (shape), `InviteExpiredError`, or `InvalidInviteError`.
 */
export function checkInvite (token: InviteToken, now: number): void {
  checkInviteShape(token)
  const { team, grant } = token
  if (grant.expiresAt < now) throw new InviteExpiredError(`invite expired at ${new Date(grant.expiresAt).toISOString()}`)
  const notAdmin = `invite is not signed by an admin of team ${team.name} (${team.teamId})`
  if (grant.teamId !== team.teamId) throw new InvalidInviteError(`${notAdmin}: its grant is for team ${grant.teamId}`)
  try {
    verifyGrant(grant, team, now)
  } catch (err) {
    if (err instanceof InvalidCertificateError) throw new InvalidInviteError(`${notAdmin}: ${err.message}`)
    throw err
  }
}

export interface AcceptInviteInit {
  token: InviteToken
  /** the joiner's own key */
  signer: Signer
  /** the joiner's display name */
  name: string
  now: number
}

/**
 * The joiner's own certificate for `token` (after `checkInvite`): the grant's role, signed
 * by the joiner. Its `issuedAt` is `now`, raised to the grant's `issuedAt` if the joiner's
 * clock is behind the admin's.
 */
export function acceptInvite (init: AcceptInviteInit): MemberCertificate {
  const { token, signer, name, now } = init
  checkInvite(token, now)
  if (!isValidName(name)) throw new InvalidArgumentError('a name is 1 to 128 characters without control characters')
  const grant: Grant = token.grant
  const cert = signOwnCertificate({
    v: 1,
    teamId: grant.teamId,
    peerId: signer.peerId,
    name,
    role: grant.role,
    issuedAt: Math.max(now, grant.issuedAt),
    grant
  }, signer)
  const team: TeamKey = token.team
  verifyCertificate(cert, team, now)
  return cert
}
