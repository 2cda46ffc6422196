
use builtin;
use str;

set edit:completion:arg-completer[factory] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'factory'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'factory'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a store (default: the one `factory` would find)'
            cand register 'Register a template folder under its name'
            cand version 'Snapshot a template''s files as a new immutable version'
            cand validate 'Check a template version (or a folder, with --path); exit 3 when a check fails'
            cand publish 'Publish a validated template version'
            cand generate 'Render a template into a new project (from the store, a folder or a git URL)'
            cand compat 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible'
            cand upgrade 'Plan (or --apply) a move of a generated project to another template version'
            cand verify 'Report files added, removed or changed in a generated project; exit 3 on drift'
            cand list 'List the registered templates'
            cand show 'Show a template or one of its versions'
            cand hash 'Print the content hash of a folder (docs/content-hash.md)'
            cand events 'Print the event log as JSON Lines, filtered; or its JSON Schemas'
            cand library 'Register, version, scan and publish reusable libraries'
            cand completions 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page (roff)'
            cand store 'Check, rebuild or clean the store'
            cand cache 'Show or clean the clone cache of template repositories'
            cand remote 'Manage the registry remotes (OCI registries) templates are published to'
            cand login 'Log in to a registry (kept where docker keeps it)'
            cand logout 'Forget the login for a registry'
            cand pull 'Import a published template version from a remote into the store'
            cand send 'Put a command on its queue; with --wait, wait for its outcome'
            cand worker 'Serve the platform''s commands from RabbitMQ queues'
            cand commands 'The command catalog: the types, their queues and their JSON Schemas'
            cand search 'List the templates on the remotes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;init'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;register'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --name 'Register under this name instead of the manifest''s'
            cand --owner 'The owning team or person'
            cand --category 'Override the manifest''s category'
            cand --tag 'A tag (repeatable); replaces the manifest''s tags'
            cand --ref 'The branch, tag or commit of a repository source (same as URL#REF)'
            cand --directory 'The template''s folder inside a repository source'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;version'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --from 'The template folder or git URL[#REF] to snapshot (default: where it was registered from)'
            cand --version 'The new version number, X.Y.Z'
            cand --bump 'Bump the highest existing version'
            cand --ref 'The branch, tag or commit of a repository source (same as URL#REF)'
            cand --directory 'The template''s folder inside a repository source'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;validate'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --path 'Validate a template folder without a store (the CI use); records no event'
            cand --format 'Report format'
            cand --ref 'The branch, tag or commit of a repository source (same as URL#REF)'
            cand --directory 'The template''s folder inside a repository source'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --matrix 'Also render the pairwise combinations of every bool and choice parameter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;publish'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --to 'Push it to this remote too (default: `remote.default` in store.yaml); a version published before is only pushed'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;generate'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand -o 'The output folder (default: the current folder, which must then be empty unless --force; for a cookiecutter template, the folder its project folder is made in)'
            cand --output 'The output folder (default: the current folder, which must then be empty unless --force; for a cookiecutter template, the folder its project folder is made in)'
            cand -d 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)'
            cand --set 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)'
            cand --data 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)'
            cand --answers 'Answers from a YAML or JSON file (a generated project''s .factory/scaffold.yaml too)'
            cand --replay 'The answers recorded in a project generated earlier (DIR/.factory/scaffold.yaml)'
            cand --replay-file 'Generate again from the answers a run recorded: cookiecutter''s replay file (~/.cookiecutter_replay/NAME.json, its --replay-file), a project''s .factory/scaffold.yaml or a mapping of answers. Its values are taken as recorded; only what it lacks is asked'
            cand --debug-file 'Append debug lines to FILE (cookiecutter''s --debug-file)'
            cand --ask 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier''s --ask)'
            cand -a 'Where a copier template''s answers file goes in the output, over the template''s `_answers_file` (copier''s -a)'
            cand --answers-file 'Where a copier template''s answers file goes in the output, over the template''s `_answers_file` (copier''s -a)'
            cand -x 'Leave out the output paths matching this pattern, besides the template''s own exclusions (copier''s -x; gitignore patterns, `!` includes again); repeatable'
            cand --exclude 'Leave out the output paths matching this pattern, besides the template''s own exclusions (copier''s -x; gitignore patterns, `!` includes again); repeatable'
            cand -s 'Keep a file the output folder already has when it matches this pattern, besides the template''s `_skip_if_exists` (copier''s -s); repeatable, rendered over the answers'
            cand --skip 'Keep a file the output folder already has when it matches this pattern, besides the template''s `_skip_if_exists` (copier''s -s); repeatable, rendered over the answers'
            cand --last-answers 'Answers recorded by an earlier generation (a copier answers file, a project''s .factory/scaffold.yaml), as copier''s recopy reads them: offered as each question''s default when asked, taken when not asked, and left for the default when a question''s `when` does not hold'
            cand --runtime 'The runtime the project will run on, judged against the template''s RuntimeRequires'
            cand --flavor 'Read a template folder holding both copier.yml and cookiecutter.json as this tool''s template (copier without the flag)'
            cand --ref 'The branch, tag or commit of a repository source (same as URL#REF)'
            cand --directory 'The template''s folder inside a repository source'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -v 'Print debug lines (what was read and decided) on stderr'
            cand --verbose 'Print debug lines (what was read and decided) on stderr'
            cand --defaults 'Take defaults without asking, even on a terminal (cookiecutter''s --no-input)'
            cand --no-input 'Take defaults without asking, even on a terminal (cookiecutter''s --no-input)'
            cand -g 'Take a repository''s newest pre-release or development release too, when no ref is named (copier''s -g/--prereleases)'
            cand --prereleases 'Take a repository''s newest pre-release or development release too, when no ref is named (copier''s -g/--prereleases)'
            cand --skip-answered 'Ask only the questions --last-answers has no answer for (copier''s --skip-answered)'
            cand --allow-draft 'Allow a version that is not published'
            cand --force 'Write into a non-empty output folder, over what is there'
            cand -C 'When the run fails after rendering started (a task that fails), leave what was written so far in the output folder, unrecorded (copier''s -C/--no-cleanup)'
            cand --no-cleanup 'When the run fails after rendering started (a task that fails), leave what was written so far in the output folder, unrecorded (copier''s -C/--no-cleanup)'
            cand --dry-run 'Print the files and content hash; write nothing and record nothing'
            cand --git 'Commit the output to a git repository (initialised when missing)'
            cand --trust 'Run the template''s own code (cookiecutter hooks, copier tasks); refused without it'
            cand --compat-answers 'Also write cookiecutter''s replay file or copier''s .copier-answers.yml (without secrets)'
            cand -T 'Do not run a copier template''s tasks (copier''s -T/--skip-tasks); they then need no --trust'
            cand --skip-tasks 'Do not run a copier template''s tasks (copier''s -T/--skip-tasks); they then need no --trust'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;compat'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --with 'A library, NAME@VERSION or NAME to let the solver choose (repeatable)'
            cand --runtime 'The runtime the composition runs on (net8.0, node18, …)'
            cand --composition 'A YAML file: {templates: [...], libraries: [...], runtime: ...}'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;upgrade'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --to 'The version to move to (default: the latest published); for a project generated from a repository, a branch, tag or commit (default: what generate would take now)'
            cand --conflict-style 'How conflicts are written: inline markers (`merge`, copier''s `inline`), with the base (`diff3`), or yours kept and the template''s side in `FILE.rej` (`rej`)'
            cand --conflict 'How conflicts are written: inline markers (`merge`, copier''s `inline`), with the base (`diff3`), or yours kept and the template''s side in `FILE.rej` (`rej`)'
            cand -d 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)'
            cand --set 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)'
            cand --data 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)'
            cand --ask 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier''s --ask)'
            cand -a 'The copier answers file to upgrade from (copier''s -a), relative to the project'
            cand --answers-file 'The copier answers file to upgrade from (copier''s -a), relative to the project'
            cand -c 'Lines of context with which your changes to a copier template''s files are applied to the new version (copier''s -c); fewer make more of them apply, more make them safer'
            cand --context-lines 'Lines of context with which your changes to a copier template''s files are applied to the new version (copier''s -c); fewer make more of them apply, more make them safer'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --apply 'Carry the plan out (without it, only the plan is shown and recorded)'
            cand --trust 'Run the template''s code (cookiecutter hooks, copier tasks and migrations, Python extensions) in both versions; refused without it'
            cand --defaults 'Take defaults for new questions without asking, even on a terminal (cookiecutter''s --no-input)'
            cand --no-input 'Take defaults for new questions without asking, even on a terminal (cookiecutter''s --no-input)'
            cand --skip-answered 'On a terminal, ask only new questions (the recorded answers stand)'
            cand --delete-removed 'Delete a file the new version no longer has even when you changed it, as copier does (with --conflict rej your change is left in FILE.rej); without it such a file is kept and reported as a conflict'
            cand --line-merge 'Merge TOML, YAML and JSON files by lines, as copier and cruft do, not key by key'
            cand --check 'Only say whether the template has a newer version than the project''s (copier''s check-update): exit 0 when up to date, 3 when a newer one exists; nothing is rendered or recorded'
            cand -g 'Count pre-release tags (`v3.0.0-alpha`) as versions too (copier''s -g/--prereleases)'
            cand --prereleases 'Count pre-release tags (`v3.0.0-alpha`) as versions too (copier''s -g/--prereleases)'
            cand -T 'Run no copier task, its migrations still (copier''s -T/--skip-tasks)'
            cand --skip-tasks 'Run no copier task, its migrations still (copier''s -T/--skip-tasks)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;verify'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;list'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;show'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --ref 'The branch, tag or commit of a repository source (same as URL#REF)'
            cand --directory 'The template''s folder inside a repository source'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;hash'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --manifest 'Print the sha256sum manifest instead of the hash'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;events'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --type 'Only events of this type (repeatable)'
            cand --topic 'Only events routed to this topic'
            cand --since 'Only events after this event id, at or after this RFC 3339 time, or within this duration (30m, 2h, 7d)'
            cand --template 'Only events about this template (name or id)'
            cand --limit 'Print only the newest N matching events (oldest first, like `journalctl -n`)'
            cand --format 'How to print each event'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -f 'Keep printing events as they are appended, like `tail -f`; starts at the end of the log unless --since or --limit ask for history'
            cand --follow 'Keep printing events as they are appended, like `tail -f`; starts at the end of the log unless --since or --limit ask for history'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand schema 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload'
            cand push 'Send the events after a target''s cursor to a broker, in log order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;events;schema'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;events;push'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --to 'amqp://user:pass@host:port/vhost, servicebus:ENV_NAME, or an http(s):// CloudEvents endpoint'
            cand --max-retries 'Retries of a failing batch before giving up'
            cand --deadline 'Seconds after which no retry starts'
            cand --batch 'Events per batch (one confirm wait, one cursor write per batch)'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --status 'Show each target''s cursor and how many events wait'
            cand --dry-run 'Show what would go where; send nothing'
            cand --require-route 'Stop at an event a RabbitMQ exchange has no queue bound for (default: push it and warn; push.requireRoute in store.yaml sets this too)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;events;help'= {
            cand schema 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload'
            cand push 'Send the events after a target''s cursor to a broker, in log order'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;events;help;schema'= {
        }
        &'factory;events;help;push'= {
        }
        &'factory;events;help;help'= {
        }
        &'factory;library'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand register 'Register a library (and catalog an API client with --api-client --spec)'
            cand version 'Record a release with its target frameworks and direct dependencies'
            cand scan 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
            cand publish 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed'
            cand list 'List the registered libraries'
            cand show 'Show a library or one of its releases'
            cand advise 'Recommend the newest registered versions that satisfy every constraint'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;library;register'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --ecosystem 'Its ecosystem'
            cand --area 'Functional area (persistence, messaging, …)'
            cand --description 'What it is for'
            cand --spec 'The OpenAPI 3.x document (YAML or JSON)'
            cand --client-name 'The client''s name (default: the spec''s title)'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --api-client 'It is an API client: catalog it from its OpenAPI document (--spec)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;version'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --path 'Read frameworks and dependencies from the project in this folder (.csproj, Cargo.toml, package.json)'
            cand --dep 'A dependency NAME@RANGE (repeatable), when there is no project to read'
            cand --framework 'A target framework (repeatable), when there is no project to read'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;scan'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --advisories 'A folder of OSV advisories (JSON)'
            cand --fail-on 'Exit 3 when the scan finds these (repeatable; cycles count as conflicts)'
            cand --format 'Output format'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;publish'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --package 'The .nupkg to publish'
            cand --feed 'A folder feed, or an HTTP feed''s v3 service index (…/index.json)'
            cand --api-key-env 'The environment variable holding the HTTP feed''s API key'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;list'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;show'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;advise'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --library 'Advise on a release''s dependencies instead: NAME@VERSION'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;library;help'= {
            cand register 'Register a library (and catalog an API client with --api-client --spec)'
            cand version 'Record a release with its target frameworks and direct dependencies'
            cand scan 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
            cand publish 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed'
            cand list 'List the registered libraries'
            cand show 'Show a library or one of its releases'
            cand advise 'Recommend the newest registered versions that satisfy every constraint'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;library;help;register'= {
        }
        &'factory;library;help;version'= {
        }
        &'factory;library;help;scan'= {
        }
        &'factory;library;help;publish'= {
        }
        &'factory;library;help;list'= {
        }
        &'factory;library;help;show'= {
        }
        &'factory;library;help;advise'= {
        }
        &'factory;library;help;help'= {
        }
        &'factory;completions'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;man'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;store'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand check 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
            cand rebuild 'Rebuild state/ from the event log'
            cand gc 'Remove temporary files of stopped writers and objects no event refers to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;store;check'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;store;rebuild'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;store;gc'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;store;help'= {
            cand check 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
            cand rebuild 'Rebuild state/ from the event log'
            cand gc 'Remove temporary files of stopped writers and objects no event refers to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;store;help;check'= {
        }
        &'factory;store;help;rebuild'= {
        }
        &'factory;store;help;gc'= {
        }
        &'factory;store;help;help'= {
        }
        &'factory;cache'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List the cached repositories'
            cand clean 'Remove every cached repository, or the one of URL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;cache;list'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;cache;clean'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;cache;help'= {
            cand list 'List the cached repositories'
            cand clean 'Remove every cached repository, or the one of URL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;cache;help;list'= {
        }
        &'factory;cache;help;clean'= {
        }
        &'factory;cache;help;help'= {
        }
        &'factory;remote'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
            cand list 'List the remotes in the order `generate` asks them'
            cand remove 'Remove a remote'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;remote;add'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --default 'Make it `remote.default`, where `publish` pushes without `--to`'
            cand --plain-http 'Speak plain HTTP to it, not HTTPS (a registry on your own network; a loopback one is found to be plain without it)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;remote;list'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;remote;remove'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;remote;help'= {
            cand add 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
            cand list 'List the remotes in the order `generate` asks them'
            cand remove 'Remove a remote'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;remote;help;add'= {
        }
        &'factory;remote;help;list'= {
        }
        &'factory;remote;help;remove'= {
        }
        &'factory;remote;help;help'= {
        }
        &'factory;login'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand -u 'The user name'
            cand --username 'The user name'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --password-stdin 'Read the password or token from stdin (never from a flag)'
            cand --plain-http 'Speak plain HTTP to the registry, not HTTPS'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;logout'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;pull'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --plain-http 'Speak plain HTTP to the remote''s registry, whatever its setting'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;send'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --to 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line'
            cand --payload 'The payload: a JSON file, or `-` for stdin (default: `{}`)'
            cand --timeout 'How long --wait waits, in seconds'
            cand --service 'The service whose queue it goes to (default: the one the catalog names)'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --wait 'Wait for the outcome event and exit as the local command would (0, 1, 3)'
            cand --no-validate 'Send it even if it does not fit its schema (to test a worker''s dead-lettering)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;worker'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --from 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line'
            cand --services 'The services to serve, comma-separated (default: all)'
            cand --concurrency 'Commands handled at once'
            cand --prefetch 'Commands the broker sends ahead per queue'
            cand --output-root 'Where GenerateScaffold writes (targets are folders below it, never outside it)'
            cand --max-attempts 'Attempts before a failing command goes to the dead-letter queue'
            cand --health-interval 'Seconds between health lines on stderr'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --allow-local-sources 'Let commands name folders and file:// repositories of this machine as templates (by default only the store, its remotes and remote git URLs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;commands'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand schema 'Print the JSON Schema of the command envelope and every payload, or of one type''s'
            cand list 'List the command types with their queues and outcome events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;commands;schema'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;commands;list'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'factory;commands;help'= {
            cand schema 'Print the JSON Schema of the command envelope and every payload, or of one type''s'
            cand list 'List the command types with their queues and outcome events'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;commands;help;schema'= {
        }
        &'factory;commands;help;list'= {
        }
        &'factory;commands;help;help'= {
        }
        &'factory;search'= {
            cand --store 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)'
            cand --tenant 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)'
            cand --project 'Project for events (default: FACTORY_PROJECT, then store.yaml)'
            cand --module 'Module for events (default: FACTORY_MODULE, then store.yaml)'
            cand --correlation-id 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter'
            cand --causation-id 'The event id that caused this invocation'
            cand --color 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never'
            cand --remote 'Search this remote only'
            cand --json 'Print one JSON document to stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --offline 'Never fetch: take repositories from the clone cache only'
            cand --plain-http 'Speak plain HTTP to the remotes'' registries, whatever their setting'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'factory;help'= {
            cand init 'Create a store (default: the one `factory` would find)'
            cand register 'Register a template folder under its name'
            cand version 'Snapshot a template''s files as a new immutable version'
            cand validate 'Check a template version (or a folder, with --path); exit 3 when a check fails'
            cand publish 'Publish a validated template version'
            cand generate 'Render a template into a new project (from the store, a folder or a git URL)'
            cand compat 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible'
            cand upgrade 'Plan (or --apply) a move of a generated project to another template version'
            cand verify 'Report files added, removed or changed in a generated project; exit 3 on drift'
            cand list 'List the registered templates'
            cand show 'Show a template or one of its versions'
            cand hash 'Print the content hash of a folder (docs/content-hash.md)'
            cand events 'Print the event log as JSON Lines, filtered; or its JSON Schemas'
            cand library 'Register, version, scan and publish reusable libraries'
            cand completions 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page (roff)'
            cand store 'Check, rebuild or clean the store'
            cand cache 'Show or clean the clone cache of template repositories'
            cand remote 'Manage the registry remotes (OCI registries) templates are published to'
            cand login 'Log in to a registry (kept where docker keeps it)'
            cand logout 'Forget the login for a registry'
            cand pull 'Import a published template version from a remote into the store'
            cand send 'Put a command on its queue; with --wait, wait for its outcome'
            cand worker 'Serve the platform''s commands from RabbitMQ queues'
            cand commands 'The command catalog: the types, their queues and their JSON Schemas'
            cand search 'List the templates on the remotes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'factory;help;init'= {
        }
        &'factory;help;register'= {
        }
        &'factory;help;version'= {
        }
        &'factory;help;validate'= {
        }
        &'factory;help;publish'= {
        }
        &'factory;help;generate'= {
        }
        &'factory;help;compat'= {
        }
        &'factory;help;upgrade'= {
        }
        &'factory;help;verify'= {
        }
        &'factory;help;list'= {
        }
        &'factory;help;show'= {
        }
        &'factory;help;hash'= {
        }
        &'factory;help;events'= {
            cand schema 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload'
            cand push 'Send the events after a target''s cursor to a broker, in log order'
        }
        &'factory;help;events;schema'= {
        }
        &'factory;help;events;push'= {
        }
        &'factory;help;library'= {
            cand register 'Register a library (and catalog an API client with --api-client --spec)'
            cand version 'Record a release with its target frameworks and direct dependencies'
            cand scan 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
            cand publish 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed'
            cand list 'List the registered libraries'
            cand show 'Show a library or one of its releases'
            cand advise 'Recommend the newest registered versions that satisfy every constraint'
        }
        &'factory;help;library;register'= {
        }
        &'factory;help;library;version'= {
        }
        &'factory;help;library;scan'= {
        }
        &'factory;help;library;publish'= {
        }
        &'factory;help;library;list'= {
        }
        &'factory;help;library;show'= {
        }
        &'factory;help;library;advise'= {
        }
        &'factory;help;completions'= {
        }
        &'factory;help;man'= {
        }
        &'factory;help;store'= {
            cand check 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
            cand rebuild 'Rebuild state/ from the event log'
            cand gc 'Remove temporary files of stopped writers and objects no event refers to'
        }
        &'factory;help;store;check'= {
        }
        &'factory;help;store;rebuild'= {
        }
        &'factory;help;store;gc'= {
        }
        &'factory;help;cache'= {
            cand list 'List the cached repositories'
            cand clean 'Remove every cached repository, or the one of URL'
        }
        &'factory;help;cache;list'= {
        }
        &'factory;help;cache;clean'= {
        }
        &'factory;help;remote'= {
            cand add 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
            cand list 'List the remotes in the order `generate` asks them'
            cand remove 'Remove a remote'
        }
        &'factory;help;remote;add'= {
        }
        &'factory;help;remote;list'= {
        }
        &'factory;help;remote;remove'= {
        }
        &'factory;help;login'= {
        }
        &'factory;help;logout'= {
        }
        &'factory;help;pull'= {
        }
        &'factory;help;send'= {
        }
        &'factory;help;worker'= {
        }
        &'factory;help;commands'= {
            cand schema 'Print the JSON Schema of the command envelope and every payload, or of one type''s'
            cand list 'List the command types with their queues and outcome events'
        }
        &'factory;help;commands;schema'= {
        }
        &'factory;help;commands;list'= {
        }
        &'factory;help;search'= {
        }
        &'factory;help;help'= {
        }
    ]
    $completions[$command]
}
