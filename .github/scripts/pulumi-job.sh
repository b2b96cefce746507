#!/usr/bin/env bash
# The `pulumi` commands of the pipeline's jobs (docs/operating.md, "The pipeline"), in one place:
# each workflow's `run:` step calls this, and tests/engine/test_pipeline.py runs the same lines
# with the real engine, each job's environment taken from its workflow. One job per call, on one
# stack (--stack, default prod: what the workflows run):
#
#   pulumi-job.sh pr-preview     [--stack S] [PACK]  preview.yml: a throwaway local state, the
#                                                    observer's keys
#   pulumi-job.sh deploy-preview [--stack S] [PACK]  deploy.yml: preview --refresh of the stack's
#                                                    state
#   pulumi-job.sh drift          [--stack S] [PACK]  drift.yml: refresh --preview-only
#                                                    --expect-no-changes (PACK ignored: refresh
#                                                    takes none)
#   pulumi-job.sh up             [--stack S] [PACK]  deploy.yml: pulumi up, the admin's keys
#
# It runs in the current directory: the Pulumi project (the checkout's root in CI), whose
# Pulumi.<stack>.yaml files are its stacks; a stack without one is refused before pulumi runs.
# The state comes from the environment (PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN,
# PULUMI_CONFIG_PASSPHRASE), MinIO's keys as MINIO_USER/MINIO_PASSWORD; pr-preview makes its own
# state and passphrase. PACK (optional): the guardrail policy pack's directory, given to pulumi
# as --policy-pack.
set -euo pipefail

STACK=prod
usage="usage: pulumi-job.sh pr-preview|deploy-preview|drift|up [--stack STACK] [PACK]"

# A wrong call says what was wrong, then how to call, and exits 2 (as a usage error).
refuse() {
  printf 'pulumi-job.sh: %s\n%s\n' "$1" "$usage" >&2
  exit 2
}

job="${1:-}"
case "$job" in
  pr-preview | deploy-preview | drift | up) shift ;;
  "") refuse "no job given" ;;
  *) refuse "unknown job '$job'" ;;
esac
pack=()
while (($#)); do
  case "$1" in
    --stack)
      (($# >= 2)) || refuse "--stack needs a stack name (e.g. --stack prod)"
      STACK="$2"
      shift 2
      ;;
    --stack=*)
      STACK="${1#--stack=}"
      shift
      ;;
    -*) refuse "unknown option '$1'" ;;
    *)
      ((${#pack[@]} == 0)) || refuse "one policy pack only, got '${pack[1]}' and '$1'"
      pack=(--policy-pack "$1")
      shift
      ;;
  esac
done
# The project's stacks are its Pulumi.<stack>.yaml files: a name with none is a typo (or the
# wrong directory), refused before pulumi could make an empty stack of it.
shopt -s nullglob
known=(Pulumi.?*.yaml)
shopt -u nullglob
known=("${known[@]#Pulumi.}")
known=("${known[@]%.yaml}")
stacks="${known[*]}"
if [[ ! "$STACK" =~ ^[A-Za-z0-9_.-]+$ ]]; then
  refuse "'$STACK' is not a stack name (letters, digits, '-', '_', '.'); this project's stacks: $stacks"
fi
if [[ ! -f "Pulumi.$STACK.yaml" ]]; then
  [[ -n "$stacks" ]] || stacks="none: run it in the directory of Pulumi.yaml"
  refuse "no stack '$STACK' here: $PWD has no Pulumi.$STACK.yaml; this project's stacks: $stacks"
fi

# A pulumi command whose output also goes to the job summary when GitHub gives one: the
# reviewer reads deploy.yml's preview there before approving `up`.
summarized() {
  local log status=0
  log="$(mktemp)"
  pulumi --non-interactive "$@" 2>&1 | tee "$log" || status=$?
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    { printf '### pulumi %s\n\n```\n' "$*"; cat "$log"; printf '```\n'; } >>"$GITHUB_STEP_SUMMARY"
  fi
  rm -f "$log"
  return "$status"
}

case "$job" in
  pr-preview)
    # Production's state is never reachable from a pull request's code (whoever reads it can
    # decrypt every key in it): a local backend and a passphrase made here, gone at exit.
    state="$(mktemp -d)"
    stack_file="Pulumi.$STACK.yaml"
    cp "$stack_file" "$state/stack-file"
    trap 'cp "$state/stack-file" "$stack_file"; rm -rf "$state"' EXIT
    export PULUMI_BACKEND_URL="file://$state/backend"
    mkdir "$state/backend"
    PULUMI_CONFIG_PASSPHRASE="$(openssl rand -hex 32)"
    export PULUMI_CONFIG_PASSPHRASE
    unset PULUMI_ACCESS_TOKEN
    # The stack file's secrets settings belong to production's state (a committed passphrase
    # salt makes `stack init` fail: "incorrect passphrase"); the new stack gets its own. The file
    # is put back as it was at exit.
    sed -i -E '/^(encryptionsalt|encryptedkey|secretsprovider):/d' "$stack_file"
    pulumi --non-interactive stack init "$STACK"
    summarized preview --stack "$STACK" --diff "${pack[@]}"
    ;;
  deploy-preview)
    summarized preview --stack "$STACK" --refresh --run-program --diff "${pack[@]}"
    ;;
  drift)
    # Confirmations skipped (a shell's PULUMI_SKIP_CONFIRMATIONS) mean --yes, which --preview-only
    # refuses. No PACK: `pulumi refresh` takes no --policy-pack ("unknown flag", found by
    # tests/engine/test_pipeline.py); drift judges the server against the state, the guardrails
    # judge the program at every preview and up.
    PULUMI_SKIP_CONFIRMATIONS=false summarized refresh --stack "$STACK" --preview-only --run-program \
      --expect-no-changes --diff
    ;;
  up)
    # --refresh: without it a hand change the state never saw stays (up diffs the program
    # against the state only), and the up would not be what the approved preview showed.
    summarized up --stack "$STACK" --refresh --yes --skip-preview --diff "${pack[@]}"
    ;;
esac
