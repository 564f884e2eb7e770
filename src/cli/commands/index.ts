/**
 * The command table: command words → the module of that command.
 */
import type { CommandModule } from '../context.js'
import * as connect from './connect.js'
import * as daemon from './daemon.js'
import * as help from './help.js'
import * as init from './init.js'
import * as kvDel from './kv-del.js'
import * as kvGet from './kv-get.js'
import * as kvList from './kv-list.js'
import * as kvSet from './kv-set.js'
import * as kvWatch from './kv-watch.js'
import * as peerShow from './peer-show.js'
import * as peers from './peers.js'
import * as ping from './ping.js'
import * as query from './query.js'
import * as status from './status.js'
import * as submit from './submit.js'
import * as taskCancel from './task-cancel.js'
import * as taskExplain from './task-explain.js'
import * as taskLogs from './task-logs.js'
import * as taskShow from './task-show.js'
import * as taskVerify from './task-verify.js'
import * as tasks from './tasks.js'
import * as teamCreate from './team-create.js'
import * as teamInvite from './team-invite.js'
import * as teamJoin from './team-join.js'
import * as teamLeave from './team-leave.js'
import * as teamMembers from './team-members.js'
import * as teamRemove from './team-remove.js'
import * as teamRotateKey from './team-rotate-key.js'
import * as team from './team.js'
import * as version from './version.js'

/** in the order of the help overview */
export const COMMANDS: Readonly<Record<string, CommandModule>> = {
  init,
  daemon,
  status,
  peers,
  'peer show': peerShow,
  ping,
  query,
  connect,
  team,
  'team create': teamCreate,
  'team invite': teamInvite,
  'team join': teamJoin,
  'team members': teamMembers,
  'team remove': teamRemove,
  'team rotate-key': teamRotateKey,
  'team leave': teamLeave,
  'kv set': kvSet,
  'kv get': kvGet,
  'kv list': kvList,
  'kv del': kvDel,
  'kv watch': kvWatch,
  submit,
  tasks,
  'task show': taskShow,
  'task logs': taskLogs,
  'task cancel': taskCancel,
  'task explain': taskExplain,
  'task verify': taskVerify,
  help,
  version
}

/** a first word that takes a second command word */
export interface CommandGroup {
  /** what `paired help GROUP` says under the list */
  note?: string
  /** the usage line of the group. @default `GROUP <command> [options]` */
  usage?: string
}

/** first words that take a second command word (`team` and `task` are also commands) */
export const COMMAND_GROUPS: Readonly<Record<string, CommandGroup>> = {
  team: {},
  kv: { note: 'A key is 1 to 512 bytes; a value any JSON up to 1 MiB, replicated to every member.' },
  peer: { note: 'List the peers with \'paired peers\'.' },
  task: { usage: 'task <command> ID [options]', note: 'Submit with \'paired submit\', list with \'paired tasks\'.' }
}

export const GROUPS: readonly string[] = Object.keys(COMMAND_GROUPS)
