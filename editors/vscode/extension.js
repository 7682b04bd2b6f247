// The task provider behind "Run Task → mend → mend: check".
//
// Everything else in this extension (language, grammar, snippets, problem matcher,
// task definition) is declared in package.json. VS Code has no declarative way to
// add a task to Run Task: a task type is only runnable through a provider, so this
// file provides one. Plain JavaScript, no dependencies, no build step.
'use strict';

const vscode = require('vscode');

const TYPE = 'mend';

/** The execution of `mend check --format short PATH` for a task definition. */
function checkTask(definition, scope, folder) {
  const executable =
    vscode.workspace.getConfiguration('mend', folder ? folder.uri : undefined).get('executable') || 'mend';
  const target = definition.path || (folder ? folder.uri.fsPath : '.');
  const args = ['check', '--format', 'short', ...(definition.args || []), target];
  const execution = new vscode.ShellExecution(executable, args, folder ? { cwd: folder.uri.fsPath } : undefined);
  const task = new vscode.Task(definition, scope, 'check', TYPE, execution, ['$mend']);
  task.group = vscode.TaskGroup.Build;
  task.detail = `${executable} ${args.join(' ')}`;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, clear: true };
  return task;
}

class MendTaskProvider {
  provideTasks() {
    const folders = vscode.workspace.workspaceFolders || [];
    return folders.map((folder) => checkTask({ type: TYPE, task: 'check' }, folder, folder));
  }

  // A `"type": "mend"` task written in tasks.json.
  resolveTask(task) {
    const definition = task.definition;
    if (definition.type !== TYPE || definition.task !== 'check') {
      return undefined;
    }
    const scope = task.scope;
    const folder = scope && typeof scope === 'object' && scope.uri ? scope : undefined;
    return checkTask(definition, scope, folder);
  }
}

function activate(context) {
  context.subscriptions.push(vscode.tasks.registerTaskProvider(TYPE, new MendTaskProvider()));
}

function deactivate() {}

module.exports = { activate, deactivate, MendTaskProvider };
