
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'trellis' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'trellis'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'trellis' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Load, resolve and validate a policy set; print its diagnostics')
            [CompletionResult]::new('compile', 'compile', [CompletionResultType]::ParameterValue, 'Check, then write the decision table (refuses on errors)')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Answer a question (or a batch) from a policy set or a compiled table')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Access changes between two revisions of a policy set')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run the test files of a policy set')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a customer org sees: its subtree, roles, users, grants; locks read-only')
            [CompletionResult]::new('roles', 'roles', [CompletionResultType]::ParameterValue, 'The roles of an org as its console lists them, with a search')
            [CompletionResult]::new('site', 'site', [CompletionResultType]::ParameterValue, 'Write a static site: the org tree, a page per org, role and user')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer questions over HTTP from a table, reloading it when it changes')
            [CompletionResult]::new('lsp', 'lsp', [CompletionResultType]::ParameterValue, 'Serve the Language Server Protocol over stdio, for editors')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of policy files (or of trellis.toml)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a policy repository that checks clean and whose tests pass')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Print the long explanation of a diagnostic code')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for bash, zsh, fish, powershell or elvish')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the manual pages (one per subcommand) to a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'trellis;check' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of the diagnostics (default: `human` on a terminal, `short` otherwise)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Also check what changed against this base: a directory, or a git revision of the repository holding PATH (`origin/main`, `HEAD~1`)')
            [CompletionResult]::new('--actor', '--actor', [CompletionResultType]::ParameterName, 'Who makes the change: `provider` or an org id (with `--base`)')
            [CompletionResult]::new('--author', '--author', [CompletionResultType]::ParameterName, 'The change''s author (a forge login, with `--base`): the actor is the narrowest scope the owners file of the base lets them act for that covers every changed file; refused (exit 2) when there is none')
            [CompletionResult]::new('--owners', '--owners', [CompletionResultType]::ParameterName, 'The owners file, read from the base (default: `owners` in the base''s trellis.toml)')
            [CompletionResult]::new('--sarif-out', '--sarif-out', [CompletionResultType]::ParameterName, 'Also write the diagnostics as SARIF to this file (whatever `--format` prints), so that one run feeds code scanning and the annotations')
            [CompletionResult]::new('--diff-out', '--diff-out', [CompletionResultType]::ParameterName, 'With `--base`: also write the access diff between the base and this set to this file, as `trellis diff` would print it (from the two revisions this run has read already). Not written when the set has errors, as `trellis diff` refuses then')
            [CompletionResult]::new('--diff-format', '--diff-format', [CompletionResultType]::ParameterName, 'The format of `--diff-out`')
            [CompletionResult]::new('--diff-page-out', '--diff-page-out', [CompletionResultType]::ParameterName, 'With `--base`: also write the access diff as one HTML page to this file, as `trellis diff --format html` would (from this same run), to publish beside the `--diff-out` comment')
            [CompletionResult]::new('--markdown-cap', '--markdown-cap', [CompletionResultType]::ParameterName, 'Largest markdown diff, in bytes (GitHub comments hold 65,536)')
            [CompletionResult]::new('--page-url', '--page-url', [CompletionResultType]::ParameterName, 'Where the diff''s HTML page will be published: the markdown diff links to it (as `trellis diff --page-url`)')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--deny-warnings', '--deny-warnings', [CompletionResultType]::ParameterName, 'Exit 1 on warnings too (also `deny_warnings` in trellis.toml)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'trellis;compile' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the decision table')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the decision table')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'Also write one table per top-level org into this directory (`ORG.tbl`): its subtree, its users, the provider''s roles and its own, for replicas that serve some tenants only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Also write a readable JSON dump of the table here')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Format of the diagnostics printed when the set has errors')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--provenance', '--provenance', [CompletionResultType]::ParameterName, 'Keep the file and line of every grant, for `query --explain`')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'trellis;query' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The user''s id')
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org''s id')
            [CompletionResult]::new('--permission', '--permission', [CompletionResultType]::ParameterName, '`module:action`')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Ask about this resource; `--org` may then be left out unless the resource belongs to no org')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'The admin of `--can-assign` (`self`: the user themselves)')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role, as `--roles` prints it (`owner::name`, or the bare name when one owner has it)')
            [CompletionResult]::new('--resources', '--resources', [CompletionResultType]::ParameterName, 'With `--can-assign`: the assignment''s resources on a dimension, `DIMENSION=ID[,ID...]` (repeat for several dimensions)')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'JSON lines of {"user","org","permission"} (`-` for stdin); one answer per line. A line with `"question"` asks another question: `allow`, `roles`, `who`, `policies`, `published` or `can_assign`')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Print the derivation of the decision')
            [CompletionResult]::new('--roles', '--roles', [CompletionResultType]::ParameterName, 'Print the effective roles of the user at the org instead')
            [CompletionResult]::new('--who', '--who', [CompletionResultType]::ParameterName, 'Print every user allowed `--permission` at `--org` (or on `--resource`), sorted; with `--explain`, each one''s derivation')
            [CompletionResult]::new('--policies', '--policies', [CompletionResultType]::ParameterName, 'Print the access policies reaching `--user` at `--org`')
            [CompletionResult]::new('--published', '--published', [CompletionResultType]::ParameterName, 'Print the roles published at `--org`, or with `--role` whether that one is (`published` or `unpublished`)')
            [CompletionResult]::new('--can-assign', '--can-assign', [CompletionResultType]::ParameterName, 'May `--by` give `--role` to `--user` at `--org`? Prints `allow` or `deny`; with `--explain`, why not (from sources)')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;diff' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--markdown-cap', '--markdown-cap', [CompletionResultType]::ParameterName, 'Largest markdown output, in bytes (GitHub comments hold 65,536)')
            [CompletionResult]::new('--page-url', '--page-url', [CompletionResultType]::ParameterName, 'Where the diff''s HTML page will be published: the markdown comment links to it for what it folds or leaves out')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the diff to this file (atomically) instead of printing it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the diff to this file (atomically) instead of printing it')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 1 when access changes')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;test' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The format of the report')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'trellis;show' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org whose view to show')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;roles' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org whose role list to show')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Only roles whose name or description contains this (case ignored)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;site' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The directory to write the site into (replaced whole)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The directory to write the site into (replaced whole)')
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only what this org may see: its subtree and what reaches it')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Users listed per page of an org')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;graph' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Only this org''s subtree (and the roles visible there)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on. Loopback unless told otherwise: answers reveal who may do what')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'A file holding the bearer token that requests to /v1/* and /metrics must carry (`Authorization: Bearer <token>`)')
            [CompletionResult]::new('--max-body-bytes', '--max-body-bytes', [CompletionResultType]::ParameterName, 'Largest request body accepted, in bytes')
            [CompletionResult]::new('--max-batch', '--max-batch', [CompletionResultType]::ParameterName, 'Most questions in one batch')
            [CompletionResult]::new('--request-timeout-ms', '--request-timeout-ms', [CompletionResultType]::ParameterName, 'Longest a request may take, in milliseconds (reading its body included)')
            [CompletionResult]::new('--head-timeout-ms', '--head-timeout-ms', [CompletionResultType]::ParameterName, 'Longest a connection may take to send a request''s head, in milliseconds, waiting between requests included; then it is closed (keep it above the idle timeout of a load balancer in front)')
            [CompletionResult]::new('--poll-interval-ms', '--poll-interval-ms', [CompletionResultType]::ParameterName, 'How often to check the file for a change when no file-system event comes (network file systems), in milliseconds')
            [CompletionResult]::new('--decision-log', '--decision-log', [CompletionResultType]::ParameterName, 'Append every decision to FILE as JSON lines (time, question, answer, table hash)')
            [CompletionResult]::new('--decision-log-max-bytes', '--decision-log-max-bytes', [CompletionResultType]::ParameterName, 'Rotate the decision log to FILE.1 when it reaches this many bytes')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the server''s own log (on standard error)')
            [CompletionResult]::new('--no-watch', '--no-watch', [CompletionResultType]::ParameterName, 'Do not watch the file; reload on SIGHUP only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;lsp' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;schema' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The schema of the configuration file, trellis.toml, instead')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;init' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'A tenant org to scaffold under `tenants/` (repeat for more; default one, `acme`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;explain' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;man' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The directory to write the pages to (created if missing)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The directory to write the pages to (created if missing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'trellis;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Load, resolve and validate a policy set; print its diagnostics')
            [CompletionResult]::new('compile', 'compile', [CompletionResultType]::ParameterValue, 'Check, then write the decision table (refuses on errors)')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Answer a question (or a batch) from a policy set or a compiled table')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Access changes between two revisions of a policy set')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run the test files of a policy set')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a customer org sees: its subtree, roles, users, grants; locks read-only')
            [CompletionResult]::new('roles', 'roles', [CompletionResultType]::ParameterValue, 'The roles of an org as its console lists them, with a search')
            [CompletionResult]::new('site', 'site', [CompletionResultType]::ParameterValue, 'Write a static site: the org tree, a page per org, role and user')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer questions over HTTP from a table, reloading it when it changes')
            [CompletionResult]::new('lsp', 'lsp', [CompletionResultType]::ParameterValue, 'Serve the Language Server Protocol over stdio, for editors')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of policy files (or of trellis.toml)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a policy repository that checks clean and whose tests pass')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Print the long explanation of a diagnostic code')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for bash, zsh, fish, powershell or elvish')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the manual pages (one per subcommand) to a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'trellis;help;check' {
            break
        }
        'trellis;help;compile' {
            break
        }
        'trellis;help;query' {
            break
        }
        'trellis;help;diff' {
            break
        }
        'trellis;help;test' {
            break
        }
        'trellis;help;show' {
            break
        }
        'trellis;help;roles' {
            break
        }
        'trellis;help;site' {
            break
        }
        'trellis;help;graph' {
            break
        }
        'trellis;help;serve' {
            break
        }
        'trellis;help;lsp' {
            break
        }
        'trellis;help;schema' {
            break
        }
        'trellis;help;init' {
            break
        }
        'trellis;help;explain' {
            break
        }
        'trellis;help;completions' {
            break
        }
        'trellis;help;man' {
            break
        }
        'trellis;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
