# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_factory_global_optspecs
    string join \n store= tenant= project= module= correlation-id= causation-id= json q/quiet offline color= h/help V/version
end

function __fish_factory_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_factory_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_factory_using_subcommand
    set -l cmd (__fish_factory_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c factory -n "__fish_factory_needs_command" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_needs_command" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_needs_command" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_needs_command" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_needs_command" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_needs_command" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_needs_command" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_needs_command" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_needs_command" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_needs_command" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_needs_command" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_needs_command" -s V -l version -d 'Print version'
complete -c factory -n "__fish_factory_needs_command" -f -a "init" -d 'Create a store (default: the one `factory` would find)'
complete -c factory -n "__fish_factory_needs_command" -f -a "register" -d 'Register a template folder under its name'
complete -c factory -n "__fish_factory_needs_command" -f -a "version" -d 'Snapshot a template\'s files as a new immutable version'
complete -c factory -n "__fish_factory_needs_command" -f -a "validate" -d 'Check a template version (or a folder, with --path); exit 3 when a check fails'
complete -c factory -n "__fish_factory_needs_command" -f -a "publish" -d 'Publish a validated template version'
complete -c factory -n "__fish_factory_needs_command" -f -a "generate" -d 'Render a template into a new project (from the store, a folder or a git URL)'
complete -c factory -n "__fish_factory_needs_command" -f -a "compat" -d 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible'
complete -c factory -n "__fish_factory_needs_command" -f -a "upgrade" -d 'Plan (or --apply) a move of a generated project to another template version'
complete -c factory -n "__fish_factory_needs_command" -f -a "verify" -d 'Report files added, removed or changed in a generated project; exit 3 on drift'
complete -c factory -n "__fish_factory_needs_command" -f -a "list" -d 'List the registered templates'
complete -c factory -n "__fish_factory_needs_command" -f -a "show" -d 'Show a template or one of its versions'
complete -c factory -n "__fish_factory_needs_command" -f -a "hash" -d 'Print the content hash of a folder (docs/content-hash.md)'
complete -c factory -n "__fish_factory_needs_command" -f -a "events" -d 'Print the event log as JSON Lines, filtered; or its JSON Schemas'
complete -c factory -n "__fish_factory_needs_command" -f -a "library" -d 'Register, version, scan and publish reusable libraries'
complete -c factory -n "__fish_factory_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c factory -n "__fish_factory_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c factory -n "__fish_factory_needs_command" -f -a "store" -d 'Check, rebuild or clean the store'
complete -c factory -n "__fish_factory_needs_command" -f -a "cache" -d 'Show or clean the clone cache of template repositories'
complete -c factory -n "__fish_factory_needs_command" -f -a "remote" -d 'Manage the registry remotes (OCI registries) templates are published to'
complete -c factory -n "__fish_factory_needs_command" -f -a "login" -d 'Log in to a registry (kept where docker keeps it)'
complete -c factory -n "__fish_factory_needs_command" -f -a "logout" -d 'Forget the login for a registry'
complete -c factory -n "__fish_factory_needs_command" -f -a "pull" -d 'Import a published template version from a remote into the store'
complete -c factory -n "__fish_factory_needs_command" -f -a "send" -d 'Put a command on its queue; with --wait, wait for its outcome'
complete -c factory -n "__fish_factory_needs_command" -f -a "worker" -d 'Serve the platform\'s commands from RabbitMQ queues'
complete -c factory -n "__fish_factory_needs_command" -f -a "commands" -d 'The command catalog: the types, their queues and their JSON Schemas'
complete -c factory -n "__fish_factory_needs_command" -f -a "search" -d 'List the templates on the remotes'
complete -c factory -n "__fish_factory_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand init" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand init" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand init" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand init" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand init" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand init" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand init" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand init" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand init" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand init" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand register" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand register" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand register" -l name -d 'Register under this name instead of the manifest\'s' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l owner -d 'The owning team or person' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l category -d 'Override the manifest\'s category' -r -f -a "service\t''
library\t''
client\t''
mfe\t''
saas\t''
documentation\t''
platform\t''"
complete -c factory -n "__fish_factory_using_subcommand register" -l tag -d 'A tag (repeatable); replaces the manifest\'s tags' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l ref -d 'The branch, tag or commit of a repository source (same as URL#REF)' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l directory -d 'The template\'s folder inside a repository source' -r
complete -c factory -n "__fish_factory_using_subcommand register" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand register" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand register" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand version" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand version" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand version" -l from -d 'The template folder or git URL[#REF] to snapshot (default: where it was registered from)' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l version -d 'The new version number, X.Y.Z' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l bump -d 'Bump the highest existing version' -r -f -a "major\t''
minor\t''
patch\t''"
complete -c factory -n "__fish_factory_using_subcommand version" -l ref -d 'The branch, tag or commit of a repository source (same as URL#REF)' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l directory -d 'The template\'s folder inside a repository source' -r
complete -c factory -n "__fish_factory_using_subcommand version" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand version" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand version" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand validate" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand validate" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand validate" -l path -d 'Validate a template folder without a store (the CI use); records no event' -r -F
complete -c factory -n "__fish_factory_using_subcommand validate" -l format -d 'Report format' -r -f -a "human\t''
json\t''
sarif\t''"
complete -c factory -n "__fish_factory_using_subcommand validate" -l ref -d 'The branch, tag or commit of a repository source (same as URL#REF)' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l directory -d 'The template\'s folder inside a repository source' -r
complete -c factory -n "__fish_factory_using_subcommand validate" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand validate" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand validate" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand validate" -l matrix -d 'Also render the pairwise combinations of every bool and choice parameter'
complete -c factory -n "__fish_factory_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand publish" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand publish" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand publish" -l to -d 'Push it to this remote too (default: `remote.default` in store.yaml); a version published before is only pushed' -r
complete -c factory -n "__fish_factory_using_subcommand publish" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand publish" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand publish" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand generate" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand generate" -s o -l output -d 'The output folder (default: the current folder, which must then be empty unless --force; for a cookiecutter template, the folder its project folder is made in)' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -s d -l set -l data -d 'An answer, typed by the parameter (repeatable): --set service_name=orders (copier\'s -d/--data)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l answers -d 'Answers from a YAML or JSON file (a generated project\'s .factory/scaffold.yaml too)' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l replay -d 'The answers recorded in a project generated earlier (DIR/.factory/scaffold.yaml)' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l replay-file -d 'Generate again from the answers a run recorded: cookiecutter\'s replay file (~/.cookiecutter_replay/NAME.json, its --replay-file), a project\'s .factory/scaffold.yaml or a mapping of answers. Its values are taken as recorded; only what it lacks is asked' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l debug-file -d 'Append debug lines to FILE (cookiecutter\'s --debug-file)' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l ask -d 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier\'s --ask)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -s a -l answers-file -d 'Where a copier template\'s answers file goes in the output, over the template\'s `_answers_file` (copier\'s -a)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -s x -l exclude -d 'Leave out the output paths matching this pattern, besides the template\'s own exclusions (copier\'s -x; gitignore patterns, `!` includes again); repeatable' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -s s -l skip -d 'Keep a file the output folder already has when it matches this pattern, besides the template\'s `_skip_if_exists` (copier\'s -s); repeatable, rendered over the answers' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l last-answers -d 'Answers recorded by an earlier generation (a copier answers file, a project\'s .factory/scaffold.yaml), as copier\'s recopy reads them: offered as each question\'s default when asked, taken when not asked, and left for the default when a question\'s `when` does not hold' -r -F
complete -c factory -n "__fish_factory_using_subcommand generate" -l runtime -d 'The runtime the project will run on, judged against the template\'s RuntimeRequires' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l flavor -d 'Read a template folder holding both copier.yml and cookiecutter.json as this tool\'s template (copier without the flag)' -r -f -a "copier\t'`copier.yml` (what such a folder is read as without the flag)'
cookiecutter\t'`cookiecutter.json`'"
complete -c factory -n "__fish_factory_using_subcommand generate" -l ref -d 'The branch, tag or commit of a repository source (same as URL#REF)' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l directory -d 'The template\'s folder inside a repository source' -r
complete -c factory -n "__fish_factory_using_subcommand generate" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand generate" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand generate" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand generate" -s v -l verbose -d 'Print debug lines (what was read and decided) on stderr'
complete -c factory -n "__fish_factory_using_subcommand generate" -l defaults -l no-input -d 'Take defaults without asking, even on a terminal (cookiecutter\'s --no-input)'
complete -c factory -n "__fish_factory_using_subcommand generate" -s g -l prereleases -d 'Take a repository\'s newest pre-release or development release too, when no ref is named (copier\'s -g/--prereleases)'
complete -c factory -n "__fish_factory_using_subcommand generate" -l skip-answered -d 'Ask only the questions --last-answers has no answer for (copier\'s --skip-answered)'
complete -c factory -n "__fish_factory_using_subcommand generate" -l allow-draft -d 'Allow a version that is not published'
complete -c factory -n "__fish_factory_using_subcommand generate" -l force -d 'Write into a non-empty output folder, over what is there'
complete -c factory -n "__fish_factory_using_subcommand generate" -s C -l no-cleanup -d 'When the run fails after rendering started (a task that fails), leave what was written so far in the output folder, unrecorded (copier\'s -C/--no-cleanup)'
complete -c factory -n "__fish_factory_using_subcommand generate" -l dry-run -d 'Print the files and content hash; write nothing and record nothing'
complete -c factory -n "__fish_factory_using_subcommand generate" -l git -d 'Commit the output to a git repository (initialised when missing)'
complete -c factory -n "__fish_factory_using_subcommand generate" -l trust -d 'Run the template\'s own code (cookiecutter hooks, copier tasks); refused without it'
complete -c factory -n "__fish_factory_using_subcommand generate" -l compat-answers -d 'Also write cookiecutter\'s replay file or copier\'s .copier-answers.yml (without secrets)'
complete -c factory -n "__fish_factory_using_subcommand generate" -s T -l skip-tasks -d 'Do not run a copier template\'s tasks (copier\'s -T/--skip-tasks); they then need no --trust'
complete -c factory -n "__fish_factory_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand compat" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand compat" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand compat" -l with -d 'A library, NAME@VERSION or NAME to let the solver choose (repeatable)' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l runtime -d 'The runtime the composition runs on (net8.0, node18, …)' -r
complete -c factory -n "__fish_factory_using_subcommand compat" -l composition -d 'A YAML file: {templates: [...], libraries: [...], runtime: ...}' -r -F
complete -c factory -n "__fish_factory_using_subcommand compat" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand compat" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand compat" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand compat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l to -d 'The version to move to (default: the latest published); for a project generated from a repository, a branch, tag or commit (default: what generate would take now)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l conflict-style -l conflict -d 'How conflicts are written: inline markers (`merge`, copier\'s `inline`), with the base (`diff3`), or yours kept and the template\'s side in `FILE.rej` (`rej`)' -r -f -a "merge\t''
diff3\t''
rej\t''"
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s d -l set -l data -d 'An answer for the new version: a new, secret or changed parameter (repeatable; copier\'s -d/--data)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l ask -d 'Ask the questions whose names match this glob (`*it*`) even when --set, --answers, --defaults, --skip-answered or the template (`ask: false`) would leave them unasked; repeatable (copier\'s --ask)' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s a -l answers-file -d 'The copier answers file to upgrade from (copier\'s -a), relative to the project' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s c -l context-lines -d 'Lines of context with which your changes to a copier template\'s files are applied to the new version (copier\'s -c); fewer make more of them apply, more make them safer' -r
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l apply -d 'Carry the plan out (without it, only the plan is shown and recorded)'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l trust -d 'Run the template\'s code (cookiecutter hooks, copier tasks and migrations, Python extensions) in both versions; refused without it'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l defaults -l no-input -d 'Take defaults for new questions without asking, even on a terminal (cookiecutter\'s --no-input)'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l skip-answered -d 'On a terminal, ask only new questions (the recorded answers stand)'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l delete-removed -d 'Delete a file the new version no longer has even when you changed it, as copier does (with --conflict rej your change is left in FILE.rej); without it such a file is kept and reported as a conflict'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l line-merge -d 'Merge TOML, YAML and JSON files by lines, as copier and cruft do, not key by key'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -l check -d 'Only say whether the template has a newer version than the project\'s (copier\'s check-update): exit 0 when up to date, 3 when a newer one exists; nothing is rendered or recorded'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s g -l prereleases -d 'Count pre-release tags (`v3.0.0-alpha`) as versions too (copier\'s -g/--prereleases)'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s T -l skip-tasks -d 'Run no copier task, its migrations still (copier\'s -T/--skip-tasks)'
complete -c factory -n "__fish_factory_using_subcommand upgrade" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand verify" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand verify" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand verify" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand verify" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand verify" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand verify" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand verify" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand verify" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand verify" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand verify" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand list" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand list" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand list" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand list" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand list" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand list" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand list" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand list" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand list" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand list" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand show" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand show" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand show" -l ref -d 'The branch, tag or commit of a repository source (same as URL#REF)' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l directory -d 'The template\'s folder inside a repository source' -r
complete -c factory -n "__fish_factory_using_subcommand show" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand show" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand show" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand hash" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand hash" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand hash" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand hash" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand hash" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand hash" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand hash" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand hash" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand hash" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand hash" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand hash" -l manifest -d 'Print the sha256sum manifest instead of the hash'
complete -c factory -n "__fish_factory_using_subcommand hash" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l type -d 'Only events of this type (repeatable)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l topic -d 'Only events routed to this topic' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l since -d 'Only events after this event id, at or after this RFC 3339 time, or within this duration (30m, 2h, 7d)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l template -d 'Only events about this template (name or id)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l limit -d 'Print only the newest N matching events (oldest first, like `journalctl -n`)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l format -d 'How to print each event' -r -f -a "jsonl\t'The log\'s lines, unchanged'
table\t'One line per event for people'
cloudevents\t'CloudEvents 1.0 structured JSON, one per line'"
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -s f -l follow -d 'Keep printing events as they are appended, like `tail -f`; starts at the end of the log unless --since or --limit ask for history'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -f -a "schema" -d 'Print the JSON Schema of the envelope and every payload, or of one event type\'s payload'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -f -a "push" -d 'Send the events after a target\'s cursor to a broker, in log order'
complete -c factory -n "__fish_factory_using_subcommand events; and not __fish_seen_subcommand_from schema push help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l to -d 'amqp://user:pass@host:port/vhost, servicebus:ENV_NAME, or an http(s):// CloudEvents endpoint' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l max-retries -d 'Retries of a failing batch before giving up' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l deadline -d 'Seconds after which no retry starts' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l batch -d 'Events per batch (one confirm wait, one cursor write per batch)' -r
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l status -d 'Show each target\'s cursor and how many events wait'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l dry-run -d 'Show what would go where; send nothing'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -l require-route -d 'Stop at an event a RabbitMQ exchange has no queue bound for (default: push it and warn; push.requireRoute in store.yaml sets this too)'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print the JSON Schema of the envelope and every payload, or of one event type\'s payload'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "push" -d 'Send the events after a target\'s cursor to a broker, in log order'
complete -c factory -n "__fish_factory_using_subcommand events; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "register" -d 'Register a library (and catalog an API client with --api-client --spec)'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "version" -d 'Record a release with its target frameworks and direct dependencies'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "scan" -d 'Resolve a release\'s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "publish" -d 'Publish a release\'s .nupkg to a folder feed or an HTTP NuGet feed'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "list" -d 'List the registered libraries'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "show" -d 'Show a library or one of its releases'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "advise" -d 'Recommend the newest registered versions that satisfy every constraint'
complete -c factory -n "__fish_factory_using_subcommand library; and not __fish_seen_subcommand_from register version scan publish list show advise help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l ecosystem -d 'Its ecosystem' -r -f -a "nuget\t''
cargo\t''
npm\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l area -d 'Functional area (persistence, messaging, …)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l description -d 'What it is for' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l spec -d 'The OpenAPI 3.x document (YAML or JSON)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l client-name -d 'The client\'s name (default: the spec\'s title)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -l api-client -d 'It is an API client: catalog it from its OpenAPI document (--spec)'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from register" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l path -d 'Read frameworks and dependencies from the project in this folder (.csproj, Cargo.toml, package.json)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l dep -d 'A dependency NAME@RANGE (repeatable), when there is no project to read' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l framework -d 'A target framework (repeatable), when there is no project to read' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from version" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l advisories -d 'A folder of OSV advisories (JSON)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l fail-on -d 'Exit 3 when the scan finds these (repeatable; cycles count as conflicts)' -r -f -a "conflict\t''
advisory\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l format -d 'Output format' -r -f -a "tree\t''
json\t''
dot\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from scan" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l package -d 'The .nupkg to publish' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l feed -d 'A folder feed, or an HTTP feed\'s v3 service index (…/index.json)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l api-key-env -d 'The environment variable holding the HTTP feed\'s API key' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from publish" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l library -d 'Advise on a release\'s dependencies instead: NAME@VERSION' -r
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from advise" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "register" -d 'Register a library (and catalog an API client with --api-client --spec)'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "version" -d 'Record a release with its target frameworks and direct dependencies'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "scan" -d 'Resolve a release\'s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "publish" -d 'Publish a release\'s .nupkg to a folder feed or an HTTP NuGet feed'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the registered libraries'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a library or one of its releases'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "advise" -d 'Recommend the newest registered versions that satisfy every constraint'
complete -c factory -n "__fish_factory_using_subcommand library; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand completions" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand completions" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand completions" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand completions" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand completions" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand completions" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand completions" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand completions" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand completions" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand completions" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand man" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand man" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand man" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand man" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand man" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand man" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand man" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand man" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand man" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand man" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -f -a "check" -d 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -f -a "rebuild" -d 'Rebuild state/ from the event log'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -f -a "gc" -d 'Remove temporary files of stopped writers and objects no event refers to'
complete -c factory -n "__fish_factory_using_subcommand store; and not __fish_seen_subcommand_from check rebuild gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from rebuild" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "check" -d 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "rebuild" -d 'Rebuild state/ from the event log'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove temporary files of stopped writers and objects no event refers to'
complete -c factory -n "__fish_factory_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -f -a "list" -d 'List the cached repositories'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -f -a "clean" -d 'Remove every cached repository, or the one of URL'
complete -c factory -n "__fish_factory_using_subcommand cache; and not __fish_seen_subcommand_from list clean help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from clean" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the cached repositories'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "clean" -d 'Remove every cached repository, or the one of URL'
complete -c factory -n "__fish_factory_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List the remotes in the order `generate` asks them'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove a remote'
complete -c factory -n "__fish_factory_using_subcommand remote; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l default -d 'Make it `remote.default`, where `publish` pushes without `--to`'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -l plain-http -d 'Speak plain HTTP to it, not HTTPS (a registry on your own network; a loopback one is found to be plain without it)'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the remotes in the order `generate` asks them'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a remote'
complete -c factory -n "__fish_factory_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand login" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand login" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand login" -s u -l username -d 'The user name' -r
complete -c factory -n "__fish_factory_using_subcommand login" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand login" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand login" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand login" -l password-stdin -d 'Read the password or token from stdin (never from a flag)'
complete -c factory -n "__fish_factory_using_subcommand login" -l plain-http -d 'Speak plain HTTP to the registry, not HTTPS'
complete -c factory -n "__fish_factory_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand logout" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand logout" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand logout" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand logout" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand logout" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand logout" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand logout" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand logout" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand logout" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand logout" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand pull" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand pull" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand pull" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand pull" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand pull" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand pull" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand pull" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand pull" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand pull" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand pull" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand pull" -l plain-http -d 'Speak plain HTTP to the remote\'s registry, whatever its setting'
complete -c factory -n "__fish_factory_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand send" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand send" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand send" -l to -d 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l payload -d 'The payload: a JSON file, or `-` for stdin (default: `{}`)' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l timeout -d 'How long --wait waits, in seconds' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l service -d 'The service whose queue it goes to (default: the one the catalog names)' -r
complete -c factory -n "__fish_factory_using_subcommand send" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand send" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand send" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand send" -l wait -d 'Wait for the outcome event and exit as the local command would (0, 1, 3)'
complete -c factory -n "__fish_factory_using_subcommand send" -l no-validate -d 'Send it even if it does not fit its schema (to test a worker\'s dead-lettering)'
complete -c factory -n "__fish_factory_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand worker" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand worker" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand worker" -l from -d 'The broker: amqp://user:pass@host:port/vhost, or servicebus:NAME. Read from FACTORY_AMQP_URL when not given, so a password need not be on the command line' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l services -d 'The services to serve, comma-separated (default: all)' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l concurrency -d 'Commands handled at once' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l prefetch -d 'Commands the broker sends ahead per queue' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l output-root -d 'Where GenerateScaffold writes (targets are folders below it, never outside it)' -r -F
complete -c factory -n "__fish_factory_using_subcommand worker" -l max-attempts -d 'Attempts before a failing command goes to the dead-letter queue' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l health-interval -d 'Seconds between health lines on stderr' -r
complete -c factory -n "__fish_factory_using_subcommand worker" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand worker" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand worker" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand worker" -l allow-local-sources -d 'Let commands name folders and file:// repositories of this machine as templates (by default only the store, its remotes and remote git URLs)'
complete -c factory -n "__fish_factory_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -f -a "schema" -d 'Print the JSON Schema of the command envelope and every payload, or of one type\'s'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -f -a "list" -d 'List the command types with their queues and outcome events'
complete -c factory -n "__fish_factory_using_subcommand commands; and not __fish_seen_subcommand_from schema list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print the JSON Schema of the command envelope and every payload, or of one type\'s'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the command types with their queues and outcome events'
complete -c factory -n "__fish_factory_using_subcommand commands; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand search" -l store -d 'The store folder (default: FACTORY_STORE, the nearest .factory-store/, or the user data folder)' -r -F
complete -c factory -n "__fish_factory_using_subcommand search" -l tenant -d 'Tenant for events (default: FACTORY_TENANT, then store.yaml); with `events`, a filter (the flag only, not the variable)' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l project -d 'Project for events (default: FACTORY_PROJECT, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l module -d 'Module for events (default: FACTORY_MODULE, then store.yaml)' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l correlation-id -d 'Correlation id shared by this invocation\'s events (default: FACTORY_CORRELATION_ID, or a new one); with `events`, a filter' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l causation-id -d 'The event id that caused this invocation' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l color -d 'When to colour output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb; CLICOLOR_FORCE=1 colours elsewhere too), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c factory -n "__fish_factory_using_subcommand search" -l remote -d 'Search this remote only' -r
complete -c factory -n "__fish_factory_using_subcommand search" -l json -d 'Print one JSON document to stdout instead of text'
complete -c factory -n "__fish_factory_using_subcommand search" -s q -l quiet -d 'Print nothing but errors'
complete -c factory -n "__fish_factory_using_subcommand search" -l offline -d 'Never fetch: take repositories from the clone cache only'
complete -c factory -n "__fish_factory_using_subcommand search" -l plain-http -d 'Speak plain HTTP to the remotes\' registries, whatever their setting'
complete -c factory -n "__fish_factory_using_subcommand search" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "init" -d 'Create a store (default: the one `factory` would find)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "register" -d 'Register a template folder under its name'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "version" -d 'Snapshot a template\'s files as a new immutable version'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "validate" -d 'Check a template version (or a folder, with --path); exit 3 when a check fails'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "publish" -d 'Publish a validated template version'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "generate" -d 'Render a template into a new project (from the store, a folder or a git URL)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "compat" -d 'Judge a composition of templates, libraries and a runtime; exit 3 when incompatible'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "upgrade" -d 'Plan (or --apply) a move of a generated project to another template version'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "verify" -d 'Report files added, removed or changed in a generated project; exit 3 on drift'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "list" -d 'List the registered templates'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "show" -d 'Show a template or one of its versions'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "hash" -d 'Print the content hash of a folder (docs/content-hash.md)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "events" -d 'Print the event log as JSON Lines, filtered; or its JSON Schemas'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "library" -d 'Register, version, scan and publish reusable libraries'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "man" -d 'Print the man page (roff)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "store" -d 'Check, rebuild or clean the store'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "cache" -d 'Show or clean the clone cache of template repositories'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "remote" -d 'Manage the registry remotes (OCI registries) templates are published to'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "login" -d 'Log in to a registry (kept where docker keeps it)'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "logout" -d 'Forget the login for a registry'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "pull" -d 'Import a published template version from a remote into the store'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "send" -d 'Put a command on its queue; with --wait, wait for its outcome'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "worker" -d 'Serve the platform\'s commands from RabbitMQ queues'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "commands" -d 'The command catalog: the types, their queues and their JSON Schemas'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "search" -d 'List the templates on the remotes'
complete -c factory -n "__fish_factory_using_subcommand help; and not __fish_seen_subcommand_from init register version validate publish generate compat upgrade verify list show hash events library completions man store cache remote login logout pull send worker commands search help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from events" -f -a "schema" -d 'Print the JSON Schema of the envelope and every payload, or of one event type\'s payload'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from events" -f -a "push" -d 'Send the events after a target\'s cursor to a broker, in log order'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "register" -d 'Register a library (and catalog an API client with --api-client --spec)'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "version" -d 'Record a release with its target frameworks and direct dependencies'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "scan" -d 'Resolve a release\'s dependency graph: conflicts, cycles, advisories; exit 3 with --fail-on'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "publish" -d 'Publish a release\'s .nupkg to a folder feed or an HTTP NuGet feed'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "list" -d 'List the registered libraries'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "show" -d 'Show a library or one of its releases'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from library" -f -a "advise" -d 'Recommend the newest registered versions that satisfy every constraint'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "check" -d 'Re-hash every object and compare the projections with a full replay; exit 3 on problems'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "rebuild" -d 'Rebuild state/ from the event log'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "gc" -d 'Remove temporary files of stopped writers and objects no event refers to'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "list" -d 'List the cached repositories'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "clean" -d 'Remove every cached repository, or the one of URL'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "add" -d 'Add a registry remote: oci://HOST[:PORT]/NAMESPACE'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "list" -d 'List the remotes in the order `generate` asks them'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "remove" -d 'Remove a remote'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from commands" -f -a "schema" -d 'Print the JSON Schema of the command envelope and every payload, or of one type\'s'
complete -c factory -n "__fish_factory_using_subcommand help; and __fish_seen_subcommand_from commands" -f -a "list" -d 'List the command types with their queues and outcome events'
