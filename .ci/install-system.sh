#!/usr/bin/env bash
# Install the system packages HueGIS needs: PostgreSQL with PostGIS, plus the packages named
# as arguments. As root it installs what is missing; otherwise it prints the exact command.
set -euo pipefail

want=("$@")
has_postgis() { ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; }

missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

# Pick the PostgreSQL major already installed, else the distribution's default.
major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
if ! has_postgis; then
  if [ -z "$major" ]; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; fi
    major=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9]*\)$/\1/p' | head -1)
    major=${major:-15}
    missing+=("postgresql-$major")
  fi
  missing+=("postgresql-$major-postgis-3")
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "HueGIS needs system packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "No apt-get: install ${missing[*]} with your package manager, or set DATABASE_URL to an existing PostGIS." >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
