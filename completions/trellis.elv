
use builtin;
use str;

set edit:completion:arg-completer[trellis] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'trellis'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'trellis'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Load, resolve and validate a policy set; print its diagnostics'
            cand compile 'Check, then write the decision table (refuses on errors)'
            cand query 'Answer a question (or a batch) from a policy set or a compiled table'
            cand diff 'Access changes between two revisions of a policy set'
            cand test 'Run the test files of a policy set'
            cand show 'What a customer org sees: its subtree, roles, users, grants; locks read-only'
            cand roles 'The roles of an org as its console lists them, with a search'
            cand site 'Write a static site: the org tree, a page per org, role and user'
            cand graph 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture'
            cand serve 'Answer questions over HTTP from a table, reloading it when it changes'
            cand lsp 'Serve the Language Server Protocol over stdio, for editors'
            cand schema 'Print the JSON Schema of policy files (or of trellis.toml)'
            cand init 'Create a policy repository that checks clean and whose tests pass'
            cand explain 'Print the long explanation of a diagnostic code'
            cand completions 'Print the shell completion script for bash, zsh, fish, powershell or elvish'
            cand man 'Write the manual pages (one per subcommand) to a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'trellis;check'= {
            cand --format 'Output format of the diagnostics (default: `human` on a terminal, `short` otherwise)'
            cand --base 'Also check what changed against this base: a directory, or a git revision of the repository holding PATH (`origin/main`, `HEAD~1`)'
            cand --actor 'Who makes the change: `provider` or an org id (with `--base`)'
            cand --author 'The change''s author (a forge login, with `--base`): the actor is the narrowest scope the owners file of the base lets them act for that covers every changed file; refused (exit 2) when there is none'
            cand --owners 'The owners file, read from the base (default: `owners` in the base''s trellis.toml)'
            cand --sarif-out 'Also write the diagnostics as SARIF to this file (whatever `--format` prints), so that one run feeds code scanning and the annotations'
            cand --diff-out 'With `--base`: also write the access diff between the base and this set to this file, as `trellis diff` would print it (from the two revisions this run has read already). Not written when the set has errors, as `trellis diff` refuses then'
            cand --diff-format 'The format of `--diff-out`'
            cand --diff-page-out 'With `--base`: also write the access diff as one HTML page to this file, as `trellis diff --format html` would (from this same run), to publish beside the `--diff-out` comment'
            cand --markdown-cap 'Largest markdown diff, in bytes (GitHub comments hold 65,536)'
            cand --page-url 'Where the diff''s HTML page will be published: the markdown diff links to it (as `trellis diff --page-url`)'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --deny-warnings 'Exit 1 on warnings too (also `deny_warnings` in trellis.toml)'
            cand --watch 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'trellis;compile'= {
            cand -o 'Where to write the decision table'
            cand --output 'Where to write the decision table'
            cand --split 'Also write one table per top-level org into this directory (`ORG.tbl`): its subtree, its users, the provider''s roles and its own, for replicas that serve some tenants only'
            cand --json 'Also write a readable JSON dump of the table here'
            cand --format 'Format of the diagnostics printed when the set has errors'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --provenance 'Keep the file and line of every grant, for `query --explain`'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'trellis;query'= {
            cand --user 'The user''s id'
            cand --org 'The org''s id'
            cand --permission '`module:action`'
            cand --resource 'Ask about this resource; `--org` may then be left out unless the resource belongs to no org'
            cand --by 'The admin of `--can-assign` (`self`: the user themselves)'
            cand --role 'A role, as `--roles` prints it (`owner::name`, or the bare name when one owner has it)'
            cand --resources 'With `--can-assign`: the assignment''s resources on a dimension, `DIMENSION=ID[,ID...]` (repeat for several dimensions)'
            cand --batch 'JSON lines of {"user","org","permission"} (`-` for stdin); one answer per line. A line with `"question"` asks another question: `allow`, `roles`, `who`, `policies`, `published` or `can_assign`'
            cand --format 'format'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --explain 'Print the derivation of the decision'
            cand --roles 'Print the effective roles of the user at the org instead'
            cand --who 'Print every user allowed `--permission` at `--org` (or on `--resource`), sorted; with `--explain`, each one''s derivation'
            cand --policies 'Print the access policies reaching `--user` at `--org`'
            cand --published 'Print the roles published at `--org`, or with `--role` whether that one is (`published` or `unpublished`)'
            cand --can-assign 'May `--by` give `--role` to `--user` at `--org`? Prints `allow` or `deny`; with `--explain`, why not (from sources)'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;diff'= {
            cand --format 'format'
            cand --markdown-cap 'Largest markdown output, in bytes (GitHub comments hold 65,536)'
            cand --page-url 'Where the diff''s HTML page will be published: the markdown comment links to it for what it folds or leaves out'
            cand -o 'Write the diff to this file (atomically) instead of printing it'
            cand --output 'Write the diff to this file (atomically) instead of printing it'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --exit-code 'Exit 1 when access changes'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;test'= {
            cand --format 'The format of the report'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --watch 'Run again whenever a file of the set changes (until Ctrl-C), clearing the screen first on a terminal'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'trellis;show'= {
            cand --org 'The org whose view to show'
            cand --format 'format'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;roles'= {
            cand --org 'The org whose role list to show'
            cand --search 'Only roles whose name or description contains this (case ignored)'
            cand --format 'format'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;site'= {
            cand -o 'The directory to write the site into (replaced whole)'
            cand --output 'The directory to write the site into (replaced whole)'
            cand --org 'Only what this org may see: its subtree and what reaches it'
            cand --page-size 'Users listed per page of an org'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;graph'= {
            cand --org 'Only this org''s subtree (and the roles visible there)'
            cand --format 'format'
            cand --max-file-size 'Largest policy file accepted, in bytes (default: `max_file_size` of trellis.toml, else 268435456, 256 MiB)'
            cand --no-cache 'Parse every file, neither reading nor writing the cache of parsed files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else ~/.cache/trellis)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;serve'= {
            cand --listen 'Address to listen on. Loopback unless told otherwise: answers reveal who may do what'
            cand --token-file 'A file holding the bearer token that requests to /v1/* and /metrics must carry (`Authorization: Bearer <token>`)'
            cand --max-body-bytes 'Largest request body accepted, in bytes'
            cand --max-batch 'Most questions in one batch'
            cand --request-timeout-ms 'Longest a request may take, in milliseconds (reading its body included)'
            cand --head-timeout-ms 'Longest a connection may take to send a request''s head, in milliseconds, waiting between requests included; then it is closed (keep it above the idle timeout of a load balancer in front)'
            cand --poll-interval-ms 'How often to check the file for a change when no file-system event comes (network file systems), in milliseconds'
            cand --decision-log 'Append every decision to FILE as JSON lines (time, question, answer, table hash)'
            cand --decision-log-max-bytes 'Rotate the decision log to FILE.1 when it reaches this many bytes'
            cand --log-format 'Format of the server''s own log (on standard error)'
            cand --no-watch 'Do not watch the file; reload on SIGHUP only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;lsp'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;schema'= {
            cand --config 'The schema of the configuration file, trellis.toml, instead'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;init'= {
            cand --tenant 'A tenant org to scaffold under `tenants/` (repeat for more; default one, `acme`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;explain'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;man'= {
            cand -o 'The directory to write the pages to (created if missing)'
            cand --out 'The directory to write the pages to (created if missing)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'trellis;help'= {
            cand check 'Load, resolve and validate a policy set; print its diagnostics'
            cand compile 'Check, then write the decision table (refuses on errors)'
            cand query 'Answer a question (or a batch) from a policy set or a compiled table'
            cand diff 'Access changes between two revisions of a policy set'
            cand test 'Run the test files of a policy set'
            cand show 'What a customer org sees: its subtree, roles, users, grants; locks read-only'
            cand roles 'The roles of an org as its console lists them, with a search'
            cand site 'Write a static site: the org tree, a page per org, role and user'
            cand graph 'The org tree and role hierarchy as a Mermaid, DOT or SVG picture'
            cand serve 'Answer questions over HTTP from a table, reloading it when it changes'
            cand lsp 'Serve the Language Server Protocol over stdio, for editors'
            cand schema 'Print the JSON Schema of policy files (or of trellis.toml)'
            cand init 'Create a policy repository that checks clean and whose tests pass'
            cand explain 'Print the long explanation of a diagnostic code'
            cand completions 'Print the shell completion script for bash, zsh, fish, powershell or elvish'
            cand man 'Write the manual pages (one per subcommand) to a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'trellis;help;check'= {
        }
        &'trellis;help;compile'= {
        }
        &'trellis;help;query'= {
        }
        &'trellis;help;diff'= {
        }
        &'trellis;help;test'= {
        }
        &'trellis;help;show'= {
        }
        &'trellis;help;roles'= {
        }
        &'trellis;help;site'= {
        }
        &'trellis;help;graph'= {
        }
        &'trellis;help;serve'= {
        }
        &'trellis;help;lsp'= {
        }
        &'trellis;help;schema'= {
        }
        &'trellis;help;init'= {
        }
        &'trellis;help;explain'= {
        }
        &'trellis;help;completions'= {
        }
        &'trellis;help;man'= {
        }
        &'trellis;help;help'= {
        }
    ]
    $completions[$command]
}
