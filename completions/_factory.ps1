
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'factory' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'factory'
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
        'factory' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a store (default: the one `factory` would find)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a template folder under its name')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Snapshot a template''s files as a new immutable version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a template version (or a folder, with --path); exit 3 when a check fails')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish a validated template version')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Render a template into a new project (from the store, a folder or a git URL)')
            [CompletionResult]::new('compat', 'compat', [CompletionResultType]::ParameterValue, 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Plan (or --apply) a move of a generated project to another template version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Report files added, removed or changed in a generated project; exit 3 on drift')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered templates')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a template or one of its versions')
            [CompletionResult]::new('hash', 'hash', [CompletionResultType]::ParameterValue, 'Print the content hash of a folder (docs/content-hash.md)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the event log as JSON Lines, filtered; or its JSON Schemas')
            [CompletionResult]::new('library', 'library', [CompletionResultType]::ParameterValue, 'Register, version, scan and publish reusable libraries')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Check, rebuild or clean the store')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Show or clean the clone cache of template repositories')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Manage the registry remotes (OCI registries) templates are published to')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a registry (kept where docker keeps it)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget the login for a registry')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Import a published template version from a remote into the store')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Put a command on its queue; with --wait, wait for its outcome')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Serve the platform''s commands from RabbitMQ queues')
            [CompletionResult]::new('commands', 'commands', [CompletionResultType]::ParameterValue, 'The command catalog: the types, their queues and their JSON Schemas')
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'List the templates on the remotes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;init' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;register' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Register under this name instead of the manifest''s')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'The owning team or person')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Override the manifest''s category')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A tag (repeatable); replaces the manifest''s tags')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'The branch, tag or commit of a repository source (same as URL#REF)')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'The template''s folder inside a repository source')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;version' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The template folder or git URL[#REF] to snapshot (default: where it was registered from)')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'The new version number, X.Y.Z')
            [CompletionResult]::new('--bump', '--bump', [CompletionResultType]::ParameterName, 'Bump the highest existing version')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'The branch, tag or commit of a repository source (same as URL#REF)')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'The template''s folder inside a repository source')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;validate' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Validate a template folder without a store (the CI use); records no event')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'The branch, tag or commit of a repository source (same as URL#REF)')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'The template''s folder inside a repository source')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'Also render the pairwise combinations of every bool and choice parameter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;publish' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Push it to this remote too (default: `remote.default` in store.yaml); a version published before is only pushed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;generate' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The output folder (default: the current folder, which must then be empty unless --force; for a cookiecutter template, the folder its project folder is made in)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The output folder (default: the current folder, which must then be empty unless --force; for a cookiecutter template, the folder its project folder is made in)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier''s -d/--data)')
            [CompletionResult]::new('--answers', '--answers', [CompletionResultType]::ParameterName, 'Answers from a YAML or JSON file (a generated project''s .factory/scaffold.yaml too)')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'The answers recorded in a project generated earlier (DIR/.factory/scaffold.yaml)')
            [CompletionResult]::new('--replay-file', '--replay-file', [CompletionResultType]::ParameterName, 'Generate again from the answers a run recorded: cookiecutter''s replay file (~/.cookiecutter_replay/NAME.json, its --replay-file), a project''s .factory/scaffold.yaml or a mapping of answers. Its values are taken as recorded; only what it lacks is asked')
            [CompletionResult]::new('--debug-file', '--debug-file', [CompletionResultType]::ParameterName, 'Append debug lines to FILE (cookiecutter''s --debug-file)')
            [CompletionResult]::new('--ask', '--ask', [CompletionResultType]::ParameterName, 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier''s --ask)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Where a copier template''s answers file goes in the output, over the template''s `_answers_file` (copier''s -a)')
            [CompletionResult]::new('--answers-file', '--answers-file', [CompletionResultType]::ParameterName, 'Where a copier template''s answers file goes in the output, over the template''s `_answers_file` (copier''s -a)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Leave out the output paths matching this pattern, besides the template''s own exclusions (copier''s -x; gitignore patterns, `!` includes again); repeatable')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out the output paths matching this pattern, besides the template''s own exclusions (copier''s -x; gitignore patterns, `!` includes again); repeatable')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Keep a file the output folder already has when it matches this pattern, besides the template''s `_skip_if_exists` (copier''s -s); repeatable, rendered over the answers')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Keep a file the output folder already has when it matches this pattern, besides the template''s `_skip_if_exists` (copier''s -s); repeatable, rendered over the answers')
            [CompletionResult]::new('--last-answers', '--last-answers', [CompletionResultType]::ParameterName, 'Answers recorded by an earlier generation (a copier answers file, a project''s .factory/scaffold.yaml), as copier''s recopy reads them: offered as each question''s default when asked, taken when not asked, and left for the default when a question''s `when` does not hold')
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'The runtime the project will run on, judged against the template''s RuntimeRequires')
            [CompletionResult]::new('--flavor', '--flavor', [CompletionResultType]::ParameterName, 'Read a template folder holding both copier.yml and cookiecutter.json as this tool''s template (copier without the flag)')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'The branch, tag or commit of a repository source (same as URL#REF)')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'The template''s folder inside a repository source')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print debug lines (what was read and decided) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print debug lines (what was read and decided) on stderr')
            [CompletionResult]::new('--defaults', '--defaults', [CompletionResultType]::ParameterName, 'Take defaults without asking, even on a terminal (cookiecutter''s --no-input)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Take defaults without asking, even on a terminal (cookiecutter''s --no-input)')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Take a repository''s newest pre-release or development release too, when no ref is named (copier''s -g/--prereleases)')
            [CompletionResult]::new('--prereleases', '--prereleases', [CompletionResultType]::ParameterName, 'Take a repository''s newest pre-release or development release too, when no ref is named (copier''s -g/--prereleases)')
            [CompletionResult]::new('--skip-answered', '--skip-answered', [CompletionResultType]::ParameterName, 'Ask only the questions --last-answers has no answer for (copier''s --skip-answered)')
            [CompletionResult]::new('--allow-draft', '--allow-draft', [CompletionResultType]::ParameterName, 'Allow a version that is not published')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Write into a non-empty output folder, over what is there')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'When the run fails after rendering started (a task that fails), leave what was written so far in the output folder, unrecorded (copier''s -C/--no-cleanup)')
            [CompletionResult]::new('--no-cleanup', '--no-cleanup', [CompletionResultType]::ParameterName, 'When the run fails after rendering started (a task that fails), leave what was written so far in the output folder, unrecorded (copier''s -C/--no-cleanup)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the files and content hash; write nothing and record nothing')
            [CompletionResult]::new('--git', '--git', [CompletionResultType]::ParameterName, 'Commit the output to a git repository (initialised when missing)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Run the template''s own code (cookiecutter hooks, copier tasks); refused without it')
            [CompletionResult]::new('--compat-answers', '--compat-answers', [CompletionResultType]::ParameterName, 'Also write cookiecutter''s replay file or copier''s .copier-answers.yml (without secrets)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Do not run a copier template''s tasks (copier''s -T/--skip-tasks); they then need no --trust')
            [CompletionResult]::new('--skip-tasks', '--skip-tasks', [CompletionResultType]::ParameterName, 'Do not run a copier template''s tasks (copier''s -T/--skip-tasks); they then need no --trust')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;compat' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--with', '--with', [CompletionResultType]::ParameterName, 'A library, NAME@VERSION or NAME to let the solver choose (repeatable)')
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'The runtime the composition runs on (net8.0, node18, …)')
            [CompletionResult]::new('--composition', '--composition', [CompletionResultType]::ParameterName, 'A YAML file: {templates: [...], libraries: [...], runtime: ...}')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;upgrade' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The version to move to (default: the latest published); for a project generated from a repository, a branch, tag or commit (default: what generate would take now)')
            [CompletionResult]::new('--conflict-style', '--conflict-style', [CompletionResultType]::ParameterName, 'How conflicts are written: inline markers (`merge`, copier''s `inline`), with the base (`diff3`), or yours kept and the template''s side in `FILE.rej` (`rej`)')
            [CompletionResult]::new('--conflict', '--conflict', [CompletionResultType]::ParameterName, 'How conflicts are written: inline markers (`merge`, copier''s `inline`), with the base (`diff3`), or yours kept and the template''s side in `FILE.rej` (`rej`)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'An answer for the new version: a new, secret or changed parameter (repeatable; copier''s -d/--data)')
            [CompletionResult]::new('--ask', '--ask', [CompletionResultType]::ParameterName, 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier''s --ask)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'The copier answers file to upgrade from (copier''s -a), relative to the project')
            [CompletionResult]::new('--answers-file', '--answers-file', [CompletionResultType]::ParameterName, 'The copier answers file to upgrade from (copier''s -a), relative to the project')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Lines of context with which your changes to a copier template''s files are applied to the new version (copier''s -c); fewer make more of them apply, more make them safer')
            [CompletionResult]::new('--context-lines', '--context-lines', [CompletionResultType]::ParameterName, 'Lines of context with which your changes to a copier template''s files are applied to the new version (copier''s -c); fewer make more of them apply, more make them safer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Carry the plan out (without it, only the plan is shown and recorded)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Run the template''s code (cookiecutter hooks, copier tasks and migrations, Python extensions) in both versions; refused without it')
            [CompletionResult]::new('--defaults', '--defaults', [CompletionResultType]::ParameterName, 'Take defaults for new questions without asking, even on a terminal (cookiecutter''s --no-input)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Take defaults for new questions without asking, even on a terminal (cookiecutter''s --no-input)')
            [CompletionResult]::new('--skip-answered', '--skip-answered', [CompletionResultType]::ParameterName, 'On a terminal, ask only new questions (the recorded answers stand)')
            [CompletionResult]::new('--delete-removed', '--delete-removed', [CompletionResultType]::ParameterName, 'Delete a file the new version no longer has even when you changed it, as copier does (with --conflict rej your change is left in FILE.rej); without it such a file is kept and reported as a conflict')
            [CompletionResult]::new('--line-merge', '--line-merge', [CompletionResultType]::ParameterName, 'Merge TOML, YAML and JSON files by lines, as copier and cruft do, not key by key')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Only say whether the template has a newer version than the project''s (copier''s check-update): exit 0 when up to date, 3 when a newer one exists; nothing is rendered or recorded')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Count pre-release tags (`v3.0.0-alpha`) as versions too (copier''s -g/--prereleases)')
            [CompletionResult]::new('--prereleases', '--prereleases', [CompletionResultType]::ParameterName, 'Count pre-release tags (`v3.0.0-alpha`) as versions too (copier''s -g/--prereleases)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Run no copier task, its migrations still (copier''s -T/--skip-tasks)')
            [CompletionResult]::new('--skip-tasks', '--skip-tasks', [CompletionResultType]::ParameterName, 'Run no copier task, its migrations still (copier''s -T/--skip-tasks)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;verify' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;show' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--ref', '--ref', [CompletionResultType]::ParameterName, 'The branch, tag or commit of a repository source (same as URL#REF)')
            [CompletionResult]::new('--directory', '--directory', [CompletionResultType]::ParameterName, 'The template''s folder inside a repository source')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;hash' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Print the sha256sum manifest instead of the hash')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;events' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only events of this type (repeatable)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Only events routed to this topic')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events after this event id, at or after this RFC 3339 time, or within this duration (30m, 2h, 7d)')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Only events about this template (name or id)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print only the newest N matching events (oldest first, like `journalctl -n`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print each event')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing events as they are appended, like `tail -f`; starts at the end of the log unless --since or --limit ask for history')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing events as they are appended, like `tail -f`; starts at the end of the log unless --since or --limit ask for history')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Send the events after a target''s cursor to a broker, in log order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;events;schema' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;events;push' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'amqp://user:pass@host:port/vhost, servicebus:ENV_NAME, or an http(s):// CloudEvents endpoint')
            [CompletionResult]::new('--max-retries', '--max-retries', [CompletionResultType]::ParameterName, 'Retries of a failing batch before giving up')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Seconds after which no retry starts')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Events per batch (one confirm wait, one cursor write per batch)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Show each target''s cursor and how many events wait')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would go where; send nothing')
            [CompletionResult]::new('--require-route', '--require-route', [CompletionResultType]::ParameterName, 'Stop at an event a RabbitMQ exchange has no queue bound for (default: push it and warn; push.requireRoute in store.yaml sets this too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;events;help' {
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Send the events after a target''s cursor to a broker, in log order')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;events;help;schema' {
            break
        }
        'factory;events;help;push' {
            break
        }
        'factory;events;help;help' {
            break
        }
        'factory;library' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a library (and catalog an API client with --api-client --spec)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Record a release with its target frameworks and direct dependencies')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered libraries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a library or one of its releases')
            [CompletionResult]::new('advise', 'advise', [CompletionResultType]::ParameterValue, 'Recommend the newest registered versions that satisfy every constraint')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;library;register' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--ecosystem', '--ecosystem', [CompletionResultType]::ParameterName, 'Its ecosystem')
            [CompletionResult]::new('--area', '--area', [CompletionResultType]::ParameterName, 'Functional area (persistence, messaging, …)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What it is for')
            [CompletionResult]::new('--spec', '--spec', [CompletionResultType]::ParameterName, 'The OpenAPI 3.x document (YAML or JSON)')
            [CompletionResult]::new('--client-name', '--client-name', [CompletionResultType]::ParameterName, 'The client''s name (default: the spec''s title)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--api-client', '--api-client', [CompletionResultType]::ParameterName, 'It is an API client: catalog it from its OpenAPI document (--spec)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;version' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Read frameworks and dependencies from the project in this folder (.csproj, Cargo.toml, package.json)')
            [CompletionResult]::new('--dep', '--dep', [CompletionResultType]::ParameterName, 'A dependency NAME@RANGE (repeatable), when there is no project to read')
            [CompletionResult]::new('--framework', '--framework', [CompletionResultType]::ParameterName, 'A target framework (repeatable), when there is no project to read')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;scan' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--advisories', '--advisories', [CompletionResultType]::ParameterName, 'A folder of OSV advisories (JSON)')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 3 when the scan finds these (repeatable; cycles count as conflicts)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;publish' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--package', '--package', [CompletionResultType]::ParameterName, 'The .nupkg to publish')
            [CompletionResult]::new('--feed', '--feed', [CompletionResultType]::ParameterName, 'A folder feed, or an HTTP feed''s v3 service index (…/index.json)')
            [CompletionResult]::new('--api-key-env', '--api-key-env', [CompletionResultType]::ParameterName, 'The environment variable holding the HTTP feed''s API key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;show' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;advise' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--library', '--library', [CompletionResultType]::ParameterName, 'Advise on a release''s dependencies instead: NAME@VERSION')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;library;help' {
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a library (and catalog an API client with --api-client --spec)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Record a release with its target frameworks and direct dependencies')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered libraries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a library or one of its releases')
            [CompletionResult]::new('advise', 'advise', [CompletionResultType]::ParameterValue, 'Recommend the newest registered versions that satisfy every constraint')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;library;help;register' {
            break
        }
        'factory;library;help;version' {
            break
        }
        'factory;library;help;scan' {
            break
        }
        'factory;library;help;publish' {
            break
        }
        'factory;library;help;list' {
            break
        }
        'factory;library;help;show' {
            break
        }
        'factory;library;help;advise' {
            break
        }
        'factory;library;help;help' {
            break
        }
        'factory;completions' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;man' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;store' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Re-hash every object and compare the projections with a full replay; exit 3 on problems')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Rebuild state/ from the event log')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove temporary files of stopped writers and objects no event refers to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;store;check' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;store;rebuild' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;store;gc' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;store;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Re-hash every object and compare the projections with a full replay; exit 3 on problems')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Rebuild state/ from the event log')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove temporary files of stopped writers and objects no event refers to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;store;help;check' {
            break
        }
        'factory;store;help;rebuild' {
            break
        }
        'factory;store;help;gc' {
            break
        }
        'factory;store;help;help' {
            break
        }
        'factory;cache' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cached repositories')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove every cached repository, or the one of URL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;cache;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;cache;clean' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;cache;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cached repositories')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove every cached repository, or the one of URL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;cache;help;list' {
            break
        }
        'factory;cache;help;clean' {
            break
        }
        'factory;cache;help;help' {
            break
        }
        'factory;remote' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes in the order `generate` asks them')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a remote')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;remote;add' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--default', '--default', [CompletionResultType]::ParameterName, 'Make it `remote.default`, where `publish` pushes without `--to`')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP to it, not HTTPS (a registry on your own network; a loopback one is found to be plain without it)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;remote;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;remote;remove' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;remote;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes in the order `generate` asks them')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a remote')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;remote;help;add' {
            break
        }
        'factory;remote;help;list' {
            break
        }
        'factory;remote;help;remove' {
            break
        }
        'factory;remote;help;help' {
            break
        }
        'factory;login' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'The user name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The user name')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password or token from stdin (never from a flag)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP to the registry, not HTTPS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;logout' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;pull' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP to the remote''s registry, whatever its setting')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;send' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line')
            [CompletionResult]::new('--payload', '--payload', [CompletionResultType]::ParameterName, 'The payload: a JSON file, or `-` for stdin (default: `{}`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long --wait waits, in seconds')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'The service whose queue it goes to (default: the one the catalog names)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the outcome event and exit as the local command would (0, 1, 3)')
            [CompletionResult]::new('--no-validate', '--no-validate', [CompletionResultType]::ParameterName, 'Send it even if it does not fit its schema (to test a worker''s dead-lettering)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;worker' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line')
            [CompletionResult]::new('--services', '--services', [CompletionResultType]::ParameterName, 'The services to serve, comma-separated (default: all)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Commands handled at once')
            [CompletionResult]::new('--prefetch', '--prefetch', [CompletionResultType]::ParameterName, 'Commands the broker sends ahead per queue')
            [CompletionResult]::new('--output-root', '--output-root', [CompletionResultType]::ParameterName, 'Where GenerateScaffold writes (targets are folders below it, never outside it)')
            [CompletionResult]::new('--max-attempts', '--max-attempts', [CompletionResultType]::ParameterName, 'Attempts before a failing command goes to the dead-letter queue')
            [CompletionResult]::new('--health-interval', '--health-interval', [CompletionResultType]::ParameterName, 'Seconds between health lines on stderr')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--allow-local-sources', '--allow-local-sources', [CompletionResultType]::ParameterName, 'Let commands name folders and file:// repositories of this machine as templates (by default only the store, its remotes and remote git URLs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;commands' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the command envelope and every payload, or of one type''s')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the command types with their queues and outcome events')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;commands;schema' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;commands;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'factory;commands;help' {
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the command envelope and every payload, or of one type''s')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the command types with their queues and outcome events')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;commands;help;schema' {
            break
        }
        'factory;commands;help;list' {
            break
        }
        'factory;commands;help;help' {
            break
        }
        'factory;search' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Project for events (default: FACTORY_PROJECT, then store.yaml)')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'Module for events (default: FACTORY_MODULE, then store.yaml)')
            [CompletionResult]::new('--correlation-id', '--correlation-id', [CompletionResultType]::ParameterName, 'Correlation id shared by this invocation''s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter')
            [CompletionResult]::new('--causation-id', '--causation-id', [CompletionResultType]::ParameterName, 'The event id that caused this invocation')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Search this remote only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document to stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never fetch: take repositories from the clone cache only')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP to the remotes'' registries, whatever their setting')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'factory;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a store (default: the one `factory` would find)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a template folder under its name')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Snapshot a template''s files as a new immutable version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a template version (or a folder, with --path); exit 3 when a check fails')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish a validated template version')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Render a template into a new project (from the store, a folder or a git URL)')
            [CompletionResult]::new('compat', 'compat', [CompletionResultType]::ParameterValue, 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Plan (or --apply) a move of a generated project to another template version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Report files added, removed or changed in a generated project; exit 3 on drift')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered templates')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a template or one of its versions')
            [CompletionResult]::new('hash', 'hash', [CompletionResultType]::ParameterValue, 'Print the content hash of a folder (docs/content-hash.md)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the event log as JSON Lines, filtered; or its JSON Schemas')
            [CompletionResult]::new('library', 'library', [CompletionResultType]::ParameterValue, 'Register, version, scan and publish reusable libraries')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Check, rebuild or clean the store')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Show or clean the clone cache of template repositories')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Manage the registry remotes (OCI registries) templates are published to')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a registry (kept where docker keeps it)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget the login for a registry')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Import a published template version from a remote into the store')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Put a command on its queue; with --wait, wait for its outcome')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Serve the platform''s commands from RabbitMQ queues')
            [CompletionResult]::new('commands', 'commands', [CompletionResultType]::ParameterValue, 'The command catalog: the types, their queues and their JSON Schemas')
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'List the templates on the remotes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'factory;help;init' {
            break
        }
        'factory;help;register' {
            break
        }
        'factory;help;version' {
            break
        }
        'factory;help;validate' {
            break
        }
        'factory;help;publish' {
            break
        }
        'factory;help;generate' {
            break
        }
        'factory;help;compat' {
            break
        }
        'factory;help;upgrade' {
            break
        }
        'factory;help;verify' {
            break
        }
        'factory;help;list' {
            break
        }
        'factory;help;show' {
            break
        }
        'factory;help;hash' {
            break
        }
        'factory;help;events' {
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the envelope and every payload, or of one event type''s payload')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Send the events after a target''s cursor to a broker, in log order')
            break
        }
        'factory;help;events;schema' {
            break
        }
        'factory;help;events;push' {
            break
        }
        'factory;help;library' {
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a library (and catalog an API client with --api-client --spec)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Record a release with its target frameworks and direct dependencies')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Resolve a release''s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish a release''s .nupkg to a folder feed or an HTTP NuGet feed')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered libraries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a library or one of its releases')
            [CompletionResult]::new('advise', 'advise', [CompletionResultType]::ParameterValue, 'Recommend the newest registered versions that satisfy every constraint')
            break
        }
        'factory;help;library;register' {
            break
        }
        'factory;help;library;version' {
            break
        }
        'factory;help;library;scan' {
            break
        }
        'factory;help;library;publish' {
            break
        }
        'factory;help;library;list' {
            break
        }
        'factory;help;library;show' {
            break
        }
        'factory;help;library;advise' {
            break
        }
        'factory;help;completions' {
            break
        }
        'factory;help;man' {
            break
        }
        'factory;help;store' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Re-hash every object and compare the projections with a full replay; exit 3 on problems')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Rebuild state/ from the event log')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove temporary files of stopped writers and objects no event refers to')
            break
        }
        'factory;help;store;check' {
            break
        }
        'factory;help;store;rebuild' {
            break
        }
        'factory;help;store;gc' {
            break
        }
        'factory;help;cache' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the cached repositories')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove every cached repository, or the one of URL')
            break
        }
        'factory;help;cache;list' {
            break
        }
        'factory;help;cache;clean' {
            break
        }
        'factory;help;remote' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes in the order `generate` asks them')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a remote')
            break
        }
        'factory;help;remote;add' {
            break
        }
        'factory;help;remote;list' {
            break
        }
        'factory;help;remote;remove' {
            break
        }
        'factory;help;login' {
            break
        }
        'factory;help;logout' {
            break
        }
        'factory;help;pull' {
            break
        }
        'factory;help;send' {
            break
        }
        'factory;help;worker' {
            break
        }
        'factory;help;commands' {
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the command envelope and every payload, or of one type''s')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the command types with their queues and outcome events')
            break
        }
        'factory;help;commands;schema' {
            break
        }
        'factory;help;commands;list' {
            break
        }
        'factory;help;search' {
            break
        }
        'factory;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
