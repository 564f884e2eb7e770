/**
 * Team creation, certificate issuing and certificate (chain) verification.
 */
import { createHash, randomBytes } from 'node:crypto'
import { InvalidArgumentError } from '../errors.js'
import { fromBase64url, signingBytes, toBase64url, toHex } from './canonical.js'
import { ED25519_PUBLIC_KEY_LENGTH, PSK_LENGTH, TEAM_ID_LENGTH } from './constants.js'
import { generateEd25519, peerPublicKey, publicKeyFromSeed, signEd25519, verifyEd25519 } from './ed25519.js'
import { InvalidCertificateError } from './errors.js'
import { checkCertificateShape, checkGrantShape, isRole, isTimestamp, isValidName } from './shape.js'
import type { Grant, MemberCertificate, Role, Signer, TeamInfo } from './types.js'

/** The part of a team needed to verify its members. */
export type TeamKey = Pick<TeamInfo, 'teamId' | 'publicKey'>

/** Hex of the first 16 bytes of sha256(raw team public key). */
export function teamIdFromPublicKey (publicKey: Uint8Array): string {
  return toHex(createHash('sha256').update(publicKey).digest().subarray(0, TEAM_ID_LENGTH))
}

/** A certificate or grant without its signature: exactly the fields the signature covers. */
export function certificateBody (cert: MemberCertificate): Omit<MemberCertificate, 'sig'> {
  const { v, teamId, peerId, name, role, issuedAt, expiresAt, grant } = cert
  return { v, teamId, peerId, name, role, issuedAt, expiresAt, grant }
}

export function grantBody (grant: Grant): Omit<Grant, 'sig'> {
  const { v, teamId, inviteId, role, issuedAt, expiresAt, maxUses, issuer } = grant
  return { v, teamId, inviteId, role, issuedAt, expiresAt, maxUses, issuer }
}

function checkIssueArgs (peerId: string, name: string, role: Role, now: number, expiresAt?: number): void {
  if (peerPublicKey(peerId) == null) throw new InvalidArgumentError(`${String(peerId)} is not an Ed25519 peer id`)
  if (!isValidName(name)) throw new InvalidArgumentError('a name is 1 to 128 characters without control characters')
  if (!isRole(role)) throw new InvalidArgumentError(`unknown role ${String(role)}`)
  if (!isTimestamp(now)) throw new InvalidArgumentError('now must be a time in ms since the epoch')
  if (expiresAt !== undefined && (!isTimestamp(expiresAt) || expiresAt < now)) {
    throw new InvalidArgumentError('expiresAt must be a time in ms, not before now')
  }
}

export interface CreateTeamInit {
  name: string
  founder: Signer
  founderName: string
  now: number
}

/** A new team: fresh team key and pre-shared key, and the founder's admin certificate. */
export function createTeam (init: CreateTeamInit): { team: TeamInfo, teamSeed: Uint8Array, founderCert: MemberCertificate } {
  if (!isValidName(init.name)) throw new InvalidArgumentError('a team name is 1 to 128 characters without control characters')
  const { publicKey, seed } = generateEd25519()
  const team: TeamInfo = {
    teamId: teamIdFromPublicKey(publicKey),
    name: init.name,
    publicKey: toBase64url(publicKey),
    psk: toHex(randomBytes(PSK_LENGTH))
  }
  const founderCert = issueCertificate({
    team, teamSeed: seed, peerId: init.founder.peerId, name: init.founderName, role: 'admin', now: init.now
  })
  return { team, teamSeed: seed, founderCert }
}

export interface IssueCertificateInit {
  team: TeamKey
  /** the team key's 32-byte seed */
  teamSeed: Uint8Array
  peerId: string
  name: string
  role: Role
  now: number
  expiresAt?: number
}

/** A certificate signed by the team key. Throws `InvalidArgumentError` for bad arguments. */
export function issueCertificate (init: IssueCertificateInit): MemberCertificate {
  checkIssueArgs(init.peerId, init.name, init.role, init.now, init.expiresAt)
  if (toBase64url(publicKeyFromSeed(init.teamSeed)) !== init.team.publicKey) {
    throw new InvalidArgumentError('the team seed is not the key of this team')
  }
  const body: Omit<MemberCertificate, 'sig'> = {
    v: 1,
    teamId: init.team.teamId,
    peerId: init.peerId,
    name: init.name,
    role: init.role,
    issuedAt: init.now,
    ...(init.expiresAt !== undefined ? { expiresAt: init.expiresAt } : {})
  }
  return { ...body, sig: toBase64url(signEd25519(init.teamSeed, signingBytes('cert', body))) }
}

/** Signs a grant body with the issuer's key. */
export function signGrant (body: Omit<Grant, 'sig'>, signer: Signer): Grant {
  return { ...body, sig: toBase64url(signer.sign(signingBytes('grant', body))) }
}

/** Signs an invite-derived certificate body with the joiner's own key. */
export function signOwnCertificate (body: Omit<MemberCertificate, 'sig'>, signer: Signer): MemberCertificate {
  return { ...body, sig: toBase64url(signer.sign(signingBytes('cert', body))) }
}

function teamPublicKey (team: TeamKey): Uint8Array {
  const key = typeof team?.publicKey === 'string' ? fromBase64url(team.publicKey, ED25519_PUBLIC_KEY_LENGTH) : undefined
  if (key == null) throw new InvalidArgumentError('the team public key is malformed')
  return key
}

function iso (ms: number): string {
  return new Date(ms).toISOString()
}

function sigOk (publicKey: Uint8Array, domain: 'cert' | 'grant', body: object, sig: string): boolean {
  const bytes = fromBase64url(sig)
  return bytes != null && verifyEd25519(publicKey, signingBytes(domain, body), bytes)
}

function verifyChain (cert: MemberCertificate, team: TeamKey, teamKey: Uint8Array, now: number): void {
  const who = `certificate of ${cert.peerId}`
  if (cert.teamId !== team.teamId) throw new InvalidCertificateError(`${who} is for team ${cert.teamId}, not ${team.teamId}`)
  if (cert.expiresAt !== undefined && cert.expiresAt < now) throw new InvalidCertificateError(`${who} expired at ${iso(cert.expiresAt)}`)
  const grant = cert.grant
  if (grant === undefined) {
    if (!sigOk(teamKey, 'cert', certificateBody(cert), cert.sig)) {
      throw new InvalidCertificateError(`${who} has a bad signature (not by the team key)`)
    }
    return
  }
  if (grant.teamId !== cert.teamId) throw new InvalidCertificateError(`${who} has a grant for team ${grant.teamId}, not ${cert.teamId}`)
  if (grant.role !== cert.role) throw new InvalidCertificateError(`${who} claims role ${cert.role} but its invite grants ${grant.role}`)
  if (cert.issuedAt < grant.issuedAt || cert.issuedAt > grant.expiresAt) {
    throw new InvalidCertificateError(`${who} was issued outside its invite's validity (${iso(grant.issuedAt)} to ${iso(grant.expiresAt)})`)
  }
  if (grant.issuer.role !== 'admin') {
    throw new InvalidCertificateError(`${who} comes from invite ${grant.inviteId.slice(0, 8)} whose issuer ${grant.issuer.peerId} is not an admin`)
  }
  const ownKey = peerPublicKey(cert.peerId)
  if (ownKey == null || !sigOk(ownKey, 'cert', certificateBody(cert), cert.sig)) {
    throw new InvalidCertificateError(`${who} has a bad signature (not by its own peer key)`)
  }
  verifyGrantChain(grant, team, teamKey, now)
}

function verifyGrantChain (grant: Grant, team: TeamKey, teamKey: Uint8Array, now: number): void {
  const issuer = grant.issuer
  if (issuer.role !== 'admin') throw new InvalidCertificateError(`invite ${grant.inviteId.slice(0, 8)} issuer ${issuer.peerId} is not an admin`)
  const issuerKey = peerPublicKey(issuer.peerId)
  if (issuerKey == null || !sigOk(issuerKey, 'grant', grantBody(grant), grant.sig)) {
    throw new InvalidCertificateError(`invite ${grant.inviteId.slice(0, 8)} has a bad signature (not by ${issuer.peerId})`)
  }
  try {
    verifyChain(issuer, team, teamKey, now)
  } catch (err) {
    if (err instanceof InvalidCertificateError) throw new InvalidCertificateError(`invite issuer: ${err.message}`)
    throw err
  }
}

function malformed (err: unknown): never {
  if (err instanceof InvalidCertificateError || err instanceof InvalidArgumentError) throw err
  throw new InvalidCertificateError(`certificate is malformed: ${err instanceof Error ? err.message : String(err)}`)
}

/**
 * Throws `InvalidCertificateError` (one line naming the problem) unless `cert` is a
 * well-formed certificate of `team`, valid at `now`, with a valid chain: signed by the
 * team key, or derived from an invite granted by an admin (recursively, at most 8 grants).
 * Throws `InvalidArgumentError` when `team` itself is malformed.
 */
export function verifyCertificate (cert: unknown, team: TeamKey, now: number): asserts cert is MemberCertificate {
  const teamKey = teamPublicKey(team)
  try {
    checkCertificateShape(cert)
    verifyChain(cert, team, teamKey, now)
  } catch (err) {
    malformed(err)
  }
}

/**
 * Throws `InvalidCertificateError` unless `grant` is well formed and signed by an admin
 * of `team` whose certificate is valid at `now`. Does not look at the grant's own expiry.
 */
export function verifyGrant (grant: unknown, team: TeamKey, now: number): asserts grant is Grant {
  const teamKey = teamPublicKey(team)
  try {
    checkGrantShape(grant)
    if (grant.teamId !== team.teamId) throw new InvalidCertificateError(`invite is for team ${grant.teamId}, not ${team.teamId}`)
    verifyGrantChain(grant, team, teamKey, now)
  } catch (err) {
    malformed(err)
  }
}

/**
 * True when no certificate in `cert`'s chain has expired at `now`. Only meaningful for a
 * certificate that was verified before: it checks times, not signatures.
 */
export function isCertificateCurrent (cert: MemberCertificate, now: number): boolean {
  for (let c: MemberCertificate | undefined = cert; c != null; c = c.grant?.issuer) {
    if (c.expiresAt !== undefined && c.expiresAt < now) return false
  }
  return true
}
