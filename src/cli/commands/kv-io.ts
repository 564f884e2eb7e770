/**
 * What the `paired kv` commands take besides the common `CommandContext`: the input of
 * `kv set --stdin` and the signal that stops `kv watch`. Both default to the process's
 * own (stdin, SIGINT); tests pass theirs.
 */
import type { CommandContext } from '../context.js'

export interface KvIo {
  /** the lines of `kv set --stdin`. @default process.stdin */
  stdin?: AsyncIterable<string | Uint8Array>
  /** stops `kv watch` (exit 0), as SIGINT does */
  signal?: AbortSignal
}

export type KvCommandContext = CommandContext & KvIo
