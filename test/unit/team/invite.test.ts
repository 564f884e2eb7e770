import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidInviteError, InviteExpiredError, MalformedInviteError, WrongTeamError, acceptInvite, assertSameTeam,
  canonicalJson, checkInvite, createInvite, decodeInvite, encodeInvite, issueCertificate, verifyCertificate,
  type InviteToken, type Signer
} from '../../../src/team/index.js'
import { HOUR, T0, clone, makePeer, makeTeam, type TestPeer, type TestTeam } from './helpers.js'

let t: TestTeam
let other: TestTeam
let bob: TestPeer
let token: InviteToken

function encodeRaw (value: unknown): string {
  return 'paired1.' + Buffer.from(JSON.stringify(value)).toString('base64url')
}

function expectMalformed (text: string, message?: RegExp): void {
  let error: unknown
  try {
    decodeInvite(text)
  } catch (err) {
    error = err
  }
  expect(error).toBeInstanceOf(MalformedInviteError)
  expect((error as Error).message).toMatch(/^invite token is malformed: /)
  if (message != null) expect((error as Error).message).toMatch(message)
}

beforeAll(async () => {
  t = await makeTeam('core')
  other = await makeTeam('other')
  bob = await makePeer()
  token = createInvite({
    team: t.team, issuerCert: t.founderCert, signer: t.founder.signer, role: 'member',
    ttlMs: 24 * HOUR, maxUses: 2, addrs: ['/ip4/10.0.0.1/tcp/4001/p2p/' + t.founder.peerId], now: T0
  })
})

describe('createInvite', () => {
  it('carries the team, the addresses and a grant signed by the admin', () => {
    expect(token.team).toEqual(t.team)
    expect(token.addrs).toHaveLength(1)
    expect(token.grant).toMatchObject({ v: 1, teamId: t.team.teamId, role: 'member', issuedAt: T0, expiresAt: T0 + 24 * HOUR, maxUses: 2 })
    expect(token.grant.inviteId).toMatch(/^[0-9a-f]{32}$/)
    expect(token.grant.issuer).toEqual(t.founderCert)
    checkInvite(token, T0)
  })

  it('makes a fresh invite id each time', () => {
    const again = createInvite({ team: t.team, issuerCert: t.founderCert, signer: t.founder.signer, role: 'member', now: T0 })
    expect(again.grant.inviteId).not.toBe(token.grant.inviteId)
    expect(again.grant).toMatchObject({ maxUses: 1, expiresAt: T0 + 24 * HOUR })
  })

  it('refuses a signer that is not the certificate holder, or holds another key', async () => {
    expect(() => createInvite({ team: t.team, issuerCert: t.founderCert, signer: bob.signer, role: 'member', now: T0 }))
      .toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
    const liar: Signer = { peerId: t.founder.peerId, sign: data => bob.signer.sign(data) }
    expect(() => createInvite({ team: t.team, issuerCert: t.founderCert, signer: liar, role: 'member', now: T0 }))
      .toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
  })

  it('refuses a non-admin issuer', () => {
    const memberCert = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: bob.peerId, name: 'bob', role: 'member', now: T0 })
    expect(() => createInvite({ team: t.team, issuerCert: memberCert, signer: bob.signer, role: 'guest', now: T0 }))
      .toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
  })

  it('refuses bad ttl, uses and addresses', () => {
    const base = { team: t.team, issuerCert: t.founderCert, signer: t.founder.signer, role: 'member' as const, now: T0 }
    for (const bad of [{ ttlMs: 0 }, { ttlMs: -1 }, { ttlMs: 1.5 }, { maxUses: 0 }, { maxUses: 2.5 }, { addrs: ['not an addr'] }]) {
      expect(() => createInvite({ ...base, ...bad })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    }
  })
})

describe('encodeInvite / decodeInvite', () => {
  it('round trips, ignoring surrounding whitespace', () => {
    const text = encodeInvite(token)
    expect(text).toMatch(/^paired1\.[A-Za-z0-9_-]+$/)
    expect(decodeInvite(text)).toEqual(token)
    expect(decodeInvite(`\n  ${text}\t\n`)).toEqual(token)
    expect(encodeInvite(decodeInvite(text))).toBe(text)
  })

  it('rejects wrong prefixes, encodings and JSON', () => {
    const body = encodeInvite(token).slice('paired1.'.length)
    expectMalformed('', /does not start with/)
    expectMalformed('paired2.' + body, /does not start with/)
    expectMalformed('paired1.' + body + '!', /base64url/)
    expectMalformed('paired1.' + body.slice(0, -1), /base64url|JSON/)
    expectMalformed('paired1.' + Buffer.from('{nope').toString('base64url'), /not JSON/)
    expectMalformed('paired1.' + Buffer.from([0xff, 0xfe]).toString('base64url'), /UTF-8/)
    expectMalformed('paired1.' + 'A'.repeat(64 * 1024), /longer than/)
  })

  it.each([
    ['a non-object', () => 42, /not an object/],
    ['version', (v: InviteToken) => ({ ...v, v: 2 }), /version/],
    ['unknown field', (v: InviteToken) => ({ ...v, extra: 1 }), /unexpected field/],
    ['psk not 64 hex', (v: InviteToken) => ({ ...v, team: { ...v.team, psk: 'ab' } }), /pre-shared key/],
    ['psk with non-hex', (v: InviteToken) => ({ ...v, team: { ...v.team, psk: 'g'.repeat(64) } }), /pre-shared key/],
    ['team id not matching the key', (v: InviteToken) => ({ ...v, team: { ...v.team, teamId: other.team.teamId } }), /does not match/],
    ['public key', (v: InviteToken) => ({ ...v, team: { ...v.team, publicKey: 'abc' } }), /public key/],
    ['team name', (v: InviteToken) => ({ ...v, team: { ...v.team, name: 7 } }), /team name/],
    ['addrs type', (v: InviteToken) => ({ ...v, addrs: 'x' }), /addresses/],
    ['addr entry', (v: InviteToken) => ({ ...v, addrs: [5] }), /addresses/],
    ['grant missing', (v: InviteToken) => ({ ...v, grant: undefined }), /grant/],
    ['grant maxUses', (v: InviteToken) => ({ ...v, grant: { ...v.grant, maxUses: 0 } }), /maxUses/],
    ['grant issuer', (v: InviteToken) => ({ ...v, grant: { ...v.grant, issuer: 'x' } }), /certificate/]
  ])('rejects a bad %s', (_what, mutate, message) => {
    expectMalformed(encodeRaw(mutate(clone(token))), message)
  })

  it('never throws anything but MalformedInviteError on random input (1000 runs)', () => {
    const valid = encodeInvite(token)
    const input = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 2000 }).map(b => 'paired1.' + Buffer.from(b).toString('base64url')),
      fc.json().map(j => 'paired1.' + Buffer.from(j).toString('base64url')),
      fc.anything().map(a => { try { return encodeRaw(a) } catch { return 'x' } }),
      fc.tuple(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 })).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
      fc.nat(valid.length).map(i => valid.slice(0, i))
    )
    fc.assert(fc.property(input, text => {
      try {
        const decoded = decodeInvite(text)
        // a mutation that still decodes must be a well-formed token
        return decoded.v === 1 && typeof decoded.grant.sig === 'string'
      } catch (err) {
        return err instanceof MalformedInviteError
      }
    }), { numRuns: 1000 })
  })
})

describe('checkInvite', () => {
  it('rejects an expired invite with its expiry time', () => {
    checkInvite(token, T0 + 24 * HOUR)
    expect(() => checkInvite(token, T0 + 24 * HOUR + 1)).toThrow(InviteExpiredError)
    expect(() => checkInvite(token, T0 + 24 * HOUR + 1)).toThrow('invite expired at 2025-01-02T00:00:00.000Z')
  })

  it('rejects a grant that is not for the team in the token', () => {
    const swapped = { ...clone(token), team: other.team }
    expect(() => checkInvite(swapped, T0)).toThrow(InvalidInviteError)
    expect(() => checkInvite(swapped, T0)).toThrow(`invite is not signed by an admin of team other (${other.team.teamId})`)
  })

  it('rejects a grant not signed by an admin of the team', () => {
    const forged = clone(token)
    forged.grant.role = 'admin'
    expect(() => checkInvite(forged, T0)).toThrow(/^invite is not signed by an admin of team core/)
    const foreign = createInvite({ team: other.team, issuerCert: other.founderCert, signer: other.founder.signer, role: 'admin', now: T0 })
    const mixed = { ...clone(foreign), team: t.team, grant: { ...foreign.grant, teamId: t.team.teamId } }
    expect(() => checkInvite(mixed, T0)).toThrow(InvalidInviteError)
  })
})

describe('acceptInvite', () => {
  it('makes the joiner a certificate with the grant role, signed by the joiner', () => {
    const cert = acceptInvite({ token, signer: bob.signer, name: 'bob', now: T0 + 5 })
    expect(cert).toMatchObject({ v: 1, teamId: t.team.teamId, peerId: bob.peerId, name: 'bob', role: 'member', issuedAt: T0 + 5 })
    expect(cert.grant).toEqual(token.grant)
    verifyCertificate(cert, t.team, T0 + 5)
    expect(canonicalJson(cert)).not.toContain(t.team.psk)
  })

  it('raises issuedAt to the grant time when the joiner clock is behind', () => {
    const cert = acceptInvite({ token, signer: bob.signer, name: 'bob', now: T0 - 60_000 })
    expect(cert.issuedAt).toBe(T0)
    verifyCertificate(cert, t.team, T0)
  })

  it('refuses an expired invite', () => {
    expect(() => acceptInvite({ token, signer: bob.signer, name: 'bob', now: T0 + 25 * HOUR })).toThrow(InviteExpiredError)
  })
})

describe('assertSameTeam', () => {
  it('names both teams', () => {
    assertSameTeam(token, t.team)
    expect(() => assertSameTeam(token, other.team)).toThrow(WrongTeamError)
    expect(() => assertSameTeam(token, other.team))
      .toThrow(`invite is for team core (${t.team.teamId}), this daemon is in team other (${other.team.teamId})`)
  })
})
