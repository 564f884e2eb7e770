/** Signature domains: a signature over one kind of object never verifies as another. */
export const CERT_DOMAIN = 'paired/cert/v1\n'
export const GRANT_DOMAIN = 'paired/grant/v1\n'

/** The prefix of an encoded invite token; the digit is the token format version. */
export const INVITE_PREFIX = 'paired1.'

/** Longest invite text `decodeInvite` reads, in characters. */
export const MAX_INVITE_LENGTH = 64 * 1024

/** Most addresses an invite carries; `createInvite` keeps the first ones. */
export const MAX_INVITE_ADDRS = 32

/** Longest multiaddr string in an invite. */
export const MAX_ADDR_LENGTH = 1024

/** Most grants in a certificate chain (an invited admin inviting an admin inviting …). */
export const MAX_CHAIN_DEPTH = 8

/** Longest team or member name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 128

/** Longest peer id string accepted (an Ed25519 peer id is 52 characters). */
export const MAX_PEER_ID_LENGTH = 128

/** Most uses one invite may allow. */
export const MAX_INVITE_USES = 10_000

/** @default 24 h */
export const DEFAULT_INVITE_TTL_MS = 24 * 60 * 60 * 1000

/** Invites are single-use unless asked otherwise. */
export const DEFAULT_INVITE_MAX_USES = 1

/** The largest time a JavaScript `Date` can hold (ms since the epoch). */
export const MAX_TIMESTAMP = 8_640_000_000_000_000

/** Bytes in an Ed25519 public key, seed and signature. */
export const ED25519_PUBLIC_KEY_LENGTH = 32
export const ED25519_SEED_LENGTH = 32
export const ED25519_SIGNATURE_LENGTH = 64

/** Bytes of the team pre-shared key (pnet). */
export const PSK_LENGTH = 32

/** Bytes of sha256(team public key) that make the team id. */
export const TEAM_ID_LENGTH = 16

/** Bytes of an invite id. */
export const INVITE_ID_LENGTH = 16
