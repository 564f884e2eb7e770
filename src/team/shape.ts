/**
 * Structural checks of untrusted certificates and grants, before any crypto: exact key
 * sets, types, ranges, and a bounded chain depth. Every failure is an
 * `InvalidCertificateError` naming the bad field.
 */
import { fromBase64url, isHex } from './canonical.js'
import {
  ED25519_SIGNATURE_LENGTH, INVITE_ID_LENGTH, MAX_CHAIN_DEPTH, MAX_INVITE_USES, MAX_NAME_LENGTH,
  MAX_TIMESTAMP, TEAM_ID_LENGTH
} from './constants.js'
import { peerPublicKey } from './ed25519.js'
import { InvalidCertificateError } from './errors.js'
import type { Grant, MemberCertificate, Role } from './types.js'

const ROLES: ReadonlySet<unknown> = new Set<Role>(['admin', 'member', 'guest'])
const CERT_KEYS: ReadonlySet<string> = new Set(['v', 'teamId', 'peerId', 'name', 'role', 'issuedAt', 'expiresAt', 'grant', 'sig'])
const GRANT_KEYS: ReadonlySet<string> = new Set(['v', 'teamId', 'inviteId', 'role', 'issuedAt', 'expiresAt', 'maxUses', 'issuer', 'sig'])

export function isRole (value: unknown): value is Role {
  return ROLES.has(value)
}

/** 1 to 128 UTF-16 code units, no control characters (names are printed on terminals). */
export function isValidName (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH &&
    !/\p{Cc}/u.test(value)
}

export function isTimestamp (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TIMESTAMP
}

export function isSignature (value: unknown): value is string {
  return typeof value === 'string' && fromBase64url(value, ED25519_SIGNATURE_LENGTH) != null
}

export function isPlainRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fail (message: string): never {
  throw new InvalidCertificateError(message)
}

function checkKeys (record: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.has(key)) fail(`${what} has an unexpected field ${JSON.stringify(key.slice(0, 32))}`)
  }
}

/** Throws `InvalidCertificateError` unless `value` has the exact shape of a certificate. */
export function checkCertificateShape (value: unknown, depth = 0): asserts value is MemberCertificate {
  if (!isPlainRecord(value)) fail('certificate is not an object')
  checkKeys(value, CERT_KEYS, 'certificate')
  if (value.v !== 1) fail('certificate has an unknown version')
  if (!isHex(value.teamId, TEAM_ID_LENGTH)) fail('certificate has a malformed team id')
  if (peerPublicKey(value.peerId) == null) fail('certificate peer id is not an Ed25519 peer id')
  const who = `certificate of ${value.peerId as string}`
  if (!isValidName(value.name)) fail(`${who} has an invalid name`)
  if (!isRole(value.role)) fail(`${who} has an unknown role`)
  if (!isTimestamp(value.issuedAt)) fail(`${who} has an invalid issuedAt`)
  if (value.expiresAt !== undefined && (!isTimestamp(value.expiresAt) || value.expiresAt < value.issuedAt)) {
    fail(`${who} has an invalid expiresAt`)
  }
  if (!isSignature(value.sig)) fail(`${who} has a malformed signature`)
  if (value.grant !== undefined) {
    if (depth >= MAX_CHAIN_DEPTH) fail(`certificate chain is deeper than ${MAX_CHAIN_DEPTH}`)
    checkGrantShape(value.grant, depth + 1)
  }
}

/**
 * Throws `InvalidCertificateError` unless `value` has the exact shape of a grant.
 * `depth` is the depth of the grant's issuer certificate in the chain.
 */
export function checkGrantShape (value: unknown, depth = 1): asserts value is Grant {
  if (!isPlainRecord(value)) fail('grant is not an object')
  checkKeys(value, GRANT_KEYS, 'grant')
  if (value.v !== 1) fail('grant has an unknown version')
  if (!isHex(value.teamId, TEAM_ID_LENGTH)) fail('grant has a malformed team id')
  if (!isHex(value.inviteId, INVITE_ID_LENGTH)) fail('grant has a malformed invite id')
  if (!isRole(value.role)) fail('grant has an unknown role')
  if (!isTimestamp(value.issuedAt)) fail('grant has an invalid issuedAt')
  if (!isTimestamp(value.expiresAt) || value.expiresAt < value.issuedAt) fail('grant has an invalid expiresAt')
  if (typeof value.maxUses !== 'number' || !Number.isSafeInteger(value.maxUses) ||
    value.maxUses < 1 || value.maxUses > MAX_INVITE_USES) {
    fail('grant has an invalid maxUses')
  }
  if (!isSignature(value.sig)) fail('grant has a malformed signature')
  if (depth > MAX_CHAIN_DEPTH) fail(`certificate chain is deeper than ${MAX_CHAIN_DEPTH}`)
  checkCertificateShape(value.issuer, depth)
}
