import { open, readFile, unlink } from 'node:fs/promises'
import { HomeLockedError } from '../errors.js'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * An exclusive pid lock on a home folder. A lock whose pid is gone (a daemon killed with
 * `kill -9`) is stale and taken over; a live one refuses with a clear message.
 */
export class HomeLock {
  private held = false

  constructor (private readonly path: string, private readonly home: string) {}

  async acquire (): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(this.path, 'wx', 0o600)
        await fh.writeFile(`${process.pid}\n`)
        await fh.close()
        this.held = true
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const text = await readFile(this.path, 'utf8').catch(() => '')
      const pid = Number.parseInt(text.trim(), 10)
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new HomeLockedError(`another daemon (pid ${pid}) is already running on home ${this.home}`)
      }
      // stale: the owner is gone
      await unlink(this.path).catch(() => {})
    }
    throw new HomeLockedError(`could not take the lock ${this.path}`)
  }

  async release (): Promise<void> {
    if (!this.held) return
    this.held = false
    await unlink(this.path).catch(() => {})
  }
}
