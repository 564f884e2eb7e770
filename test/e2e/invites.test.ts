/**
 * Invite errors are one clear line each, and a failed join leaves the daemon where it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, sleep } from './harness.js'

function decode (token: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1), 'base64url').toString('utf8'))
}
function encode (body: unknown): string {
  return 'paired1.' + Buffer.from(JSON.stringify(body)).toString('base64url')
}

describe('invite errors', () => {
  const admin = new DaemonProcess({ name: 'admin' })
  const first = new DaemonProcess({ name: 'first' })
  const second = new DaemonProcess({ name: 'second' })
  const other = new DaemonProcess({ name: 'other-admin' })

  beforeAll(async () => {
    await Promise.all([admin.start(), first.start(), second.start(), other.start()])
    await admin.json(['team', 'create', 'crew'])
    await other.json(['team', 'create', 'rivals'])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([admin, first, second, other].map(async d => { await d.cleanup() }))
  })

  async function teamOf (d: DaemonProcess): Promise<string> {
    return (await d.json<{ team: { name: string } }>(['status'])).team.name
  }

  it('a malformed token', async () => {
    const r = await second.cli(['team', 'join', 'paired1.not-a-token'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: invite token is malformed/)
    expect(await teamOf(second)).toBe('second (personal)')
  })

  it('an expired invite', async () => {
    const { token } = await admin.json<{ token: string }>(['team', 'invite', '--ttl', '1s'])
    await sleep(1_500)
    const r = await second.cli(['team', 'join', token])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: invite expired at \d{4}-\d\d-\d\dT/)
    expect(await teamOf(second)).toBe('second (personal)')
  })

  it('an invite that was already used', async () => {
    const { token } = await admin.json<{ token: string }>(['team', 'invite', '--uses', '1'])
    await first.json(['team', 'join', token])
    expect(await teamOf(first)).toBe('crew')
    const r = await second.cli(['team', 'join', token])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: invite \w+ was already used/)
    // the refused daemon is back in its own team, and the team did not grow
    expect(await teamOf(second)).toBe('second (personal)')
    const members = await admin.json<Array<{ name: string }>>(['team', 'members'])
    expect(members.map(m => m.name).sort()).toEqual(['admin', 'first'])
  })

  it('an invite of another team', async () => {
    // the network part of one team with the signed grant of another: a forged invite
    const ours = decode((await admin.json<{ token: string }>(['team', 'invite'])).token)
    const theirs = decode((await other.json<{ token: string }>(['team', 'invite'])).token)
    const forged = encode({ ...theirs, grant: ours.grant })
    const r = await second.cli(['team', 'join', forged])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: invite is not signed by an admin of team rivals/)
    expect(await teamOf(second)).toBe('second (personal)')
  })

  it('an invite of the team the daemon is already in', async () => {
    const { token } = await admin.json<{ token: string }>(['team', 'invite'])
    const r = await first.cli(['team', 'join', token])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^paired: this daemon is already a member of team crew/)
  })

  it('only admins invite', async () => {
    const r = await first.cli(['team', 'invite'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^paired: only admins can invite/)
  })
})

describe('an invite works while no admin is online', () => {
  const admin = new DaemonProcess({ name: 'boss' })
  const member = new DaemonProcess({ name: 'mate' })
  const joiner = new DaemonProcess({ name: 'newbie' })

  beforeAll(async () => {
    await Promise.all([admin.start(), member.start(), joiner.start()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([admin, member, joiner].map(async d => { await d.cleanup() }))
  })

  it('a member admits the joiner with the admin stopped', async () => {
    await admin.json(['team', 'create', 'async'])
    await member.json(['team', 'join', (await admin.json<{ token: string }>(['team', 'invite'])).token])
    const idMember = (await member.json<{ peerId: string }>(['status'])).peerId
    const { token } = await admin.json<{ token: string }>(['team', 'invite'])
    const body = JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1), 'base64url').toString())
    expect(body.addrs.some((a: string) => a.endsWith(`/p2p/${idMember}`))).toBe(true)
    expect(await admin.stop()).toBe(0)
    const joined = await joiner.json<{ name: string, role: string }>(['team', 'join', token])
    expect(joined).toMatchObject({ name: 'async', role: 'member' })
    const members = await member.json<Array<{ name: string }>>(['team', 'members'])
    expect(members.map(m => m.name).sort()).toEqual(['boss', 'mate', 'newbie'])
  })
})
