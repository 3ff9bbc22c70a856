// Starts `trellis lsp` for the YAML and TOML files of a workspace and hands
// it to VS Code's language client. The server itself decides which files are
// policy files (it ignores test files and files outside a policy set).
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("trellis");
  const command = config.get("path", "trellis");
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "trellis",
    "trellis",
    { run, debug: run },
    {
      documentSelector: [
        { scheme: "file", language: "yaml" },
        { scheme: "file", language: "toml" },
      ],
      initializationOptions: { debounceMs: config.get("debounceMs", 50) },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
