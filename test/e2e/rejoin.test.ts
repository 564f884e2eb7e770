/**
 * Leaving and coming back, on real daemons: a join either leaves the joiner and every
 * member with the same roster, or fails with a clear error and changes nothing.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, allConnected, eventually, sleep } from './harness.js'
import { peerIdOf, replicates, rosterOf, rostersAgree, teamNameOf } from './membership-helpers.js'

describe('rejoining after leave', () => {
  const a = new DaemonProcess({ name: 'rj-alice' })
  const b = new DaemonProcess({ name: 'rj-bob' })
  const o = new DaemonProcess({ name: 'rj-olga' })
  const id: Record<string, string> = {}

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), o.start()])
    for (const x of [a, b, o]) id[x.name] = await peerIdOf(x)
    await a.json(['team', 'create', 'crew'])
    await o.json(['team', 'create', 'other'])
  }, 60_000)

  afterAll(async () => { await Promise.all([a, b, o].map(async x => { await x.cleanup() })) })

  it('a leaver that reuses its used single-use token is refused with a clear error, and nothing changes', async () => {
    const { token } = await a.json<{ token: string }>(['team', 'invite', '--uses', '1'])
    await b.json(['team', 'join', token])
    await allConnected([a, b])
    await b.json(['team', 'leave'])
    await eventually('alice drops bob', async () => (await rosterOf(a)).join() === id['rj-alice'] ? true : undefined)
    const teamFile = await readFile(join(b.home, 'team.json'), 'utf8')

    const r = await b.cli(['team', 'join', token])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^paired: invite \w+ was already used by this daemon, which left team crew/)
    // nothing changed: bob is in the personal team it left to, alice's roster has alice only
    expect(await teamNameOf(b)).toBe('rj-bob (personal)')
    expect(await readFile(join(b.home, 'team.json'), 'utf8')).toBe(teamFile)
    await sleep(1_000)
    expect(await rosterOf(a)).toStrictEqual([id['rj-alice']])
  }, 60_000)

  it('the same token is refused by the members too, not only by the joiner', async () => {
    // a joiner whose store forgot that it left (a copied key in a fresh home) asks the team
    const { token } = await a.json<{ token: string }>(['team', 'invite', '--uses', '1'])
    const fresh = new DaemonProcess({ name: 'rj-copy' })
    await b.stop()
    try {
      await fresh.start()
      const { copyFile } = await import('node:fs/promises')
      const keyHome = fresh.home
      await fresh.stop()
      await copyFile(join(b.home, 'key'), join(keyHome, 'key'))
      await b.start()
      await b.json(['team', 'join', token])
      await rostersAgree([a, b], [id['rj-alice'], id['rj-bob']])
      await b.json(['team', 'leave'])
      await eventually('alice drops bob', async () => (await rosterOf(a)).join() === id['rj-alice'] ? true : undefined)
      await fresh.start()
      expect(await peerIdOf(fresh)).toBe(id['rj-bob'])
      await b.stop()
      const r = await fresh.cli(['team', 'join', token])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/left the team; it needs a new invite to come back/)
      expect(await teamNameOf(fresh)).toBe('rj-copy (personal)')
      await sleep(1_000)
      expect(await rosterOf(a)).toStrictEqual([id['rj-alice']])
    } finally {
      await fresh.cleanup()
      if (b.proc == null) await b.start()
    }
  }, 90_000)

  it('with a new invite the leaver is a member again on every side: rosters agree and its writes replicate', async () => {
    const { token } = await a.json<{ token: string }>(['team', 'invite'])
    await b.json(['team', 'join', token])
    await rostersAgree([a, b], [id['rj-alice'], id['rj-bob']])
    await replicates(b, a, 'rejoin/from-bob')
    await replicates(a, b, 'rejoin/from-alice')
  }, 60_000)

  it('leave, join another team, and come back: each team ends with the same roster on every member', async () => {
    await b.json(['team', 'leave'])
    await eventually('alice drops bob', async () => (await rosterOf(a)).join() === id['rj-alice'] ? true : undefined)
    await b.json(['team', 'join', (await o.json<{ token: string }>(['team', 'invite'])).token])
    await rostersAgree([o, b], [id['rj-olga'], id['rj-bob']])
    await replicates(b, o, 'other/from-bob')
    // back to crew straight from the other team: the other team learns that bob left it
    await b.json(['team', 'join', (await a.json<{ token: string }>(['team', 'invite'])).token])
    await rostersAgree([a, b], [id['rj-alice'], id['rj-bob']])
    await replicates(b, a, 'crew/back-from-bob')
    await eventually('olga drops bob', async () => (await rosterOf(o)).join() === id['rj-olga'] ? true : undefined, 20_000)
  }, 120_000)
})
