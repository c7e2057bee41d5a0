/**
 * The bootstrap every operation runs under, as text: the local executor writes it into the
 * workspace, the Kubernetes executor puts it into the operation's Secret. It lives in a .ts
 * module so that the build (plain tsc) carries it into dist; String.raw keeps its backslashes,
 * and the script avoids backquotes; the one "$" "{" it needs is spelled as an interpolation of '$'.
 */
export const BOOTSTRAP_SCRIPT = String.raw`#!/bin/sh
# Longshore bootstrap: runs one operation's script and turns its output into numbered lines.
#
#   sh WORKSPACE/bootstrap.sh SYNTAX WORK_DIR
#
# WORKSPACE (the directory of this file) holds script, functions.sh, variables.sh, sensitive.sh,
# masks and maybe kubeconfig; in Kubernetes it is a read-only Secret mount, so everything this writes goes to
# WORK_DIR, where the script also runs. Only /bin/sh and POSIX utilities are assumed (dash,
# busybox, bash; mawk, gawk, busybox awk), because a step's execution container can be any image.
#
# Output, one line each:  <n> O <text>  |  <n> E <text>  |  <n> X <exit code>  (last line)
# n counts from 1 over both streams. The reader uses n to drop duplicates and to report gaps
# after resuming a broken log stream, so one process (the numberer) must assign all of them.
#
# Pipeline:  script stdout -> tagger O --+
#            script stderr -> tagger E --+--> records fifo -> numberer (masks, numbers) -> cat -> stdout
# The ticker writes into both taggers' input; new secrets (set_longshore_variable ... sensitive)
# and the end marker go straight into the records fifo.
# Taggers write whole records of at most LIM bytes in one write(2) each: a pipe write of at most
# PIPE_BUF bytes (512 or more, POSIX) is atomic, so records of the two streams never mix
# mid-line. Longer lines travel as continuation records (o/e) and are joined by the numberer.
# LIM also stays under the smallest stdio buffer we know (musl: 1024), so stdio never flushes
# on its own in the middle of a record.
# A write per line costs a syscall per line (about 3x slower in a flood), so output is forwarded
# line by line only while it is quiet (up to BURST lines per tick); in a burst, records go in
# blocks. The ticker writes a tick (\001 + newline) into both output fifos every 0.2 s and the
# taggers flush what they hold when they read it, so a line waits at most one tick. A line of
# the script that itself ends in \001 is joined to the next one: the price of awk having no timer.
# A numbered line is at most MAXLINE bytes; a longer one is split into several.
if [ $# -ne 2 ]; then
  echo "usage: sh bootstrap.sh sh|bash WORK_DIR" >&2
  exit 2
fi
syntax=$1
work=$2
for tool in awk od mkfifo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "longshore: the bootstrap needs '$tool', which this image lacks (it needs /bin/sh and the POSIX utilities awk, od, mkfifo)" >&2
    exit 127
  fi
done
# Parameter expansion, not dirname or cd+pwd: each fork costs milliseconds on every operation.
case $0 in
  /*/*) ws=${'$'}{0%/*} ;;
  */*) ws=$PWD/${'$'}{0%/*} ;;
  *) ws=$PWD ;;
esac
if [ -f "$ws/kubeconfig" ]; then
  KUBECONFIG=$ws/kubeconfig
  export KUBECONFIG
fi

d=$work/.longshore-bootstrap
if [ -e "$d" ]; then rm -rf "$d"; fi
if ! { mkdir -m 700 "$d" && mkfifo "$d/out" "$d/err" "$d/records" "$d/numbered"; }; then
  echo "longshore: cannot create the bootstrap's fifos in $d (the work directory must be writable)" >&2
  exit 1
fi
LIM=512
BURST=1000
MAXLINE=65536

# Forward termination to the script and keep going, so its last lines and the end marker still
# come out (Kubernetes sends TERM to this shell, pid 1, when the pod is deleted).
script=
stopping=
trap 'stopping=1; if [ -n "$script" ]; then kill -TERM $script 2>/dev/null; fi' TERM INT HUP

# mawk fills its whole input buffer before it looks at a record, which would hold short output
# back indefinitely; -W interactive makes it take what the pipe has. It also makes stdout
# unbuffered (and print writes a line in two pieces), so every awk here writes to a named path.
# A worker that knows its awk says which it is (LONGSHORE_AWK_VERSION), sparing each operation
# the two processes of asking; in an arbitrary image, awk is asked.
if [ -n "$LONGSHORE_AWK_VERSION" ]; then awk_version=$LONGSHORE_AWK_VERSION; else awk_version=$(awk -W version 2>&1 </dev/null); fi
case $awk_version in
  *mawk*) live='-W interactive' ;;
  *) live= ;;
esac

# The numberer: the only process that assigns line numbers; masks every line just before.
# Quiet output is passed on at once; in a burst (more than BURST lines between two ticks) it
# is written in blocks and flushed at the next tick.
# shellcheck disable=SC2086
LC_ALL=C awk $live -v masks="$ws/masks" -v burst=$BURST -v maxline=$MAXLINE -v out="$d/numbered" '
  function addmask(m,   i) {
    if (m == "" || m in known) return
    known[m] = 1
    # Longest first, so a secret that contains another is masked whole (as makeMasker does).
    for (i = ++nm; i > 1 && length(mk[i - 1]) < length(m); i--) mk[i] = mk[i - 1]
    mk[i] = m
  }
  function mask(s,   i, m, p, r) {
    for (i = 1; i <= nm; i++) {
      m = mk[i]
      if (!index(s, m)) continue
      r = ""
      while ((p = index(s, m)) > 0) { r = r substr(s, 1, p - 1) "********"; s = substr(s, p + length(m)) }
      s = r s
    }
    return s
  }
  function emit(t, s,   i) {
    if (np && part[t] != "") { s = part[t] s; part[t] = ""; np-- }
    for (i = 1; i <= nm; i++) if (index(s, mk[i])) { s = mask(s); break }
    print ++n, t, s > out
  }
  # Emits the head of a line that grew past maxline, masked; keeps a tail as long as the longest
  # secret, so a secret that straddles the cut is masked with the next piece.
  function cut(t,   s, k) {
    s = nm ? mask(part[t]) : part[t]
    k = maxline - (nm ? length(mk[1]) : 0)
    if (k < 1024) k = 1024
    while (k > 1 && substr(s, k + 1, 1) >= "\200" && substr(s, k + 1, 1) < "\300") k--
    print ++n, t, substr(s, 1, k) > out
    part[t] = substr(s, k + 1)
  }
  BEGIN { while ((getline m < masks) > 0) { sub(/\r$/, "", m); addmask(m) } }
  /^[OE] / {
    if (np || nm) emit(substr($0, 1, 1), substr($0, 3))
    else print ++n, $0 > out
    if (++c <= burst) fflush(out)
    next
  }
  $0 == "T" { fflush(out); c = 0; next }
  /^[oe] / {
    t = toupper(substr($0, 1, 1))
    if (part[t] == "") np++
    part[t] = part[t] substr($0, 3)
    if (length(part[t]) >= maxline) cut(t)
    next
  }
  /^m / { pm = pm substr($0, 3); next }
  /^M / { addmask(pm substr($0, 3)); pm = ""; next }
  /^X / {
    if (part["O"] != "") emit("O", "")
    if (part["E"] != "") emit("E", "")
    print ++n, $0 > out
    exit
  }
  { emit("E", "longshore: unexpected bootstrap record: " $0) }
' <"$d/records" &
numberer=$!
cat "$d/numbered" &
forwarder=$!
exec 4>"$d/records"

# A tagger: one stream of the script's output in, whole records of at most lim bytes out, each
# in one write (see the top). Like the numberer, it forwards quiet output line by line.
tagger='
  BEGIN { ctag = tolower(t); max = lim - 3 }
  function put(s) {
    if ((len += length(s) + 1) > lim) { fflush(out); len = length(s) + 1 }
    print s > out
  }
  function long(s) {
    while (length(s) > max) { put(ctag " " substr(s, 1, max)); c++; s = substr(s, max + 1) }
    return s
  }
  /\001$/ {
    p = long(p substr($0, 1, length($0) - 1))
    if (c) { put("T"); fflush(out); len = 0; c = 0 }
    next
  }
  {
    if (p != "") { $0 = p $0; p = "" }
    if ((l = length($0)) > max) { put(t " " long($0)) }
    else {
      if ((len += l + 3) > lim) { fflush(out); len = l + 3 }
      print t, $0 > out
    }
    if (++c <= burst) { fflush(out); len = 0 }
  }
  END { if (p != "") put(t " " p) }
'
# shellcheck disable=SC2086
LC_ALL=C awk $live -v t=O -v lim=$LIM -v burst=$BURST -v out="$d/records" "$tagger" <"$d/out" 4>&- &
tag_out=$!
# shellcheck disable=SC2086
LC_ALL=C awk $live -v t=E -v lim=$LIM -v burst=$BURST -v out="$d/records" "$tagger" <"$d/err" 4>&- &
tag_err=$!
exec 5>"$d/out" 6>"$d/err"

(
  cd "$work" || exit 1
  case $syntax in
    sh | bash) ;;
    *)
      echo "longshore: unknown script syntax '$syntax' (expected sh or bash)" >&2
      exit 127
      ;;
  esac
  if ! command -v "$syntax" >/dev/null 2>&1; then
    echo "longshore: the script uses $syntax syntax, but this image has no $syntax; install it in the execution container or write the script for sh" >&2
    exit 127
  fi
  # The functions, then the script, sourced in one shell: the script keeps its own $0 and exit.
  exec "$syntax" -c '__longshore_ws=$2 __longshore_records=$3 __longshore_lim=$4; . "$1"; shift 4; . "$0"' \
    "$ws/script" "$ws/functions.sh" "$ws" "$d/records" "$LIM"
) >&5 2>&6 4>&- 5>&- 6>&- &
script=$!
if [ -n "$stopping" ]; then kill -TERM $script 2>/dev/null; fi

# It ends with this shell ($$ is this shell's pid in a subshell too), or it would hold the
# taggers' input open forever after a kill.
(
  # POSIX sleep takes whole seconds; most take fractions. Probing first would cost every
  # operation a sleep, so a sleep that refuses 0.2 falls back to 1 here.
  while { sleep 0.2 2>/dev/null || sleep 1; } 5>&- 6>&- && kill -0 $$ 2>/dev/null; do
    printf '\001\n' >&5
    printf '\001\n' >&6
  done
) >/dev/null 2>&1 4>&- &
ticker=$!
exec 5>&- 6>&-

# A trap cuts wait short (with a status above 128), hence the loop. dash's wait prints
# "Terminated" for a job a signal ended, once per job, outside the numbered lines; the exit
# code already says it, and a stopped step would print it for the script and each tagger.
reap() {
  wait "$1" 2>/dev/null
  reaped=$?
  while [ "$reaped" -gt 128 ] && kill -0 "$1" 2>/dev/null; do
    wait "$1" 2>/dev/null
    reaped=$?
  done
}
reap $script
code=$reaped
# KILL: a subshell forked a moment ago may still run this shell's TERM trap instead of dying.
kill -KILL $ticker 2>/dev/null
reap $tag_out
reap $tag_err
printf 'X %s\n' "$code" >&4
exec 4>&-
reap $numberer
reap $forwarder
rm -rf "$d"
exit "$code"
`;

/** File name of the bootstrap inside the workspace. */
export const BOOTSTRAP_FILE = 'bootstrap.sh';

/**
 * The command that runs an operation: `sh` from the image, the bootstrap from the (possibly
 * read-only) workspace, and the writable work directory where the script runs.
 */
export function bootstrapCommand(syntax: 'sh' | 'bash', workspaceDir: string, workDir: string): string[] {
  return ['sh', `${workspaceDir}/${BOOTSTRAP_FILE}`, syntax, workDir];
}
