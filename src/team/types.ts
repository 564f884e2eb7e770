import type { Role } from '../model/docs.js'

export type { Role }

/** What every member knows about its team. */
export interface TeamInfo {
  /** hex of the first 16 bytes of sha256(raw team public key) */
  teamId: string
  name: string
  /** base64url of the raw 32-byte Ed25519 team public key */
  publicKey: string
  /** the pnet pre-shared key: 64 lowercase hex characters (32 random bytes) */
  psk: string
}

/** Signs with a peer's own Ed25519 key. */
export interface Signer {
  readonly peerId: string
  sign(data: Uint8Array): Uint8Array
}

/**
 * An admin's signed permission to join: the joiner turns it into its own certificate.
 * `sig` is by `issuer.peerId`'s key over `paired/grant/v1\n` + canonical JSON without `sig`.
 */
export interface Grant {
  v: 1
  teamId: string
  /** 32 lowercase hex characters */
  inviteId: string
  role: Role
  issuedAt: number
  expiresAt: number
  maxUses: number
  /** the admin's own certificate: the chain up to the team key */
  issuer: MemberCertificate
  /** base64url */
  sig: string
}

/**
 * A peer's membership. Without `grant`, `sig` is by the team key; with `grant` (derived
 * from an invite), `sig` is by the peer's own key. Signed over `paired/cert/v1\n` +
 * canonical JSON without `sig`.
 */
export interface MemberCertificate {
  v: 1
  teamId: string
  peerId: string
  name: string
  role: Role
  issuedAt: number
  expiresAt?: number
  grant?: Grant
  /** base64url */
  sig: string
}

/** What `paired team invite` prints (encoded) and `paired team join` reads. */
export interface InviteToken {
  v: 1
  team: TeamInfo
  /** multiaddrs of members to dial first */
  addrs: string[]
  grant: Grant
}
