/**
 * A removed member knows it, on real daemons: it says so, refuses writes and submits with
 * a typed error and exit code, stops dialing the team, and comes back only with a new
 * invite. Also: a removal followed by a key rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, eventually, formTeam, sleep } from './harness.js'
import { peerIdOf, replicates, rosterOf, rostersAgree } from './membership-helpers.js'

/** exit code of a write or submit on a daemon removed from its team */
const EXIT_REMOVED = 6

function count (log: string, pattern: RegExp): number {
  return log.split('\n').filter(l => pattern.test(l)).length
}

describe('a removed member', () => {
  const a = new DaemonProcess({ name: 'rm-alice' })
  const b = new DaemonProcess({ name: 'rm-bob' })
  const c = new DaemonProcess({ name: 'rm-carol' })
  const id: Record<string, string> = {}
  /** an invite made before the removal */
  let oldToken = ''

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), c.start()])
    for (const x of [a, b, c]) id[x.name] = await peerIdOf(x)
    await formTeam(a, [b, c], 'crew')
    oldToken = (await a.json<{ token: string }>(['team', 'invite'])).token
  }, 90_000)

  afterAll(async () => { await Promise.all([a, b, c].map(async x => { await x.cleanup() })) })

  it('learns it, shows it, refuses writes and submits, and stops dialing the team', async () => {
    await a.json(['team', 'remove', 'rm-bob'])
    // the removed daemon's `paired team` says who removed it and when
    const shown = await eventually('bob shows its removal', async () => {
      const r = await b.cli(['team'])
      return /removed from team crew by rm-alice at \d{4}-\d\d-\d\dT/.test(r.stdout) ? r.stdout : undefined
    }, 10_000)
    expect(shown).toMatch(/removed from team crew by rm-alice/)
    const doc = await b.json<{ name: string, removed?: { by: string, byName: string, at: number } }>(['team'])
    expect(doc.removed).toMatchObject({ by: id['rm-alice'], byName: 'rm-alice' })
    const status = await b.json<{ team: { name: string, removed?: unknown } }>(['status'])
    expect(status.team.removed).toBeDefined()

    const write = await b.cli(['kv', 'set', 'from/removed', 'x'])
    expect(write.code).toBe(EXIT_REMOVED)
    expect(write.stderr).toMatch(/^paired: this daemon was removed from team crew by rm-alice/)
    expect(write.stderr.trim().split('\n')).toHaveLength(1)
    const del = await b.cli(['kv', 'del', 'anything'])
    expect(del.code).toBe(EXIT_REMOVED)
    const submit = await b.cli(['submit', 'echo', '--input', '"hi"'])
    expect(submit.code).toBe(EXIT_REMOVED)
    expect(submit.stdout).toBe('')
    expect(submit.stderr).toMatch(/removed from team crew/)

    // it stops dialing: over 6 s its log grows by no refusal lines, and the members' rosters agree
    const before = count(b.log, /refused by|refusing/)
    await sleep(6_000)
    expect(count(b.log, /refused by|refusing/) - before).toBeLessThanOrEqual(1)
    await rostersAgree([a, c], [id['rm-alice'], id['rm-carol']])
    // and it survives a restart: still removed
    await b.stop()
    await b.start()
    expect((await b.cli(['team'])).stdout).toMatch(/removed from team crew by rm-alice/)
    expect((await b.cli(['kv', 'set', 'k', 'v'])).code).toBe(EXIT_REMOVED)
  }, 90_000)

  it('an old token does not bring it back; a new invite does, and then it is a member everywhere', async () => {
    const r = await b.cli(['team', 'join', oldToken])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^paired: this invite was made before this daemon was removed from team crew/)
    expect((await b.cli(['team'])).stdout).toMatch(/removed from team crew by rm-alice/)
    const { token } = await a.json<{ token: string }>(['team', 'invite'])
    await b.json(['team', 'join', token])
    await rostersAgree([a, b, c], [id['rm-alice'], id['rm-bob'], id['rm-carol']])
    expect((await b.cli(['team'])).stdout).not.toMatch(/removed/)
    await replicates(b, c, 'back/from-bob')
  }, 60_000)

  it('remove then rotate-key: the members go on with the new key, the removed one knows it is out and stays quiet', async () => {
    await a.json(['team', 'remove', 'rm-carol'])
    const rotated = await a.json<{ keyEpoch: number, delivered: string[], missed: string[] }>(['team', 'rotate-key'])
    expect(rotated.delivered).toStrictEqual(['rm-bob'])
    expect(rotated.missed).toStrictEqual([])
    await rostersAgree([a, b], [id['rm-alice'], id['rm-bob']])
    await replicates(b, a, 'rotated/from-bob')
    await eventually('carol shows its removal', async () => /removed from team crew by rm-alice/.test((await c.cli(['team'])).stdout) ? true : undefined, 10_000)
    expect((await c.cli(['kv', 'set', 'k', 'v'])).code).toBe(EXIT_REMOVED)
    const before = count(c.log, /refused by|refusing|could not/)
    await sleep(5_000)
    expect(count(c.log, /refused by|refusing|could not/) - before).toBeLessThanOrEqual(1)
    expect(await rosterOf(a)).toStrictEqual([id['rm-alice'], id['rm-bob']].sort())
  }, 90_000)
})

describe('a member removed while it was offline', () => {
  const a = new DaemonProcess({ name: 'ro-alice' })
  const b = new DaemonProcess({ name: 'ro-bob' })

  beforeAll(async () => {
    await Promise.all([a.start(), b.start()])
    await formTeam(a, [b], 'crew')
  }, 90_000)

  afterAll(async () => { await Promise.all([a, b].map(async x => { await x.cleanup() })) })

  it('learns it at the hello, from the signed removal a member holds, then stays quiet', async () => {
    await b.stop()
    await a.json(['team', 'remove', 'ro-bob'])
    b.log = ''
    await b.start()
    await eventually('bob shows its removal', async () => /removed from team crew by ro-alice/.test((await b.cli(['team'])).stdout) ? true : undefined, 20_000)
    expect((await b.cli(['submit', 'echo', '--input', '1'])).code).toBe(EXIT_REMOVED)
    const before = count(b.log, /refused by|refusing/)
    await sleep(5_000)
    expect(count(b.log, /refused by|refusing/) - before).toBeLessThanOrEqual(1)
    expect((await a.json<Array<{ peerId: string }>>(['team', 'members'])).length).toBe(1)
  }, 90_000)
})
