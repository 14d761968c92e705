# shellcheck shell=bash
# Shared by aws/*.sh: flag parsing. Flags take "--flag VALUE" or "--flag=VALUE".
#   parse_flags SETTER "$@"
# calls `usage; exit 0` on -h/--help and `SETTER FLAG VALUE` for every other flag; the caller
# defines usage, die (one-line error, non-zero exit) and SETTER (dies on an unknown flag).
parse_flags() {
  local setter=$1 arg flag value
  shift
  while (($# > 0)); do
    arg=$1
    shift
    case "$arg" in
      -h | --help)
        usage
        exit 0
        ;;
      --*=*)
        flag=${arg%%=*}
        value=${arg#*=}
        ;;
      --*)
        flag=$arg
        if (($# == 0)) || [[ "$1" == --* ]]; then
          die "$flag needs a value (see --help)"
        fi
        value=$1
        shift
        ;;
      *) die "unexpected argument '$arg' (see --help)" ;;
    esac
    "$setter" "$flag" "$value"
  done
}
