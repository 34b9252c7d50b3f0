#!/usr/bin/env bash
# Builds the Debian packages dist/decnet-agent_<version>_<arch>.deb and dist/decnet-master_<version>_<arch>.deb from a
# release build with the Swift runtime linked statically, so a host needs no Swift toolchain: only the Debian 12
# libraries named in Depends (computed from the binaries by dpkg-shlibdeps).
#
#   scripts/package.sh            build (incrementally, in .build-release) and package
#   scripts/package.sh --no-build package the binaries already in .build-release
#
# The version is the one both binaries print for --version (Sources/CLISupport/DecnetVersion.swift); layout, units
# and maintainer scripts are in packaging/ and described in docs/install.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

build=1
[ "${1:-}" = "--no-build" ] && build=0

fail() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps ldd strip; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install dpkg-dev binutils)"
done

scratch=.build-release
swift_flags=(-c release --static-swift-stdlib --scratch-path "$scratch")
if [ "$build" = 1 ]; then
  for product in decnet-agent decnet-master; do
    log "release build of $product (static Swift runtime)"
    swift build "${swift_flags[@]}" --product "$product"
  done
fi
bin=$(swift build "${swift_flags[@]}" --show-bin-path)
for product in decnet-agent decnet-master; do
  [ -x "$bin/$product" ] || fail "$bin/$product is missing: build first"
done

version=$("$bin/decnet-agent" --version)
[ "$("$bin/decnet-master" --version)" = "$version" ] || fail "decnet-agent and decnet-master print different versions"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || fail "'$version' is not a Debian version"
arch=$(dpkg --print-architecture)

# Nothing of the Swift toolchain may be left to the dynamic loader.
for product in decnet-agent decnet-master; do
  if leftover=$(ldd "$bin/$product" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu'); then
    fail "$product still links the Swift runtime dynamically: $leftover"
  fi
done

work=$(mktemp -d /tmp/decnet-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p dist

# The shared-library dependencies of one binary, as Depends: names and minimum versions from the libraries'
# symbols files. dpkg-shlibdeps wants a debian/control to read, so it runs in a scratch folder.
shlib_depends() {
  local binary
  binary=$(realpath "$1")
  mkdir -p "$work/shlibs/debian"
  printf 'Source: decnet\n\nPackage: decnet\nArchitecture: any\n' >"$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O -e"$binary") | sed -n 's/^shlibs:Depends=//p'
}

# package NAME EXTRA_DEPENDS RECOMMENDS DESCRIPTION_SHORT DESCRIPTION_LONG
package() {
  local name="$1" extra_depends="$2" recommends="$3" summary="$4" long="$5"
  local root="$work/$name"
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/decnet" \
    "$root/usr/share/doc/$name"
  install -m 0755 "$bin/$name" "$root/usr/bin/$name"
  strip --strip-unneeded "$root/usr/bin/$name"
  install -m 0644 "packaging/${name#decnet-}/$name.service" "$root/lib/systemd/system/$name.service"
  install -m 0644 "packaging/${name#decnet-}/${name#decnet-}.json" "$root/etc/decnet/${name#decnet-}.json"
  install -m 0644 docs/install.md "$root/usr/share/doc/$name/install.md"
  for script in postinst prerm postrm; do
    install -m 0755 "packaging/${name#decnet-}/$script" "$root/DEBIAN/$script"
  done
  echo "/etc/decnet/${name#decnet-}.json" >"$root/DEBIAN/conffiles"

  local depends
  depends=$(shlib_depends "$root/usr/bin/$name")
  [ -n "$depends" ] || fail "no shared-library dependencies found for $name"
  [ -n "$extra_depends" ] && depends="$depends, $extra_depends"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: DECNET agent developers <decnet-agent@localhost>"
    echo "Installed-Size: $size"
    echo "Depends: $depends"
    [ -n "$recommends" ] && echo "Recommends: $recommends"
    echo "Section: net"
    echo "Priority: optional"
    echo "Description: $summary"
    printf '%s\n' "$long" | fold -s -w 78 | sed 's/ *$//; s/^/ /'
  } >"$root/DEBIAN/control"
  local deb="dist/${name}_${version}_${arch}.deb"
  # xz level 3: a tenth larger than the default level 6, a third of its time (26 s for the master at 6).
  dpkg-deb --root-owner-group -Zxz -z3 --build "$root" "$deb" >/dev/null
  log "$deb ($(du -h "$deb" | cut -f1)): Depends: $depends${recommends:+; Recommends: $recommends}"
}

package decnet-agent "" "docker.io" \
  "DECNET node agent: applies deception topologies to the local Docker Engine" \
  "Dials a DECNET master over ZeroMQ with CURVE (it listens on nothing, so it works behind NAT), applies the topologies the master pushes to the local Docker Engine over its unix socket, and publishes heartbeats. Runs as a systemd service (Type=notify) configured by /etc/decnet/agent.json; also ships the operator tools hash, validate, compose and local."
# passwd: the postinst makes the decnet system user with groupadd and useradd.
package decnet-master "passwd" "" \
  "DECNET fleet master: drives decnet-agent hosts over ZeroMQ with CURVE" \
  "Serves DECNET agents on ports 8771-8773 (CURVE behind ZAP allow-lists), fans commands out to them, keeps the fleet view from their heartbeats and relays them to monitors. Runs as a systemd service (Type=notify) as the decnet user, configured by /etc/decnet/master.json; operators use decnet-master agents, apply, state, teardown and watch."
