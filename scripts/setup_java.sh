#!/usr/bin/env bash
# Usage: scripts/setup_java.sh [--test]
#
# Build plait's Java side: the runtime jar java/target/plait-java-<version>.jar with its
# dependencies in java/target/lib/ (the class path python/plait/_java/jvm.py starts the
# JVM with), and the example classes as build/java-examples/plait-examples.jar.
#
# Installs a JDK (17+) and Maven with apt-get when they are missing. Idempotent: when no
# source changed since the last build (a hash of java/ and examples/java/) it exits at
# once. The first build downloads the Maven dependencies into ~/.m2; later builds are
# offline-friendly (Maven finds everything in its local repository).
#
# --test also runs the JUnit suite (mvn test) and prints "java: N passed, N failed".
set -euo pipefail
RUN_TESTS=0
[ "${1:-}" = "--test" ] && RUN_TESTS=1

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "setup_java: $*"; }
die() { echo "setup_java: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}

java_major() {
  java -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

missing=()
if ! command -v javac >/dev/null || ! command -v jar >/dev/null \
   || [ "$(java_major 2>/dev/null || echo 0)" -lt 17 ]; then
  missing+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Maven prints colour codes even when quiet: keep its output for failures only.
run_mvn() {
  local log
  log=$(mktemp)
  if ! mvn -q -B -f java/pom.xml "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "mvn $* failed (output above)"
  fi
  rm -f "$log"
}

run_tests() {
  run_mvn test
  # Surefire's own summary is silenced by -q: count its reports instead.
  python3 - java/target/surefire-reports <<'PY'
import pathlib, re, sys
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for report in pathlib.Path(sys.argv[1]).glob("TEST-*.xml"):
    head = re.search(r"<testsuite [^>]*>", report.read_text()).group(0)
    for key in counts:
        counts[key] += int(re.search(rf'\b{key}="(\d+)"', head).group(1))
failed = counts["failures"] + counts["errors"]
passed = counts["tests"] - failed - counts["skipped"]
print(f"java: {passed} passed, {failed} failed, {counts['skipped']} skipped")
PY
}

STAMP=java/target/.plait-build-stamp
EXAMPLES=build/java-examples
fingerprint() {
  { java -version 2>&1; find java/pom.xml java/src/main examples/java -type f -print0 \
      | LC_ALL=C sort -z | xargs -0 cat --; } | sha256sum | cut -d' ' -f1
}
want=$(fingerprint)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && ls java/target/plait-java-*.jar >/dev/null 2>&1 \
   && [ -f "$EXAMPLES/plait-examples.jar" ]; then
  [ "$RUN_TESTS" = 1 ] && run_tests
  exit 0
fi

say "building java/ (mvn package)"
rm -rf java/target/lib  # copy-dependencies adds jars, never removes stale ones
# Sources and javadoc jars are for publishing (`mvn verify`); the class path needs neither.
run_mvn package -DskipTests -Dmaven.source.skip -Dmaven.javadoc.skip
jar_path=$(ls java/target/plait-java-*.jar | grep -v -e '-sources.jar$' -e '-javadoc.jar$' | head -n1)

say "building examples/java -> $EXAMPLES/plait-examples.jar"
rm -rf "$EXAMPLES"
mkdir -p "$EXAMPLES/classes"
# -parameters keeps parameter names, so keyword arguments bind (Counter.label).
find examples/java -name '*.java' -print0 \
  | xargs -0 javac -parameters -Xlint:all,-serial -Werror -d "$EXAMPLES/classes" -cp "$jar_path"
jar cf "$EXAMPLES/plait-examples.jar" -C "$EXAMPLES/classes" .
echo "$want" >"$STAMP"
say "done"
[ "$RUN_TESTS" = 1 ] && run_tests
exit 0
