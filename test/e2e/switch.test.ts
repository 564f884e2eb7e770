/**
 * A key rotation (like a join or a leave) restarts a daemon's libp2p node on the new key.
 * The local API must not fail while that happens: a call made during the switch waits for
 * the new session and is answered by it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiCall, eventually, formTeam } from './harness.js'

describe('the API during a switch of team network', () => {
  const alice = new DaemonProcess({ name: 'alice' })
  const bob = new DaemonProcess({ name: 'bob' })

  beforeAll(async () => {
    await Promise.all([alice.start(), bob.start()])
    await formTeam(alice, [bob], 'switchers')
  }, 60_000)

  afterAll(async () => {
    await Promise.all([alice.cleanup(), bob.cleanup()])
  })

  it('calls to both daemons made while rotate-key switches them all succeed', async () => {
    const failures: string[] = []
    let answered = 0
    let polling = true
    const poll = async (d: DaemonProcess): Promise<void> => {
      while (polling) {
        for (const path of ['peers', 'status', 'team/members']) {
          try {
            await apiCall(d, 'GET', path)
            answered++
          } catch (err) {
            failures.push(`${d.name} GET ${path}: ${(err as Error).message}`)
          }
        }
      }
    }
    const pollers = [poll(alice), poll(bob)]
    const r = await alice.json<{ keyEpoch: number, delivered: string[] }>(['team', 'rotate-key'])
    expect(r.delivered).toHaveLength(1)
    // bob switches when the key reaches it: keep polling until it has, and is back with alice
    await eventually('bob on the new key', async () => bob.log.includes(`(epoch ${r.keyEpoch})`) ? true : undefined, 20_000, 50)
    await eventually('bob connected to alice again', async () => {
      const members = await apiCall<Array<{ peerId: string, connected: boolean }>>(bob, 'GET', 'team/members')
      return members.every(m => m.connected) ? true : undefined
    }, 20_000, 50)
    polling = false
    await Promise.all(pollers)
    expect(answered).toBeGreaterThan(10)
    expect(failures).toEqual([])
  }, 60_000)
})
