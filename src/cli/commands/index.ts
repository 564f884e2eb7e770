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
import * as peer from './peer.js'
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
import * as task from './task.js'
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
  peer,
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
  task,
  'task show': taskShow,
  'task logs': taskLogs,
  'task cancel': taskCancel,
  'task explain': taskExplain,
  'task verify': taskVerify,
  help,
  version
}

/** first words that take a second command word */
export const GROUPS: readonly string[] = ['team', 'kv', 'peer', 'task']
