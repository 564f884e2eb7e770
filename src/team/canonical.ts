/**
 * Canonical encodings: the JSON that signatures cover, and strict base64url / hex.
 */
import { canonicalJsonStrict } from '../model/canonical.js'
import { CERT_DOMAIN, GRANT_DOMAIN } from './constants.js'

/**
 * JSON with object keys sorted (by UTF-16 code unit), no whitespace, `undefined`
 * properties omitted and arrays in order; plain JSON values only. Anything else
 * (non-finite numbers, bigint, class instances, `undefined` in an array, cycles) throws a
 * `TypeError` (`CanonicalEncodingError`). One encoder serves signatures and state hashes.
 */
export function canonicalJson (value: unknown): string {
  return canonicalJsonStrict(value)
}

/** The bytes a certificate or grant signature covers: domain line + canonical JSON. */
export function signingBytes (domain: 'cert' | 'grant', body: object): Uint8Array {
  const prefix = domain === 'cert' ? CERT_DOMAIN : GRANT_DOMAIN
  return new TextEncoder().encode(prefix + canonicalJson(body))
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function toBase64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Strict unpadded base64url: only the alphabet, and only the one canonical spelling of
 * the bytes (unused trailing bits zero). Returns `undefined` for anything else.
 */
export function fromBase64url (text: string, length?: number): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  const bytes = Buffer.from(text, 'base64url')
  if (bytes.toString('base64url') !== text) return undefined
  if (length != null && bytes.length !== length) return undefined
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** True when `text` is exactly `bytes` bytes as lowercase hex. */
export function isHex (text: unknown, bytes: number): text is string {
  return typeof text === 'string' && text.length === bytes * 2 && /^[0-9a-f]*$/.test(text)
}
