# shellcheck shell=bash
# Starts a throwaway PostgreSQL for the tests of sdk/store/postgres and
# exports STEPGRAPH_TEST_POSTGRES_URL. Meant to be sourced:
#
#   source .ci/postgres.sh && go test ./sdk/store/postgres/
#
# - Installs PostgreSQL from Debian's packages when no server binaries exist.
# - Initialises a cluster in $STEPGRAPH_PG_DIR (default /tmp/stepgraph-pg)
#   owned by the postgres user, trust authentication, loopback only.
# - Starts it on $STEPGRAPH_PG_PORT (default 55432), socket in /tmp.
# - Idempotent: a server already answering on the port is reused when it
#   accepts our superuser; otherwise the next free port (up to +9) is used.
# - Creates the database stepgraph_test.
# It never fails the caller's shell: on any problem it prints why and leaves
# STEPGRAPH_TEST_POSTGRES_URL unset, so the database tests skip.

_sg_pg_main() {
  local dir="${STEPGRAPH_PG_DIR:-/tmp/stepgraph-pg}"
  local port="${STEPGRAPH_PG_PORT:-55432}"
  local db="stepgraph_test"
  local bindir=""

  _sg_pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
      if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
        echo "$d"
        return 0
      fi
    done
    return 1
  }

  if ! bindir=$(_sg_pg_bindir); then
    echo "postgres.sh: installing PostgreSQL from Debian packages"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      echo "postgres.sh: could not install postgresql; database tests will skip" >&2
      return 1
    fi
    if ! bindir=$(_sg_pg_bindir); then
      echo "postgres.sh: postgresql installed but no initdb found; database tests will skip" >&2
      return 1
    fi
  fi

  local run=()
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "postgres.sh: no postgres user; database tests will skip" >&2
      return 1
    fi
    run=(runuser -u postgres --)
  fi
  local superuser
  superuser=$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)

  _sg_pg_accepts() { # port: does the server on port let our superuser in?
    "$bindir/psql" -h 127.0.0.1 -p "$1" -U "$superuser" -d postgres -Atqc 'select 1' >/dev/null 2>&1
  }
  _sg_pg_listening() {
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$1" >/dev/null 2>&1
    local rc=$?
    # 0 accepting, 1 rejecting (starting up), 2 no response
    [ "$rc" -ne 2 ]
  }

  local try chosen=""
  for try in $(seq "$port" $((port + 9))); do
    if _sg_pg_listening "$try"; then
      # Something answers: ours (from an earlier source) or a server that
      # trusts our superuser is fine; wait briefly if it is starting.
      local i
      for i in 1 2 3 4 5 6 7 8 9 10; do
        if _sg_pg_accepts "$try"; then chosen=$try; break; fi
        sleep 0.3
      done
      [ -n "$chosen" ] && break
      echo "postgres.sh: port $try is taken by a server we cannot use; trying the next port" >&2
      continue
    fi
    # Nothing listens: start our cluster here.
    if [ ! -s "$dir/PG_VERSION" ]; then
      rm -rf "$dir"
      mkdir -p "$dir"
      [ "${#run[@]}" -gt 0 ] && chown postgres:postgres "$dir"
      chmod 700 "$dir"
      if ! "${run[@]}" "$bindir/initdb" -D "$dir" -U "$superuser" --auth=trust -E UTF8 --locale=C.UTF-8 >"/tmp/stepgraph-pg-initdb.log" 2>&1 &&
        ! "${run[@]}" "$bindir/initdb" -D "$dir" -U "$superuser" --auth=trust -E UTF8 --no-locale >"/tmp/stepgraph-pg-initdb.log" 2>&1; then
        echo "postgres.sh: initdb failed (see /tmp/stepgraph-pg-initdb.log); database tests will skip" >&2
        return 1
      fi
    fi
    # A server of this cluster may still run on another port (an earlier
    # source with a different port): stop it first.
    if "${run[@]}" "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      "${run[@]}" "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -f "$dir/postmaster.pid" 2>/dev/null || true
    if "${run[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $try -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" \
      start >/dev/null 2>&1; then
      chosen=$try
      break
    fi
    echo "postgres.sh: could not start PostgreSQL on port $try (see $dir/server.log)" >&2
  done
  if [ -z "$chosen" ]; then
    echo "postgres.sh: no usable PostgreSQL; database tests will skip" >&2
    return 1
  fi

  if [ "$("$bindir/psql" -h 127.0.0.1 -p "$chosen" -U "$superuser" -d postgres -Atqc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
    "$bindir/psql" -h 127.0.0.1 -p "$chosen" -U "$superuser" -d postgres -qc "create database $db" >/dev/null 2>&1 || true
  fi
  export STEPGRAPH_TEST_POSTGRES_URL="postgres://$superuser@127.0.0.1:$chosen/$db?sslmode=disable"
  echo "postgres.sh: STEPGRAPH_TEST_POSTGRES_URL=$STEPGRAPH_TEST_POSTGRES_URL ($("$bindir/postgres" --version))"
}

_sg_pg_main || true
unset -f _sg_pg_main _sg_pg_bindir _sg_pg_accepts _sg_pg_listening 2>/dev/null || true
