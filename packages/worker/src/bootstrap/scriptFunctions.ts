/**
 * The shell functions a script gets (get_longshore_variable, set_longshore_variable,
 * longshore_progress, longshore_warning), sourced into its shell by the bootstrap before the
 * script. POSIX sh, like the bootstrap, and written the same way (see bootstrapScript.ts).
 * Names starting with __longshore_ are internal; the bootstrap sets __longshore_ws (the
 * workspace), __longshore_records (the numberer's input) and __longshore_lim.
 */
export const SCRIPT_FUNCTIONS = String.raw`. "$__longshore_ws/variables.sh"
. "$__longshore_ws/sensitive.sh"

get_longshore_variable() {
  if [ $# -ne 1 ]; then
    echo "usage: get_longshore_variable NAME" >&2
    return 2
  fi
  __longshore_sensitive_variable "$1" || __longshore_variable "$1"
}

# Base64 with od and awk: the base64 command is not POSIX and many small images lack it.
__longshore_base64() {
  printf '%s' "$1" | od -A n -v -t u1 | LC_ALL=C awk '
    function c(x) { return substr(a, x + 1, 1) }
    BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" }
    {
      for (i = 1; i <= NF; i++) {
        v = v * 256 + $i
        if (++k == 3) {
          printf "%s%s%s%s", c(int(v / 262144)), c(int(v / 4096) % 64), c(int(v / 64) % 64), c(v % 64)
          v = 0; k = 0
        }
      }
    }
    END {
      if (k == 1) printf "%s%s==", c(int(v / 4)), c(v % 4 * 16)
      if (k == 2) printf "%s%s%s=", c(int(v / 1024)), c(int(v / 16) % 64), c(v % 16 * 4)
    }'
}

# Hands a new secret straight to the numberer, so that it is masked from the next line on, even
# in the other stream. Each record is one write of at most LIM bytes, like the taggers'.
__longshore_add_mask() {
  printf '%s\n' "$1" | LC_ALL=C awk -v lim="$__longshore_lim" '
    { sub(/\r$/, "") }
    $0 != "" {
      while (length($0) > lim - 3) { printf "m %s\n", substr($0, 1, lim - 3); fflush(); $0 = substr($0, lim - 2) }
      printf "M %s\n", $0; fflush()
    }' >>"$__longshore_records"
}

set_longshore_variable() {
  if [ $# -lt 2 ] || [ $# -gt 3 ] || [ -z "$1" ]; then
    echo "usage: set_longshore_variable NAME VALUE [sensitive]" >&2
    return 2
  fi
  __longshore_flag=
  if [ $# -eq 3 ]; then
    case $3 in
      sensitive | true) __longshore_flag=" sensitive='true'"; __longshore_add_mask "$2" ;;
      *) echo "set_longshore_variable: the third argument must be 'sensitive'" >&2; return 2 ;;
    esac
  fi
  printf "##longshore[setVariable name='%s' value='%s'%s]\n" \
    "$(__longshore_base64 "$1")" "$(__longshore_base64 "$2")" "$__longshore_flag"
}

longshore_progress() {
  case $# in
    0) set -- x ;;
  esac
  case $1 in
    '' | *[!0-9]*) echo "usage: longshore_progress PERCENT(0-100) MESSAGE" >&2; return 2 ;;
  esac
  if [ "$1" -gt 100 ]; then
    echo "usage: longshore_progress PERCENT(0-100) MESSAGE" >&2
    return 2
  fi
  __longshore_percent=$1
  shift
  printf "##longshore[progress percentage='%s' message='%s']\n" "$__longshore_percent" "$(__longshore_base64 "$*")"
}

longshore_warning() {
  printf "##longshore[warning message='%s']\n" "$(__longshore_base64 "$*")"
}
`;

/** File name of the functions inside the workspace. */
export const SCRIPT_FUNCTIONS_FILE = 'functions.sh';
