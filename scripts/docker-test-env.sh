#!/usr/bin/env bash
# Prepares a Docker Engine for the tests and benchmarks that need one, without any registry; safe to run again:
#   1. installs docker.io and busybox-static from Debian when missing,
#   2. starts dockerd when nothing answers on the socket (waits up to 60 s, prints its log on failure),
#   3. creates the local test images:
#        decnet-test/busybox:latest  `docker import` of a rootfs holding the static busybox and its applet links
#        decnet-test/service:latest  built FROM it with a tiny Dockerfile (so the build path works offline).
# Work already done is skipped; every step says what it did.
set -euo pipefail

IMAGE_REVISION=2  # bump when the rootfs or the service Dockerfile changes: images with an older label are rebuilt
BUSYBOX_IMAGE=decnet-test/busybox:latest
SERVICE_IMAGE=decnet-test/service:latest
APPLETS="sh sleep cat ls ip echo nc httpd true false test [ env mkdir rm kill ps hostname id ifconfig wget printf"
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}

say() { echo "docker-test-env: $*"; }

case "${DOCKER_HOST:-}" in
  "") SOCKET=/var/run/docker.sock ;;
  unix://*) SOCKET=${DOCKER_HOST#unix://} ;;
  *) say "DOCKER_HOST=$DOCKER_HOST is not a unix socket; only unix:// is supported"; exit 1 ;;
esac
export DOCKER_HOST="unix://$SOCKET"

# 1. Packages.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" || missing+=(busybox-static)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/docker-test-env-apt.log 2>&1; then
    apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  say "docker.io and busybox-static already installed"
fi

# 2. The daemon.
answers() { docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }
if answers; then
  say "dockerd already answers on $SOCKET (API $(docker version --format '{{.Server.APIVersion}}'))"
else
  say "starting dockerd (log: $DOCKERD_LOG)"
  if [ "$SOCKET" = /var/run/docker.sock ]; then
    nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  else
    nohup dockerd -H "unix://$SOCKET" >"$DOCKERD_LOG" 2>&1 &
  fi
  for _ in $(seq 1 60); do
    answers && break
    sleep 1
  done
  if ! answers; then
    say "dockerd did not answer on $SOCKET within 60 s; its log:"
    tail -n 80 "$DOCKERD_LOG" || true
    exit 1
  fi
  say "dockerd answers (API $(docker version --format '{{.Server.APIVersion}}'))"
fi

revision_of() { docker image inspect --format '{{ index .Config.Labels "decnet.test.image.revision" }}' "$1" 2>/dev/null || true; }

# 3a. The busybox base image, imported from a rootfs made here.
if [ "$(revision_of "$BUSYBOX_IMAGE")" = "$IMAGE_REVISION" ]; then
  say "$BUSYBOX_IMAGE is up to date"
else
  busybox=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs"/bin "$rootfs"/etc "$rootfs"/tmp "$rootfs"/proc "$rootfs"/sys "$rootfs"/dev "$rootfs"/www
  chmod 1777 "$rootfs"/tmp
  cp "$busybox" "$rootfs"/bin/busybox
  for applet in $APPLETS; do ln -sf busybox "$rootfs/bin/$applet"; done
  echo "root:x:0:0:root:/:/bin/sh" >"$rootfs"/etc/passwd
  echo "root:x:0:" >"$rootfs"/etc/group
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/bin' \
    -c 'CMD ["/bin/sh"]' \
    -c "LABEL decnet.test.image.revision=$IMAGE_REVISION" \
    -m "decnet-agent test base: static busybox" - "$BUSYBOX_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "imported $BUSYBOX_IMAGE from $busybox (applets: $APPLETS)"
fi

# 3b. The service image, built offline with the classic builder.
# Rebuilt when the base was re-imported: the service image records the base image id it was built from.
base_id=$(docker image inspect --format '{{.Id}}' "$BUSYBOX_IMAGE")
built_from=$(docker image inspect --format '{{ index .Config.Labels "decnet.test.base" }}' "$SERVICE_IMAGE" 2>/dev/null || true)
if [ "$(revision_of "$SERVICE_IMAGE")" = "$IMAGE_REVISION" ] && [ "$built_from" = "$base_id" ]; then
  say "$SERVICE_IMAGE is up to date"
else
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
  cat >"$context"/Dockerfile <<EOF
FROM $BUSYBOX_IMAGE
RUN mkdir -p /www && echo decnet-test-service >/www/index.html
EXPOSE 80
LABEL decnet.test.image.revision=$IMAGE_REVISION
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
EOF
  if ! output=$(DOCKER_BUILDKIT=0 docker build -q --label "decnet.test.base=$base_id" -t "$SERVICE_IMAGE" "$context" 2>&1); then
    say "building $SERVICE_IMAGE failed:"
    echo "$output"
    exit 1
  fi
  rm -rf "$context"
  trap - EXIT
  say "built $SERVICE_IMAGE FROM $BUSYBOX_IMAGE"
fi
