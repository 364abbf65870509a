#!/usr/bin/env bash
# Usage: conformance-tests/adapters/java/build.sh OUT_DIR
#
# Builds the Java adapter of the conformance suite (docs/conformance.md): the classes
# io.plait.conformance.* in src/, compiled with javac -parameters (keyword arguments bind by
# parameter name) against plait's runtime jar and its lib/, as OUT_DIR/plait-conformance.jar.
# Builds the runtime first (scripts/setup_java.sh) when it is missing. Incremental: when
# neither the sources nor the runtime jar changed since the last build it does nothing.
# The last line printed is the jar's path.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
jar_out="$out/plait-conformance.jar"
stamp="$out/.plait-conformance-stamp"

runtime_jar() {
  ls "$repo"/java/target/plait-java-*.jar 2>/dev/null | grep -v -e '-sources.jar$' -e '-tests.jar$' \
    | sort | tail -n1
}
if [ -z "$(runtime_jar)" ] || ! ls "$repo"/java/target/lib/*.jar >/dev/null 2>&1; then
  bash "$repo/scripts/setup_java.sh" >&2  # its progress on stderr: stdout ends with the path
fi
rt="$(runtime_jar)"
[ -n "$rt" ] || { echo "build.sh: error: no plait runtime jar in $repo/java/target" >&2; exit 1; }
cp="$rt:$repo/java/target/lib/*"

fingerprint() {
  { javac -version 2>&1; sha256sum "$rt";
    find "$here/src" -name '*.java' -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } \
    | sha256sum | cut -d' ' -f1
}
want="$(fingerprint)"
if [ -f "$jar_out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$jar_out"
  exit 0
fi

echo "build.sh: compiling the Java conformance adapter -> $jar_out" >&2
classes="$out/classes"
rm -rf "$classes"
mkdir -p "$classes"
find "$here/src" -name '*.java' -print0 \
  | xargs -0 javac -parameters -Xlint:all,-serial,-classfile,-processing -Werror \
      -d "$classes" -cp "$cp"
tmp="$jar_out.tmp.$$"
jar cf "$tmp" -C "$classes" .
mv -f "$tmp" "$jar_out"  # atomic: a running cluster never sees half a jar
echo "$want" >"$stamp"
echo "$jar_out"
