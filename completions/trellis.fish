# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_trellis_global_optspecs
    string join \n h/help V/version
end

function __fish_trellis_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_trellis_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_trellis_using_subcommand
    set -l cmd (__fish_trellis_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c trellis -n "__fish_trellis_needs_command" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_needs_command" -s V -l version -d 'Print version'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "check" -d 'Load, resolve and validate a policy set; print its diagnostics'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "compile" -d 'Check, then write the decision table (refuses on errors)'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "query" -d 'Answer a question (or a batch) from a policy set or a compiled table'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "diff" -d 'Access changes between two revisions of a policy set'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "test" -d 'Run the test files of a policy set'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "show" -d 'What a customer org sees: its subtree, roles, users, grants; locks read-only'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "roles" -d 'The roles of an org as its console lists them, with a search'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "site" -d 'Write a static site: the org tree, a page per org, role and user'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "graph" -d 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "serve" -d 'Answer questions over HTTP from a table, reloading it when it changes'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "lsp" -d 'Serve the Language Server Protocol over stdio, for editors'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "schema" -d 'Print the JSON Schema of policy files (or of trellis.toml)'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "init" -d 'Create a policy repository that checks clean and whose tests pass'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "explain" -d 'Print the long explanation of a diagnostic code'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "completions" -d 'Print the shell completion script for bash, zsh, fish, powershell or elvish'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "man" -d 'Write the manual pages (one per subcommand) to a directory'
complete -c trellis -n "__fish_trellis_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c trellis -n "__fish_trellis_using_subcommand check" -l format -d 'Output format of the diagnostics (default: `human` on a terminal, `short` otherwise)' -r -f -a "human\t'Source snippets (the default on a terminal)'
short\t'`file:line:col: severity[CODE]: message`, one per line'
json\t'A JSON document: diagnostics and a summary'
sarif\t'SARIF 2.1.0, for code scanning'
github\t'GitHub Actions workflow commands'
junit\t'JUnit XML: one test case per file (warnings as its output)'"
complete -c trellis -n "__fish_trellis_using_subcommand check" -l base -d 'Also check what changed against this base: a directory, or a git revision of the repository holding PATH (`origin/main`, `HEAD~1`)' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l actor -d 'Who makes the change: `provider` or an org id (with `--base`)' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l author -d 'The change\'s author (a forge login, with `--base`): the actor is the narrowest scope the owners file of the base lets them act for that covers every changed file; refused (exit 2) when there is none' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l owners -d 'The owners file, read from the base (default: `owners` in the base\'s trellis.toml)' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand check" -l sarif-out -d 'Also write the diagnostics as SARIF to this file (whatever `--format` prints), so that one run feeds code scanning and the annotations' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand check" -l diff-out -d 'With `--base`: also write the access diff between the base and this set to this file, as `trellis diff` would print it (from the two revisions this run has read already). Not written when the set has errors, as `trellis diff` refuses then' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand check" -l diff-format -d 'The format of `--diff-out`' -r -f -a "human\t''
json\t''
markdown\t''
html\t''"
complete -c trellis -n "__fish_trellis_using_subcommand check" -l diff-page-out -d 'With `--base`: also write the access diff as one HTML page to this file, as `trellis diff --format html` would (from this same run), to publish beside the `--diff-out` comment' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand check" -l markdown-cap -d 'Largest markdown diff, in bytes (GitHub comments hold 65,536)' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l page-url -d 'Where the diff\'s HTML page will be published: the markdown diff links to it (as `trellis diff --page-url`)' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand check" -l deny-warnings -d 'Exit 1 on warnings too (also `deny_warnings` in trellis.toml)'
complete -c trellis -n "__fish_trellis_using_subcommand check" -l watch -d 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal'
complete -c trellis -n "__fish_trellis_using_subcommand check" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c trellis -n "__fish_trellis_using_subcommand compile" -s o -l output -d 'Where to write the decision table' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l split -d 'Also write one table per top-level org into this directory (`ORG.tbl`): its subtree, its users, the provider\'s roles and its own, for replicas that serve some tenants only' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l json -d 'Also write a readable JSON dump of the table here' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l format -d 'Format of the diagnostics printed when the set has errors' -r -f -a "human\t'Source snippets (the default on a terminal)'
short\t'`file:line:col: severity[CODE]: message`, one per line'
json\t'A JSON document: diagnostics and a summary'
sarif\t'SARIF 2.1.0, for code scanning'
github\t'GitHub Actions workflow commands'
junit\t'JUnit XML: one test case per file (warnings as its output)'"
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l provenance -d 'Keep the file and line of every grant, for `query --explain`'
complete -c trellis -n "__fish_trellis_using_subcommand compile" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand compile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l user -d 'The user\'s id' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l org -d 'The org\'s id' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l permission -d '`module:action`' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l resource -d 'Ask about this resource; `--org` may then be left out unless the resource belongs to no org' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l by -d 'The admin of `--can-assign` (`self`: the user themselves)' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l role -d 'A role, as `--roles` prints it (`owner::name`, or the bare name when one owner has it)' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l resources -d 'With `--can-assign`: the assignment\'s resources on a dimension, `DIMENSION=ID[,ID...]` (repeat for several dimensions)' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l batch -d 'JSON lines of {"user","org","permission"} (`-` for stdin); one answer per line. A line with `"question"` asks another question: `allow`, `roles`, `who`, `policies`, `published` or `can_assign`' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand query" -l format -r -f -a "text\t''
json\t''"
complete -c trellis -n "__fish_trellis_using_subcommand query" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand query" -l explain -d 'Print the derivation of the decision'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l roles -d 'Print the effective roles of the user at the org instead'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l who -d 'Print every user allowed `--permission` at `--org` (or on `--resource`), sorted; with `--explain`, each one\'s derivation'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l policies -d 'Print the access policies reaching `--user` at `--org`'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l published -d 'Print the roles published at `--org`, or with `--role` whether that one is (`published` or `unpublished`)'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l can-assign -d 'May `--by` give `--role` to `--user` at `--org`? Prints `allow` or `deny`; with `--explain`, why not (from sources)'
complete -c trellis -n "__fish_trellis_using_subcommand query" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand query" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l format -r -f -a "human\t''
json\t''
markdown\t''
html\t''"
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l markdown-cap -d 'Largest markdown output, in bytes (GitHub comments hold 65,536)' -r
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l page-url -d 'Where the diff\'s HTML page will be published: the markdown comment links to it for what it folds or leaves out' -r
complete -c trellis -n "__fish_trellis_using_subcommand diff" -s o -l output -d 'Write the diff to this file (atomically) instead of printing it' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l exit-code -d 'Exit 1 when access changes'
complete -c trellis -n "__fish_trellis_using_subcommand diff" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand diff" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand test" -l format -d 'The format of the report' -r -f -a "human\t'Failures, one line each, and a count'
json\t'Every expectation with its outcome'
junit\t'JUnit XML: a test suite per test file, a test case per expectation'"
complete -c trellis -n "__fish_trellis_using_subcommand test" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand test" -l watch -d 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal'
complete -c trellis -n "__fish_trellis_using_subcommand test" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c trellis -n "__fish_trellis_using_subcommand show" -l org -d 'The org whose view to show' -r
complete -c trellis -n "__fish_trellis_using_subcommand show" -l format -r -f -a "human\t''
json\t''"
complete -c trellis -n "__fish_trellis_using_subcommand show" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand show" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand show" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand roles" -l org -d 'The org whose role list to show' -r
complete -c trellis -n "__fish_trellis_using_subcommand roles" -l search -d 'Only roles whose name or description contains this (case ignored)' -r
complete -c trellis -n "__fish_trellis_using_subcommand roles" -l format -r -f -a "human\t''
json\t''"
complete -c trellis -n "__fish_trellis_using_subcommand roles" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand roles" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand roles" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand site" -s o -l output -d 'The directory to write the site into (replaced whole)' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand site" -l org -d 'Only what this org may see: its subtree and what reaches it' -r
complete -c trellis -n "__fish_trellis_using_subcommand site" -l page-size -d 'Users listed per page of an org' -r
complete -c trellis -n "__fish_trellis_using_subcommand site" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand site" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand site" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand graph" -l org -d 'Only this org\'s subtree (and the roles visible there)' -r
complete -c trellis -n "__fish_trellis_using_subcommand graph" -l format -r -f -a "mermaid\t''
dot\t''
svg\t''"
complete -c trellis -n "__fish_trellis_using_subcommand graph" -l max-file-size -d 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)' -r
complete -c trellis -n "__fish_trellis_using_subcommand graph" -l no-cache -d 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
complete -c trellis -n "__fish_trellis_using_subcommand graph" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l listen -d 'Address to listen on. Loopback unless told otherwise: answers reveal who may do what' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l token-file -d 'A file holding the bearer token that requests to /v1/* and /metrics must carry (`Authorization: Bearer <token>`)' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l max-body-bytes -d 'Largest request body accepted, in bytes' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l max-batch -d 'Most questions in one batch' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l request-timeout-ms -d 'Longest a request may take, in milliseconds (reading its body included)' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l head-timeout-ms -d 'Longest a connection may take to send a request\'s head, in milliseconds, waiting between requests included; then it is closed (keep it above the idle timeout of a load balancer in front)' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l poll-interval-ms -d 'How often to check the file for a change when no file-system event comes (network file systems), in milliseconds' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l decision-log -d 'Append every decision to FILE as JSON lines (time, question, answer, table hash)' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l decision-log-max-bytes -d 'Rotate the decision log to FILE.1 when it reaches this many bytes' -r
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l log-format -d 'Format of the server\'s own log (on standard error)' -r -f -a "text\t''
json\t''"
complete -c trellis -n "__fish_trellis_using_subcommand serve" -l no-watch -d 'Do not watch the file; reload on SIGHUP only'
complete -c trellis -n "__fish_trellis_using_subcommand serve" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand lsp" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand schema" -l config -d 'The schema of the configuration file, trellis.toml, instead'
complete -c trellis -n "__fish_trellis_using_subcommand schema" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand init" -l tenant -d 'A tenant org to scaffold under `tenants/` (repeat for more; default one, `acme`)' -r
complete -c trellis -n "__fish_trellis_using_subcommand init" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand explain" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand completions" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand man" -s o -l out -d 'The directory to write the pages to (created if missing)' -r -F
complete -c trellis -n "__fish_trellis_using_subcommand man" -s h -l help -d 'Print help'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "check" -d 'Load, resolve and validate a policy set; print its diagnostics'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "compile" -d 'Check, then write the decision table (refuses on errors)'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "query" -d 'Answer a question (or a batch) from a policy set or a compiled table'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "diff" -d 'Access changes between two revisions of a policy set'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "test" -d 'Run the test files of a policy set'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "show" -d 'What a customer org sees: its subtree, roles, users, grants; locks read-only'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "roles" -d 'The roles of an org as its console lists them, with a search'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "site" -d 'Write a static site: the org tree, a page per org, role and user'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "graph" -d 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "serve" -d 'Answer questions over HTTP from a table, reloading it when it changes'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "lsp" -d 'Serve the Language Server Protocol over stdio, for editors'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "schema" -d 'Print the JSON Schema of policy files (or of trellis.toml)'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "init" -d 'Create a policy repository that checks clean and whose tests pass'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "explain" -d 'Print the long explanation of a diagnostic code'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "completions" -d 'Print the shell completion script for bash, zsh, fish, powershell or elvish'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "man" -d 'Write the manual pages (one per subcommand) to a directory'
complete -c trellis -n "__fish_trellis_using_subcommand help; and not __fish_seen_subcommand_from check compile query diff test show roles site graph serve lsp schema init explain completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
