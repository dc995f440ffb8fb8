# synthorg-shim: the static init, built the way `make` builds it, in a
# FROM-scratch image that shows how it is meant to run.
#
# BuildKit is required (build secrets, bind mounts). No "# syntax=" line on
# purpose: the daemon's built-in Dockerfile frontend is used, so the build
# never pulls a frontend image.
#
# With a registry (the builder installs its tools with apt and downloads
# the pinned sources when build/sources lacks them):
#
#   DOCKER_BUILDKIT=1 docker build -t synthorg-shim .
#
# Offline (this repository's CI): fetch the pinned sources once, make the
# builder base from the Debian archive, then build without any network:
#
#   scripts/build-deps --fetch-only          # -> build/sources
#   base=$(scripts/mk-builder-image)         # debootstrap + docker import
#   DOCKER_BUILDKIT=1 docker build --network=none \
#       --build-arg BUILDER_IMAGE="$base" -t synthorg-shim .
#
# Release builds embed the write-only Logfire token. It arrives as a build
# secret, so it lands in no layer, no build argument and no history; only
# the shim binary carries it:
#
#   DOCKER_BUILDKIT=1 docker build --secret id=logfire_token,src=TOKEN_FILE \
#       --build-arg EMBED_BUILD_ID="$(date +%s%N)" \
#       --build-arg DEPLOYMENT_ENV=prod -t synthorg-shim:RELEASE .
#
# EMBED_BUILD_ID matters: BuildKit leaves secrets out of its cache key, so
# without a value that changes per build, a build may reuse the binary that
# an earlier build embedded with another token, or with none (a release
# without its token, or a dev image with one). Give it the CI run's ID, or
# build with --no-cache.
#
# Without the secret the binary keeps the no-token sentinel, and enabling
# telemetry logs `telemetry.token.missing` instead of reporting.

# A pinned Debian bookworm image for users with a registry; offline builds
# pass the image scripts/mk-builder-image made.
ARG BUILDER_IMAGE=debian:bookworm-20250520-slim

FROM ${BUILDER_IMAGE} AS builder

# The dependency cache of scripts/build-deps, inside this stage only.
ENV SYNTHORG_CACHE=/var/cache/synthorg-shim
WORKDIR /src

# The build tools, from one list (scripts/mk-builder-image
# --print-packages). A base that already has them all (the offline one)
# makes this step a no-op that needs no network; otherwise apt installs
# the missing ones from the base's own Debian sources.
RUN --mount=type=bind,source=scripts/mk-builder-image,target=/tmp/mk-builder-image \
	set -eu; \
	missing=; \
	for p in $(sh /tmp/mk-builder-image --print-packages); do \
		dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | \
			grep -q '^ii' || missing="$missing $p"; \
	done; \
	if [ -n "$missing" ]; then \
		echo "installing:$missing"; \
		apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends $missing; \
		rm -rf /var/lib/apt/lists/*; \
	fi; \
	test -s /etc/ssl/certs/ca-certificates.crt

# The static libraries first, in their own layer: it changes only with the
# lock, the script or the sources, not with every edit to the shim. The
# glob copies build/sources when the context has it (even partly) and
# nothing otherwise; build-deps verifies every file against the lock and
# downloads what is missing. Make would run build-deps itself; running it
# here first only keeps its layer apart.
COPY scripts/build-deps scripts/deps.lock scripts/
COPY buil[d]/source[s] build/sources/
RUN scripts/build-deps

COPY Makefile ./
COPY shim/ shim/
# The version line names the commit when one is given (the context holds
# no .git): --build-arg SHIM_GIT_COMMIT=$(git rev-parse --short=12 HEAD)
ARG SHIM_GIT_COMMIT=
RUN set -eu; \
	case $SHIM_GIT_COMMIT in \
	'') make -j"$(nproc)" ;; \
	*[!0-9a-f]*) echo "SHIM_GIT_COMMIT must be a hex commit id" >&2; exit 1 ;; \
	*) make -j"$(nproc)" GIT="$SHIM_GIT_COMMIT" ;; \
	esac

# The token is mounted for this one step, from the secret, never a layer.
# Its absence (no --secret) gives the plain build; a secret that is present
# but empty fails, as it means a broken release pipeline.
ARG LOGFIRE_BASE_URL=
ARG EMBED_BUILD_ID=
RUN --mount=type=secret,id=logfire_token \
	--mount=type=bind,source=scripts/embed-token,target=/src/scripts/embed-token \
	set -eu; \
	install -d -m 0750 /out/data; \
	if [ -e /run/secrets/logfire_token ]; then \
		if [ -n "$LOGFIRE_BASE_URL" ]; then \
			scripts/embed-token \
				--token-file /run/secrets/logfire_token \
				--base-url "$LOGFIRE_BASE_URL" \
				build/synthorg-shim /out/synthorg-shim; \
		else \
			scripts/embed-token \
				--token-file /run/secrets/logfire_token \
				build/synthorg-shim /out/synthorg-shim; \
		fi; \
	else \
		echo "no logfire_token secret: the shim keeps the no-token sentinel"; \
		cp build/synthorg-shim /out/synthorg-shim; \
	fi

# The intended use: the shim as PID 1 of a FROM-scratch image, as a
# non-root user, its deployment ID on a volume that user owns. Operators
# usually copy the shim into their own application image instead:
#
#   FROM your-app-image
#   COPY --from=synthorg-shim:RELEASE /synthorg-shim /synthorg-shim
#   ARG DEPLOYMENT_ENV=prod
#   ENV SYNTHORG_TELEMETRY_ENV_BAKED=$DEPLOYMENT_ENV
#   USER 65532:65532
#   ENTRYPOINT ["/synthorg-shim", "--"]
#   CMD ["/usr/local/bin/your-app", "--your-flags"]
#
# and give it a /data owned by that user (a volume: SYNTHORG_DATA_DIR).
# Images built FROM this one only add their app and a CMD.
FROM scratch AS shim

ARG DEPLOYMENT_ENV=dev
ENV SYNTHORG_TELEMETRY_ENV_BAKED=${DEPLOYMENT_ENV}

COPY --from=builder /out/synthorg-shim /synthorg-shim
# Owned by the runtime user: a fresh named volume mounted here takes this
# directory's owner and mode, so the shim can write its telemetry_id.
COPY --from=builder --chown=65532:65532 /out/data /data

LABEL org.opencontainers.image.title="synthorg-shim" \
	org.opencontainers.image.description="Static container init (PID 1) with opt-in deployment telemetry" \
	org.opencontainers.image.licenses="MIT"

USER 65532:65532
VOLUME ["/data"]
ENTRYPOINT ["/synthorg-shim", "--"]
