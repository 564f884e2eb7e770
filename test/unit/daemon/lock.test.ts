import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HomeLock } from '../../../src/daemon/lock.js'

describe('home lock', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'paired-lock-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('refuses a second holder while the first is alive', async () => {
    const first = new HomeLock(join(dir, 'daemon.lock'), dir)
    await first.acquire()
    // a live foreign pid in the file: our parent process
    await writeFile(join(dir, 'daemon.lock'), `${process.ppid}\n`)
    const second = new HomeLock(join(dir, 'daemon.lock'), dir)
    await expect(second.acquire()).rejects.toThrow(/another daemon \(pid \d+\) is already running/)
  })

  it('takes over the lock of a dead process', async () => {
    // a pid that surely exited: a child that already finished
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(join(dir, 'daemon.lock'), `${dead}\n`)
    const lock = new HomeLock(join(dir, 'daemon.lock'), dir)
    await lock.acquire()
    expect((await readFile(join(dir, 'daemon.lock'), 'utf8')).trim()).toBe(String(process.pid))
    await lock.release()
    await expect(readFile(join(dir, 'daemon.lock'))).rejects.toThrow(/ENOENT/)
  })

  it('takes over a garbage lock file', async () => {
    await writeFile(join(dir, 'daemon.lock'), 'not a pid')
    const lock = new HomeLock(join(dir, 'daemon.lock'), dir)
    await expect(lock.acquire()).resolves.toBeUndefined()
  })
})
