import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory under the OS temp dir. */
export async function tempDir (): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'paired-agents-'))
  return { dir, cleanup: async () => { await rm(dir, { recursive: true, force: true }) } }
}

/**
 * True while `pid` is a running process. A zombie counts as gone: it has exited and only
 * waits to be reaped by its parent (or by PID 1, which in a container may be slow to).
 */
export function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false // vanished between the two checks
  }
}

/** Poll until `pid` is gone; false if it still runs after `withinMs`. */
export async function waitGone (pid: number, withinMs = 2_000): Promise<boolean> {
  const end = Date.now() + withinMs
  while (isRunning(pid)) {
    if (Date.now() > end) return false
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return true
}

/** Poll until `check()` returns a value other than undefined. */
export async function waitFor<T> (check: () => T | undefined, withinMs = 5_000): Promise<T> {
  const end = Date.now() + withinMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Kill `pid` if a test left it running. */
export function killQuietly (pid: number | undefined): void {
  if (pid == null) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}
