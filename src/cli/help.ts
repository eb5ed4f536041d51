const ENV = `Environment:
  COUNTERSIGN_URL     the Countersign server (default http://localhost:3000)
  COUNTERSIGN_TOKEN   an API token from the server's COUNTERSIGN_API_TOKENS
`;

const EXIT_CODES = `Exit codes:
  0  done: registered (submit), approved (wait), chain intact (audit verify), every case
     passed (policy test), simulated (policy simulate), the config is valid (config check)
  1  rejected, expired or cancelled (wait); chain broken (audit verify); a case failed
     (policy test)
  2  timed out (wait)
  3  approved, but for a different commit or plan (wait)
  4  usage error, connection error, unknown change, or a request the server refused; an
     invalid config, case file or change (policy test, policy simulate, config check)
`;

export const MAIN_HELP = `countersign: register changes with Countersign and wait for senior sign-off, from CI.

Usage:
  countersign submit --title T --service S --environment E --author-github LOGIN [options]
  countersign wait KEY [--sha SHA] [--plan-sha256 H] [--timeout 2h] [--interval 15s]
  countersign audit verify
  countersign policy test FILE... [--config PATH]
  countersign policy simulate --config FILE [--days 30] [--json]
  countersign config check [PATH]
  countersign help [command]

submit, wait, audit and policy simulate talk to a server; policy test and config check run offline.

${ENV}
${EXIT_CODES}`;

export const SUBMIT_HELP = `countersign submit: register a change (POST /api/changes) and print its key, status, risk and reasons.

Usage:
  countersign submit --title T --service S --environment E --author-github LOGIN [options]

Options:
  --title TEXT            what the change does (required)
  --service NAME          a service from the server's config (required; repeat for several)
  --environment NAME      e.g. production (required)
  --author-github LOGIN   the author (or --author-email ADDRESS, --author-slack U0123ABC)
  --plan FILE             a terraform plan as JSON (terraform show -json PLAN > plan.json)
  --ai-assisted           declare the change AI-assisted (otherwise commit trailers, labels
                          and bot authors decide)
  --ai-tool NAME          the assistant, e.g. Copilot
  --label NAME            a label (repeatable)
  --from-git              read the local checkout: the head SHA, the commit messages since
                          --base (for Assisted-by: / Co-authored-by: trailers) and the diff
                          stats and paths of git diff BASE...HEAD
  --base REF              the base for --from-git (default origin/main); when it is missing,
                          the last 50 commits are read instead, with a warning
  --source NAME           the source of the change (default ci)
  --external-id ID        idempotency key with --source (default <repo dir>@<head sha> with
                          --from-git, else ci-<timestamp>); submitting again returns the stored change
  --url URL               a link to the pull request or build
  --description TEXT      a longer description
  --json                  print the API response instead of the summary

In GitHub Actions (GITHUB_OUTPUT set), the step outputs key, status and risk are written too.

${ENV}
Exit codes: 0 registered (new or already known), 4 usage error, connection error, or the
server refused the change (each field problem is printed).
`;

export const WAIT_HELP = `countersign wait: wait until the deploy gate of a change decides.

Usage:
  countersign wait KEY [--sha SHA] [--plan-sha256 H | --plan FILE] [--timeout 2h] [--interval 15s]

Polls GET /api/changes/KEY/gate and prints each status change to stderr.

Options:
  --sha SHA           only pass if the approval covers this commit (409 otherwise)
  --plan-sha256 H     only pass if the approval covers this terraform plan (its plan_sha256)
  --plan FILE         the same, computing the digest from the plan JSON (terraform show -json)
  --timeout DURATION  give up after this long (default 2h); 500ms, 15s, 10m, 2h, 1d
  --interval DURATION time between checks (default 15s)

${ENV}
Exit codes:
  0  approved: the gate is open
  1  rejected, expired or cancelled
  2  timed out while still pending
  3  approved, but for a different commit or plan (stale approval)
  4  usage error, unknown key, bad token, or the server cannot be reached at first
     (once it has answered, connection errors and 5xx are retried until the timeout)
`;

export const AUDIT_HELP = `countersign audit verify: check the tamper-evident audit log.

Usage:
  countersign audit verify [--json]

Calls GET /api/audit/verify: the server seals what is due, recomputes every row's hash in id
order and reports the first broken row by its id.

${ENV}
Exit codes: 0 the chain is intact, 1 the chain is broken (the first broken row is named),
4 usage or connection error.
`;

const CONFIG_ENV = `Environment:
  COUNTERSIGN_CONFIG  the config file when none is given (default ./countersign.yml)
`;

export const POLICY_HELP = `countersign policy test: check the risk policy against test cases, offline.
countersign policy simulate: what a candidate config would have decided for real changes.

Usage:
  countersign policy test FILE... [--config PATH]
  countersign policy simulate --config FILE [--days 30] [--json]

Each FILE (YAML or JSON) holds cases:
  cases:
    - name: junior AI change is high
      change: { ... }        # a POST /api/changes body
      expect: { level: high, approvals_required: 1 }

expect takes any of: level, approvals_required, rules (the names of the matching rules, in
any order), ai_assisted, status (pending or approved). Each change is validated and decided
with the server's own code (schema, config checks, author, AI detection, terraform plan,
blast radius, policy); no server or database is needed.

Prints one line per case (ok or FAIL, a failure with every expected and actual value that
differ and the matching rules with their reasons), then a summary.

Options:
  --config PATH   the config to test (default COUNTERSIGN_CONFIG or ./countersign.yml)

${CONFIG_ENV}
Exit codes: 0 every case passed, 1 a case failed, 4 usage error, an unreadable file, an
invalid config, or an invalid case or change (naming the file, the case and the field).

policy simulate sends the candidate config FILE to the server (POST /api/policy/simulate), which
decides every change registered in the last --days days again under it and under the running
config, from the stored facts, and writes nothing. Prints the totals by level and needing sign-off
(current against candidate), per team, the changes whose level or sign-offs differ (with the
candidate's matching rules), and per senior the sign-off requests per working day: actual, and
expected under the candidate's reviewer assignment.

Options:
  --config FILE   the candidate config (required), YAML as countersign.yml
  --days N        how far back, 1-365 (default 30)
  --json          print the server's answer instead of the tables

${ENV}
Exit codes: 0 simulated, 4 usage error, an unreadable file, an invalid candidate config (every
problem is printed by its key path, e.g. config.policy.rules[0].when), a refused token, a
simulation already running on the server (429), or a server that cannot be reached.
`;

export const CONFIG_HELP = `countersign config check: validate a config file as the server does at start.

Usage:
  countersign config check [PATH]

PATH defaults to COUNTERSIGN_CONFIG or ./countersign.yml. Every problem is named by its key
path, e.g. teams[1].seniors, as the server reports it.

${CONFIG_ENV}
Exit codes: 0 the config is valid, 4 it is missing or invalid (every problem is printed).
`;
