import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ApiServer, ensureApiToken } from '../../../src/api/index.js'
import { parseCommandArgs } from '../../../src/cli/args.js'
import { COMMANDS } from '../../../src/cli/commands/index.js'
import type { KvIo } from '../../../src/cli/commands/kv-io.js'
import { makeContext } from '../../../src/cli/context.js'
import { homePaths } from '../../../src/daemon/home.js'
import { PEER_A, StubControl } from '../api/helpers.js'

describe('paired kv watch and `event: reset`', () => {
  let home: string
  let control: StubControl
  let server: ApiServer

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'paired-cli-kv-reset-'))
    const paths = homePaths(home)
    control = new StubControl()
    // a ring of 5: a burst of 10 events in one turn leaves the watch behind what the ring holds
    server = new ApiServer({ control, token: await ensureApiToken(paths.apiToken), socketPath: paths.apiSocket, events: { maxEvents: 5 } })
    await server.start()
  })

  afterAll(async () => {
    await server.stop()
    await rm(home, { recursive: true, force: true })
  })

  it('says on stderr that changes were missed and how to list them; stdout stays one line per change', async () => {
    const stop = new AbortController()
    let stdout = ''
    let stderr = ''
    const command = COMMANDS['kv watch']
    const args = parseCommandArgs(['app/'], command.options ?? {})
    const ctx = makeContext({ home, json: false, env: {}, write: { out: s => { stdout += s }, err: s => { stderr += s } }, usage: () => '' })
    const io: KvIo = { signal: stop.signal }
    const watching = command.run(args, { ...ctx, ...io })
    onTestFinished(async () => { stop.abort(); await watching.catch(() => {}) })
    await expect.poll(() => control.listeners.size).toBe(1)
    for (let i = 0; i < 10; i++) control.publish({ type: 'kv:changed', data: { key: `app/k${i}`, value: i, updatedBy: PEER_A, hlc: String(i) } })
    await expect.poll(() => stderr).toMatch(/missed/)
    control.publish({ type: 'kv:changed', data: { key: 'app/after', value: 'x', updatedBy: PEER_A, hlc: '11' } })
    await expect.poll(() => stdout).toBe('app/after = x\n')
    stop.abort()
    await watching
    expect(stderr).toMatch(/^paired: some changes were missed \(this reader fell behind: events after \S+ are no longer held\); list the current values with: paired kv list app\/\n$/)
  })
})
