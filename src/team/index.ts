/**
 * @packageDocumentation
 *
 * Pure team trust primitives: the team key, membership certificates, invites and the
 * roster. No I/O, no network, no timers: every function that needs the time takes `now`
 * in ms since the epoch.
 *
 * A certificate without a grant is signed by the team key. A certificate with a grant was
 * derived from an invite: the joiner signed it with its own peer key, and the grant
 * inside it is signed by an admin whose own certificate is the next link of the chain.
 */
export type { Grant, InviteToken, MemberCertificate, Role, Signer, TeamInfo } from './types.js'
export {
  InvalidCertificateError, InvalidInviteError, InviteExpiredError, InviteUsedError, MalformedInviteError,
  WrongTeamError, assertSameTeam
} from './errors.js'
export { generateEd25519, peerPublicKey, publicKeyFromSeed, signEd25519, signerFromSeed, verifyEd25519 } from './ed25519.js'
export { canonicalJson } from './canonical.js'
export {
  createTeam, isCertificateCurrent, issueCertificate, teamIdFromPublicKey, verifyCertificate, verifyGrant
} from './certificate.js'
export type { CreateTeamInit, IssueCertificateInit, TeamKey } from './certificate.js'
export { acceptInvite, checkInvite, createInvite, decodeInvite, encodeInvite } from './invite.js'
export type { AcceptInviteInit, CreateInviteInit } from './invite.js'
export { Roster, type RosterMerge } from './roster.js'
export * from './constants.js'
